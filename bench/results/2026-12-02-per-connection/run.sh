#!/usr/bin/env bash
# The runs behind bench/results/2026-12-02-per-connection.md: server RSS per idle connection for each accept path
# (and the GC table's three collectors), with the committed load generator, one server at a time on a free
# loopback port. Build first (from the repository root):
#   dotnet build bench/Halley.BenchReport/bench.slnx -c Release --artifacts-path artifacts/bench -v quiet -clp:ErrorsOnly -nologo
# Usage (from the repository root): bench/results/2026-12-02-per-connection/run.sh [ROUNDS]
# Every server and load-generator command is appended to commands.log before it runs.
set -euo pipefail
out=bench/results/2026-12-02-per-connection
rounds=${1:-2}
art=artifacts/bench/bin
SERVER="$art/Halley.Server/release/Halley.Server.dll"
KESTREL="$art/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll"
LOAD="$art/Halley.LoadTest/release/Halley.LoadTest.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
server_pid=""
trap '[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true' EXIT

free_port() { local p; while :; do p=$(( 20000 + RANDOM % 12000 )); ss -Htan | awk '{print $4}' | grep -q ":$p\$" || { echo "$p"; return; }; done; }

# case NAME PROTOCOL PATH ENV SERVER-DLL [server args] -- load-generator args
one() {
  local name=$1 protocol=$2 path=$3 envs=$4 dll=$5; shift 5
  local sargs=() port log
  while [ "$1" != "--" ]; do sargs+=("$1"); shift; done; shift
  port=$(free_port)
  log="$out/$name.server.log"
  echo "env $envs dotnet $dll --urls http://127.0.0.1:$port ${sargs[*]}" | tee -a "$out/commands.log"
  env $envs dotnet "$dll" --urls "http://127.0.0.1:$port" "${sargs[@]}" > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do grep -qi "listening on" "$log" && break; sleep 0.2; done
  echo "timeout 300 dotnet $LOAD run --protocol $protocol --url http://127.0.0.1:$port$path --server-pid $server_pid --label $name --out $out/$name.json $*" | tee -a "$out/commands.log"
  timeout 300 dotnet "$LOAD" run --protocol "$protocol" --url "http://127.0.0.1:$port$path" --server-pid "$server_pid" \
    --label "$name" --out "$out/$name.json" "$@" > "$out/$name.load.log" 2>&1 || echo "  (load generator exit $?)" | tee -a "$out/commands.log"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

idle=(--scenario idle --steps 1000,5000 --workers 2 --rooms 100)
fanout=(--scenario fanout --connections 2000 --duration 8 --workers 1)
{ echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) cores $(nproc) loadavg $(cut -d' ' -f1-3 /proc/loadavg)"; } >> "$out/commands.log"
for r in $(seq "$rounds"); do
  # Accept paths: connection level (halley serve's default), the HTTP pipeline, ASP.NET Core's plain loop, a long-poll.
  one "idle-connection-level-r$r" halley-ws /cometd "DOTNET_gcServer=0" "$SERVER" -- "${idle[@]}"
  one "idle-http-pipeline-r$r"    halley-ws /cometd "DOTNET_gcServer=0" "$SERVER" --Halley:WebSockets:AcceptAtConnectionLevel=false -- "${idle[@]}"
  one "idle-kestrel-ws-r$r"       kestrel-ws ""     "DOTNET_gcServer=0" "$KESTREL" -- "${idle[@]}"
  one "idle-long-poll-r$r"        halley-lp /cometd "DOTNET_gcServer=0" "$SERVER" -- "${idle[@]}"
  # Garbage collectors: idle RSS (workstation is the connection-level run above) and fan-out throughput.
  one "idle-gc-server-r$r"        halley-ws /cometd "DOTNET_gcServer=1" "$SERVER" -- "${idle[@]}"
  one "idle-gc-conserve5-r$r"     halley-ws /cometd "DOTNET_GCConserveMemory=5" "$SERVER" -- "${idle[@]}"
  one "fanout-gc-workstation-r$r" halley-ws /cometd "DOTNET_gcServer=0" "$SERVER" --Halley:MaxQueue=100000 -- "${fanout[@]}"
  one "fanout-gc-server-r$r"      halley-ws /cometd "DOTNET_gcServer=1" "$SERVER" --Halley:MaxQueue=100000 -- "${fanout[@]}"
  one "fanout-gc-conserve5-r$r"   halley-ws /cometd "DOTNET_GCConserveMemory=5" "$SERVER" --Halley:MaxQueue=100000 -- "${fanout[@]}"
done
echo "# finished $(date -u +%FT%TZ) loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/commands.log"
