# server (halley-ws, pid 1227)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:29450 --Halley:MaxQueue=100000
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:29450/cometd --server-pid 1227 --label fanout-http4--halley-ws --out bench/results/2026-12-05/fanout-http4--halley-ws.json --scenario fanout --connections 10000 --duration 20 --workers 3 --payload-bytes 100 --publish-via http --publishers 4
