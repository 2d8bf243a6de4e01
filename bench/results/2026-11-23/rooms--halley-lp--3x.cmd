# server (halley-lp, pid 8401)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:23121
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-lp --url http://127.0.0.1:23121/cometd --server-pid 8401 --label rooms--halley-lp--3x --out bench/results/2026-11-23/rooms--halley-lp--3x.json --scenario rooms --connections 1000 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 20 --rate 1389
