# server (halley-ws, pid 16329)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:25456
# load generator (bounded: timeout 180s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:25456/cometd --server-pid 16329 --label idle--halley-ws --out bench/results/2026-12-02-quick/idle--halley-ws.json --scenario idle --steps 500\,2000 --workers 2 --rooms 100
