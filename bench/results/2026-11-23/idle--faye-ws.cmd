# server (faye-ws, pid 5032)
bench/peers/start-peer.sh faye 26029
# load generator (bounded: timeout 270s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-ws --url http://127.0.0.1:26029/faye --server-pid 5032 --label idle--faye-ws --out bench/results/2026-11-23/idle--faye-ws.json --scenario idle --steps 1000\,5000\,10000\,19000 --workers 5 --rooms 100
