# server (halley-ws, pid 11705)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:24363 --Halley:MaxQueue=100000
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:24363/cometd --server-pid 11705 --label fanout-channels--halley-ws --out bench/results/2026-12-05/fanout-channels--halley-ws.json --scenario fanout --connections 10000 --channels 100 --duration 20 --workers 3 --payload-bytes 100 --publish-via http --publishers 1
