# server (halley-ws, pid 12472)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:21044
# load generator (bounded: timeout 150s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:21044/cometd --server-pid 12472 --label latency--halley-ws --out bench/results/2026-12-05/latency--halley-ws.json --scenario latency --connections 10000 --duration 30 --rate 2 --workers 3 --payload-bytes 100 --publish-via http --publishers 1
