# server (kestrel-ws, pid 32609)
dotnet artifacts/bench/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll --urls http://127.0.0.1:29011
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:29011 --server-pid 32609 --label fanout-inflight--kestrel-ws --out bench/results/2026-12-02-quick/fanout-inflight--kestrel-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50 --publish-via session --in-flight 16
