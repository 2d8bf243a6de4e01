# server (signalr, pid 31497)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:23755
# load generator (bounded: timeout 126s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:23755 --server-pid 31497 --label latency--signalr --out bench/results/2026-11-23-quick/latency--signalr.json --scenario latency --connections 1000 --duration 6 --rate 2 --workers 2 --payload-bytes 50
