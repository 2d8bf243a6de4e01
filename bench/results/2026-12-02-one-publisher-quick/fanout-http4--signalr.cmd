# server (signalr, pid 610)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:23129
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:23129 --server-pid 610 --label fanout-http4--signalr --out bench/results/2026-12-02-quick/fanout-http4--signalr.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 100 --publish-via http --publishers 4
