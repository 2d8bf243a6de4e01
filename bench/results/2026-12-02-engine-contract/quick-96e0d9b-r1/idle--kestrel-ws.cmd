# server (kestrel-ws, pid 1954)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:31631
# load generator (bounded: timeout 180s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:31631 --server-pid 1954 --label idle--kestrel-ws --out bench/results/2026-12-02-quick/idle--kestrel-ws.json --scenario idle --steps 500\,2000 --workers 2 --rooms 100
