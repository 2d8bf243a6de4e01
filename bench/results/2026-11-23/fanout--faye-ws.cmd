# server (faye-ws, pid 12968)
bench/peers/start-peer.sh faye 28841
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-ws --url http://127.0.0.1:28841/faye --server-pid 12968 --label fanout--faye-ws --out bench/results/2026-11-23/fanout--faye-ws.json --scenario fanout --connections 10000 --duration 20 --workers 3 --payload-bytes 50 --publishers 4
