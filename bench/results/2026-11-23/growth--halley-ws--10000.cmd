# server (halley-ws, pid 9134)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:22490 --Halley:MaxQueue=100000
# load generator (bounded: timeout 170s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:22490/cometd --server-pid 9134 --label growth--halley-ws--10000 --out bench/results/2026-11-23/growth--halley-ws--10000.json --scenario rooms --connections 10000 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 20 --workers 5
