# server (kestrel-ws, pid 21173)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:29302
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:29302 --server-pid 21173 --label fanout--kestrel-ws --out bench/results/2026-12-02-quick/fanout--kestrel-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50
