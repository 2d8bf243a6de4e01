# server (kestrel-ws, pid 11442)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:25114
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:25114 --server-pid 11442 --label fanout--kestrel-ws --out bench/results/2026-12-05/fanout--kestrel-ws.json --scenario fanout --connections 10000 --duration 20 --workers 3 --payload-bytes 100 --publish-via http --publishers 1
