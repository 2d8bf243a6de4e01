# server (signalr, pid 13982)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:24822
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:24822 --server-pid 13982 --label fanout--signalr --out bench/results/2026-12-02-quick/fanout--signalr.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50
