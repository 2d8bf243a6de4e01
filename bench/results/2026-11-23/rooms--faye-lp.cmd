# server (faye-lp, pid 8044)
bench/peers/start-peer.sh faye 20856
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-lp --url http://127.0.0.1:20856/faye --server-pid 8044 --label rooms--faye-lp --out bench/results/2026-11-23/rooms--faye-lp.json --scenario rooms --connections 1000 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 20
