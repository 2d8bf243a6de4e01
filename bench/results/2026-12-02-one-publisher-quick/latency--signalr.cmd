# server (signalr, pid 1948)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:24246
# load generator (bounded: timeout 126s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:24246 --server-pid 1948 --label latency--signalr --out bench/results/2026-12-02-quick/latency--signalr.json --scenario latency --connections 1000 --duration 6 --rate 2 --workers 2 --payload-bytes 100 --publish-via http --publishers 1
