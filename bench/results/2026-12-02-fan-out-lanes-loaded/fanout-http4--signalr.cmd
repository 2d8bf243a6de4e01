# server (signalr, pid 20405)
dotnet artifacts/bench/bin/SignalRPeer/release/SignalRPeer.dll --urls http://127.0.0.1:27786
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol signalr --url http://127.0.0.1:27786 --server-pid 20405 --label fanout-http4--signalr --out bench/results/2026-12-02/fanout-http4--signalr.json --scenario fanout --connections 10000 --duration 20 --workers 3 --payload-bytes 100 --publish-via http --publishers 4
