# server (faye-ws, pid 26447)
bench/peers/start-peer.sh faye 29054
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-ws --url http://127.0.0.1:29054/faye --server-pid 26447 --label fanout--faye-ws --out bench/results/2026-12-02-quick/fanout--faye-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50 --publishers 4
