# server (kestrel-ws, pid 31805)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:31011
# load generator (bounded: timeout 126s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:31011 --server-pid 31805 --label latency--kestrel-ws --out bench/results/2026-11-23-quick/latency--kestrel-ws.json --scenario latency --connections 1000 --duration 6 --rate 2 --workers 2 --payload-bytes 50
