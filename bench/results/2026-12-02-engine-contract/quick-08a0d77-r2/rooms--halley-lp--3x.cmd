# server (halley-lp, pid 18831)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:23706
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-lp --url http://127.0.0.1:23706/cometd --server-pid 18831 --label rooms--halley-lp--3x --out bench/results/2026-12-02-quick/rooms--halley-lp--3x.json --scenario rooms --connections 500 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 3 --rate 1148
