# server (halley-ws, pid 1100)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:22761 --Halley:MaxQueue=100000
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:22761/cometd --server-pid 1100 --label fanout-channels--halley-ws --out bench/results/2026-12-02-quick/fanout-channels--halley-ws.json --scenario fanout --connections 1000 --channels 10 --duration 3 --workers 2 --payload-bytes 100 --publish-via http --publishers 1
