# server (halley-lp, pid 8215)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:20549
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-lp --url http://127.0.0.1:20549/cometd --server-pid 8215 --label rooms--halley-lp --out bench/results/2026-11-23/rooms--halley-lp.json --scenario rooms --connections 1000 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 20
