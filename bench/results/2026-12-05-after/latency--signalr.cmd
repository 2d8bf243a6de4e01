# server (signalr, pid 12787)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:25458
# load generator (bounded: timeout 150s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:25458 --server-pid 12787 --label latency--signalr --out bench/results/2026-12-05/latency--signalr.json --scenario latency --connections 10000 --duration 30 --rate 2 --workers 3 --payload-bytes 100 --publish-via http --publishers 1
