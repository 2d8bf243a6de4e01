# server (signalr, pid 3280)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:31132
# load generator (bounded: timeout 270s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:31132 --server-pid 3280 --label idle--signalr --out bench/results/2026-12-05/idle--signalr.json --scenario idle --steps 1000\,5000\,10000\,19000 --workers 5 --rooms 100
