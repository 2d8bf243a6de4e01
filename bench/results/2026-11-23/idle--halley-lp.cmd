# server (halley-lp, pid 5297)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:29351
# load generator (bounded: timeout 270s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-lp --url http://127.0.0.1:29351/cometd --server-pid 5297 --label idle--halley-lp --out bench/results/2026-11-23/idle--halley-lp.json --scenario idle --steps 1000\,5000\,10000\,19000 --workers 5 --rooms 100
