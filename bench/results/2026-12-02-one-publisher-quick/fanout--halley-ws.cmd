# server (halley-ws, pid 31475)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:22482 --Halley:MaxQueue=100000
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:22482/cometd --server-pid 31475 --label fanout--halley-ws --out bench/results/2026-12-02-quick/fanout--halley-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 100 --publish-via http --publishers 1
