# server (kestrel-ws, pid 13097)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:26985
# load generator (bounded: timeout 150s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:26985 --server-pid 13097 --label latency--kestrel-ws --out bench/results/2026-12-05/latency--kestrel-ws.json --scenario latency --connections 10000 --duration 30 --rate 2 --workers 3 --payload-bytes 100 --publish-via http --publishers 1
