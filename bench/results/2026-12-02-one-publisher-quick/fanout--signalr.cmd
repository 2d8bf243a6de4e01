# server (signalr, pid 31722)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:26643
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:26643 --server-pid 31722 --label fanout--signalr --out bench/results/2026-12-02-quick/fanout--signalr.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 100 --publish-via http --publishers 1
