# server (pushpin, pid 21556)
bench/peers/start-peer.sh pushpin 23857
# load generator (bounded: timeout 123s)
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol kestrel-ws --url http://127.0.0.1:23857 --server-pid 21556 --label fanout--pushpin --out bench/results/2026-12-02-quick/fanout--pushpin.json --scenario fanout --connections 1000 --duration 3 --workers 2 --payload-bytes 50 --open-concurrency 8
