# server (kestrel-ws, pid 10539)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:23475
# load generator (bounded: timeout 135s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:23475 --server-pid 10539 --label connect-one--kestrel-ws --out bench/results/2026-12-05/connect-one--kestrel-ws.json --scenario idle --steps 19000 --workers 5 --rooms 1
