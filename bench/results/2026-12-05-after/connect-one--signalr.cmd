# server (signalr, pid 10173)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:28423
# load generator (bounded: timeout 135s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:28423 --server-pid 10173 --label connect-one--signalr --out bench/results/2026-12-05/connect-one--signalr.json --scenario idle --steps 19000 --workers 5 --rooms 1
