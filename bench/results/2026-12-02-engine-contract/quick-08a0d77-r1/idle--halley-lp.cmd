# server (halley-lp, pid 21959)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:30257
# load generator (bounded: timeout 180s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-lp --url http://127.0.0.1:30257/cometd --server-pid 21959 --label idle--halley-lp --out bench/results/2026-12-02-quick/idle--halley-lp.json --scenario idle --steps 500\,2000 --workers 2 --rooms 100
