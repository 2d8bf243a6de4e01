# server (kestrel-ws, pid 18179)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:22100
# load generator (bounded: timeout 270s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:22100 --server-pid 18179 --label idle--kestrel-ws --out bench/results/2026-12-05/idle--kestrel-ws.json --scenario idle --steps 1000\,5000\,10000\,19000 --workers 5 --rooms 100
