# server (faye-ws, pid 31017)
bench/peers/start-peer.sh faye 21200
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-ws --url http://127.0.0.1:21200/faye --server-pid 31017 --label fanout--faye-ws --out bench/results/2026-11-23-quick/fanout--faye-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50
