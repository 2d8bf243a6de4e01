# server (halley-ws, pid 1624)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:21511
# load generator (bounded: timeout 126s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:21511/cometd --server-pid 1624 --label latency--halley-ws --out bench/results/2026-12-02-quick/latency--halley-ws.json --scenario latency --connections 1000 --duration 6 --rate 2 --workers 2 --payload-bytes 100 --publish-via http --publishers 1
