# server (signalr, pid 12465)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:26548
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:26548 --server-pid 12465 --label fanout--signalr --out bench/results/2026-11-23/fanout--signalr.json --scenario fanout --connections 10000 --duration 20 --workers 3 --payload-bytes 50
