# server (halley-ws, pid 15287)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:28501 --Halley:MaxQueue=100000
# load generator (bounded: timeout 153s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:28501/cometd --server-pid 15287 --label growth--halley-ws--2000 --out bench/results/2026-12-02-quick/growth--halley-ws--2000.json --scenario rooms --connections 2000 --rooms 100 --rooms-per-client 10 --payload-bytes 50 --duration 3 --workers 2
