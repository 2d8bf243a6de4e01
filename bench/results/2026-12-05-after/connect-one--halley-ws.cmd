# server (halley-ws, pid 9830)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:27264
# load generator (bounded: timeout 135s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:27264/cometd --server-pid 9830 --label connect-one--halley-ws --out bench/results/2026-12-05/connect-one--halley-ws.json --scenario idle --steps 19000 --workers 5 --rooms 1
