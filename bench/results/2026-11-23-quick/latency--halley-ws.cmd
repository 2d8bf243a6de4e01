# server (halley-ws, pid 31321)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:22149
# load generator (bounded: timeout 126s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:22149/cometd --server-pid 31321 --label latency--halley-ws --out bench/results/2026-11-23-quick/latency--halley-ws.json --scenario latency --connections 1000 --duration 6 --rate 2 --workers 2 --payload-bytes 50
