# server (halley-ws, pid 17570)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:26484
# load generator (bounded: timeout 270s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:26484/cometd --server-pid 17570 --label idle--halley-ws --out bench/results/2026-12-05/idle--halley-ws.json --scenario idle --steps 1000\,5000\,10000\,19000 --workers 5 --rooms 100
