# server (kestrel-ws, pid 2180)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:30696
# load generator (bounded: timeout 126s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:30696 --server-pid 2180 --label latency--kestrel-ws --out bench/results/2026-12-02-quick/latency--kestrel-ws.json --scenario latency --connections 1000 --duration 6 --rate 2 --workers 2 --payload-bytes 100 --publish-via http --publishers 1
