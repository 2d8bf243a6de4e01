# server (faye-ws, pid 21327)
bench/peers/start-peer.sh faye 28268
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-ws --url http://127.0.0.1:28268/faye --server-pid 21327 --label fanout--faye-ws --out bench/results/2026-12-02-quick/fanout--faye-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50 --publishers 4
