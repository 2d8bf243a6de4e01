# server (halley-lp, pid 14832)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:24986
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-lp --url http://127.0.0.1:24986/cometd --server-pid 14832 --label rooms--halley-lp --out bench/results/2026-12-02-quick/rooms--halley-lp.json --scenario rooms --connections 500 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 3
