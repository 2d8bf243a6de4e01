# server (faye-ws, pid 18076)
bench/peers/start-peer.sh faye 27474
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-ws --url http://127.0.0.1:27474/faye --server-pid 18076 --label fanout--faye-ws --out bench/results/2026-12-02-quick/fanout--faye-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50 --publishers 4
