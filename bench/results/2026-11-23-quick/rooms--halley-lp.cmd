# server (halley-lp, pid 32139)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:28687
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-lp --url http://127.0.0.1:28687/cometd --server-pid 32139 --label rooms--halley-lp --out bench/results/2026-11-23-quick/rooms--halley-lp.json --scenario rooms --connections 500 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 3
