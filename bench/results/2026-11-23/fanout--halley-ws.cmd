# server (halley-ws, pid 12223)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:28560 --Halley:MaxQueue=100000
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:28560/cometd --server-pid 12223 --label fanout--halley-ws --out bench/results/2026-11-23/fanout--halley-ws.json --scenario fanout --connections 10000 --duration 20 --workers 3 --payload-bytes 50 --publishers 4
