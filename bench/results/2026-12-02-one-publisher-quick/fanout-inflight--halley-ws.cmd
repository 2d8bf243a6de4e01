# server (halley-ws, pid 32259)
dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:29272 --Halley:MaxQueue=100000
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:29272/cometd --server-pid 32259 --label fanout-inflight--halley-ws --out bench/results/2026-12-02-quick/fanout-inflight--halley-ws.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50 --publish-via session --in-flight 16 --publishers 4
