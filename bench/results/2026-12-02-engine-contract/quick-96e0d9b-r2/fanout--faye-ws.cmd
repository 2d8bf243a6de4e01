# server (faye-ws, pid 14299)
bench/peers/start-peer.sh faye 28308
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-ws --url http://127.0.0.1:28308/faye --server-pid 14299 --label fanout--faye-ws --out bench/results/2026-12-02-quick/fanout--faye-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50 --publishers 4
