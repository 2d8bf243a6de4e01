#!/bin/bash
# profile halley server during the one-publisher fanout
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
PORT=$((20000 + RANDOM % 10000))
export PATH=$PATH:/root/.dotnet/tools
setsid dotnet artifacts/bench/bin/Halley.Server/release/Halley.Server.dll --urls http://127.0.0.1:$PORT --Halley:MaxQueue=100000 > ${OUT:-/tmp}/prof-server.log 2>&1 &
SPID=$!
for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:$PORT/ && break; sleep 0.2; done
dotnet artifacts/bench/bin/Halley.LoadTest/release/Halley.LoadTest.dll run --protocol halley-ws --url http://127.0.0.1:$PORT/cometd --server-pid $SPID --label prof --out ${OUT:-/tmp}/prof.json --scenario fanout --connections 10000 --duration 30 --workers 3 --payload-bytes 100 --publish-via http --publishers ${PUBS:-1} ${EXTRA} > ${OUT:-/tmp}/prof-load.log 2>&1 &
LPID=$!
# wait until publishing
for i in $(seq 120); do grep -q 'publishing' ${OUT:-/tmp}/prof-load.log && break; sleep 1; done
sleep 3
dotnet-trace collect-linux -p $SPID --profile cpu-sampling --duration 00:00:00:12 --format speedscope -o ${OUT:-/tmp}/prof.nettrace > ${OUT:-/tmp}/prof-trace.log 2>&1 || dotnet-trace collect -p $SPID --profile dotnet-sampled-thread-time --duration 00:00:00:12 --format speedscope -o ${OUT:-/tmp}/prof.nettrace >> ${OUT:-/tmp}/prof-trace.log 2>&1
wait $LPID
kill -TERM -$SPID 2>/dev/null
tail -3 ${OUT:-/tmp}/prof-load.log
ls -la ${OUT:-/tmp}/prof*
