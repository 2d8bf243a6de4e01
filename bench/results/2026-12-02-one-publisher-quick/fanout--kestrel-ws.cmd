# server (kestrel-ws, pid 31992)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:20254
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:20254 --server-pid 31992 --label fanout--kestrel-ws --out bench/results/2026-12-02-quick/fanout--kestrel-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 100 --publish-via http --publishers 1
