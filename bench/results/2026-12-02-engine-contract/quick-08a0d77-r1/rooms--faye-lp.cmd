# server (faye-lp, pid 27999)
bench/peers/start-peer.sh faye 22741
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-lp --url http://127.0.0.1:22741/faye --server-pid 27999 --label rooms--faye-lp --out bench/results/2026-12-02-quick/rooms--faye-lp.json --scenario rooms --connections 500 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 3
