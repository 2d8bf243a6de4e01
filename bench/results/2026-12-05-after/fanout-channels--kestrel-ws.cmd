# server (kestrel-ws, pid 12229)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:23702
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:23702 --server-pid 12229 --label fanout-channels--kestrel-ws --out bench/results/2026-12-05/fanout-channels--kestrel-ws.json --scenario fanout --connections 10000 --channels 100 --duration 20 --workers 3 --payload-bytes 100 --publish-via http --publishers 1
