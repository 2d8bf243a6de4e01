# server (faye-ws, pid 3184)
bench/peers/start-peer.sh faye 20976
# load generator (bounded: timeout 180s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol bayeux-ws --url http://127.0.0.1:20976/faye --server-pid 3184 --label idle--faye-ws --out bench/results/2026-12-02-quick/idle--faye-ws.json --scenario idle --steps 500\,2000 --workers 2 --rooms 100
