# server (halley-ws, pid 19242)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:31899
# load generator (bounded: timeout 180s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:31899/cometd --server-pid 19242 --label idle--halley-ws --out bench/results/2026-12-02-quick/idle--halley-ws.json --scenario idle --steps 500\,2000 --workers 2 --rooms 100
