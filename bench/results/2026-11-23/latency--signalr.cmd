# server (signalr, pid 13941)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:21470
# load generator (bounded: timeout 150s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:21470 --server-pid 13941 --label latency--signalr --out bench/results/2026-11-23/latency--signalr.json --scenario latency --connections 10000 --duration 30 --rate 2 --workers 3 --payload-bytes 50
