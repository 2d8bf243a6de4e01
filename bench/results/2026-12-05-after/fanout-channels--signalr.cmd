# server (signalr, pid 11961)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:23927
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:23927 --server-pid 11961 --label fanout-channels--signalr --out bench/results/2026-12-05/fanout-channels--signalr.json --scenario fanout --connections 10000 --channels 100 --duration 20 --workers 3 --payload-bytes 100 --publish-via http --publishers 1
