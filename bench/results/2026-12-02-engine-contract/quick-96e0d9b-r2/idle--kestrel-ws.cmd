# server (kestrel-ws, pid 10949)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:24369
# load generator (bounded: timeout 180s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:24369 --server-pid 10949 --label idle--kestrel-ws --out bench/results/2026-12-02-quick/idle--kestrel-ws.json --scenario idle --steps 500\,2000 --workers 2 --rooms 100
