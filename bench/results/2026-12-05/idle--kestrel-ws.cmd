# server (kestrel-ws, pid 3661)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:21764
# load generator (bounded: timeout 270s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:21764 --server-pid 3661 --label idle--kestrel-ws --out bench/results/2026-12-05/idle--kestrel-ws.json --scenario idle --steps 1000\,5000\,10000\,19000 --workers 5 --rooms 100
