# server (signalr, pid 32445)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:31931
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:31931 --server-pid 32445 --label fanout-inflight--signalr --out bench/results/2026-12-02-quick/fanout-inflight--signalr.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50 --publish-via session --in-flight 16
