# server (signalr, pid 1271)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:23143
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:23143 --server-pid 1271 --label fanout-channels--signalr --out bench/results/2026-12-02-quick/fanout-channels--signalr.json --scenario fanout --connections 1000 --channels 10 --duration 3 --workers 2 --payload-bytes 100 --publish-via http --publishers 1
