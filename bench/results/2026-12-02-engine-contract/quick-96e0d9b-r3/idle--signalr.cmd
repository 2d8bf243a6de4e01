# server (signalr, pid 19757)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:21502
# load generator (bounded: timeout 180s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:21502 --server-pid 19757 --label idle--signalr --out bench/results/2026-12-02-quick/idle--signalr.json --scenario idle --steps 500\,2000 --workers 2 --rooms 100
