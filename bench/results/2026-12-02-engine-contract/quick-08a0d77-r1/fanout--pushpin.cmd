# server (pushpin, pid 26848)
bench/peers/start-peer.sh pushpin 26428
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:26428 --server-pid 26848 --label fanout--pushpin --out bench/results/2026-12-02-quick/fanout--pushpin.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50 --open-concurrency 8
