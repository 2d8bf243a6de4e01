# server (pushpin, pid 13253)
bench/peers/start-peer.sh pushpin 21944
# load generator (bounded: timeout 140s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:21944 --server-pid 13253 --label fanout--pushpin --out bench/results/2026-11-23/fanout--pushpin.json --scenario fanout --connections 10000 --duration 20 --workers 3 --payload-bytes 50 --open-concurrency 8
