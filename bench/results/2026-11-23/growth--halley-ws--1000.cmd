# server (halley-ws, pid 8582)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:23170 --Halley:MaxQueue=100000
# load generator (bounded: timeout 170s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:23170/cometd --server-pid 8582 --label growth--halley-ws--1000 --out bench/results/2026-11-23/growth--halley-ws--1000.json --scenario rooms --connections 1000 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 20 --workers 5
