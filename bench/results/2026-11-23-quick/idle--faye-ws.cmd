# server (faye-ws, pid 29018)
bench/peers/start-peer.sh faye 23287
# load generator (bounded: timeout 180s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-ws --url http://127.0.0.1:23287/faye --server-pid 29018 --label idle--faye-ws --out bench/results/2026-11-23-quick/idle--faye-ws.json --scenario idle --steps 500\,2000 --workers 2 --rooms 100
