# server (kestrel-ws, pid 1446)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:21567
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:21567 --server-pid 1446 --label fanout-channels--kestrel-ws --out bench/results/2026-12-02-quick/fanout-channels--kestrel-ws.json --scenario fanout --connections 1000 --channels 10 --duration 3 --workers 2 --payload-bytes 100 --publish-via http --publishers 1
