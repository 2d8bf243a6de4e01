# server (signalr, pid 32198)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:21922
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:21922 --server-pid 32198 --label fanout--signalr --out bench/results/2026-12-05/fanout--signalr.json --scenario fanout --connections 10000 --duration 20 --workers 3 --payload-bytes 100 --publish-via http --publishers 1
