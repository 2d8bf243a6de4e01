# server (halley-ws, pid 10864)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:23010 --Halley:MaxQueue=100000
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:23010/cometd --server-pid 10864 --label fanout--halley-ws --out bench/results/2026-12-05/fanout--halley-ws.json --scenario fanout --connections 10000 --duration 20 --workers 3 --payload-bytes 100 --publish-via http --publishers 1
