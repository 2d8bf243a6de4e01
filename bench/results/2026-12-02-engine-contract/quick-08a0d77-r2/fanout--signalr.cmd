# server (signalr, pid 17752)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:29905
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:29905 --server-pid 17752 --label fanout--signalr --out bench/results/2026-12-02-quick/fanout--signalr.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50
