#!/usr/bin/env bash
# Side-by-side performance comparison of Halley with its peers (SignalR, a plain Kestrel WebSocket loop, Faye,
# Pushpin), issue 3. Builds everything (Release, into artifacts/bench), then for each scenario starts ONE target at a
# time on a free loopback port, waits for it to listen, runs the load generator against it (with --server-pid, so the
# server's RSS is read), stops it, and goes on with the next target. Results (one JSON per run, the exact commands, the
# logs) go to bench/results/<date>[-quick]/; the report, with its ratios and charts, to bench/results/<date>[-quick].md.
#
# Usage: bench/compare.sh [--quick] [--only idle,fanout,...] [--targets halley-ws,signalr,...]
#   --quick    the same matrix shrunk for development (about 5 minutes); fanout-http4 and fanout-channels run in
#              --quick only when --only names them
#   --only     run only these scenarios (the report covers what ran): idle connect-one fanout fanout-inflight fanout-http4
#              fanout-channels latency rooms growth
#   --targets  run only these targets (halley-ws halley-lp signalr kestrel-ws faye-ws faye-lp pushpin)
# See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

quick=0
all_scenarios="idle,connect-one,fanout,fanout-inflight,fanout-http4,fanout-channels,latency,rooms,growth"
only="$all_scenarios"
only_given=0
only_targets=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --only) only=${2:?--only needs a list}; only_given=1; shift ;;
    --targets) only_targets=${2:?--targets needs a list}; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# ------------------------------------------------------------------------------------------------ the matrix
if [ "$quick" -eq 1 ]; then
  name="$(date -u +%F)-quick"
  idle_steps=500,2000;   idle_workers=2
  connect_steps=2000
  lp_steps=500,2000;     lp_workers=2
  fanout_subs=1000;      fanout_duration=3;  fanout_workers=2
  latency_subs=1000;     latency_duration=6; latency_rate=2; latency_workers=2
  fanout_channels=10     # 10 channels x 100 subscribers (the full run: 100 x 100)
  rooms_clients=500;     rooms_duration=3
  growth_points=(500 2000); growth_duration=3; growth_workers=2
else
  name="$(date -u +%F)"
  idle_steps=1000,5000,10000,19000; idle_workers=5
  connect_steps=19000    # issue 10: 19,000 subscribers of one channel, opened in one go
  lp_steps=1000,5000,10000,19000;   lp_workers=5
  fanout_subs=10000;     fanout_duration=20; fanout_workers=3
  latency_subs=10000;    latency_duration=30; latency_rate=2; latency_workers=3
  fanout_channels=100    # 100 channels x 100 subscribers
  rooms_clients=1000;    rooms_duration=20
  growth_points=(1000 5000 10000 19000); growth_duration=20; growth_workers=5
fi
rooms_count=100; rooms_per_client=10; payload=50
# Issue 10's scenario: 100-byte messages from backends over HTTP (fanout, fanout-http4, fanout-channels, latency).
# fanout-inflight keeps issue 3's 50-byte messages, so it stays comparable with the earlier reports.
http_payload=100
growth_rooms=100; growth_rooms_per_client=10

out="$repo/bench/results/$name"
report="$repo/bench/results/$name.md"
art="$repo/artifacts/bench"
SERVER_DLL="$art/bin/Halley.Server/release/Halley.Server.dll"
LOAD_DLL="$art/bin/Halley.LoadTest/release/Halley.LoadTest.dll"
REPORT_DLL="$art/bin/Halley.BenchReport/release/Halley.BenchReport.dll"
SIGNALR_DLL="$art/bin/SignalRPeer/release/SignalRPeer.dll"
KESTREL_DLL="$art/bin/KestrelWebSocketPeer/release/KestrelWebSocketPeer.dll"

partial=0
[ "$only" != "$all_scenarios" ] || [ -n "$only_targets" ] && partial=1
if [ "$partial" -eq 0 ]; then
  rm -rf "$out"   # a whole run starts afresh; --only / --targets replace just their own results in the directory
fi
mkdir -p "$out"
started_epoch=$(date +%s)
if [ "$partial" -eq 0 ]; then
  : > "$out/commands.log"
  : > "$out/notes.txt"
fi
touch "$out/commands.log" "$out/notes.txt"
: > "$out/build.cmd"

say() { printf '[%4ss] %s\n' "$(( $(date +%s) - started_epoch ))" "$*"; }
note() { echo "- $*" >> "$out/notes.txt"; say "note: $*"; }
rel() { local p=$1; echo "${p#"$repo"/}"; }
# Prints a command line, shell-quoted, with absolute repo paths made relative.
quote() { local s; s=$(printf '%q ' "$@"); s=${s% }; echo "${s//"$repo"\//}"; }
wants() { [[ ",$only," == *",$1,"* ]]; }
# The full run's extra fan-out variants: always in the full run, in --quick only when --only names them.
wants_extra() { wants "$1" && { [ "$quick" -eq 0 ] || [ "$only_given" -eq 1 ]; }; }
wants_target() { [ -z "$only_targets" ] || [[ ",$only_targets," == *",$1,"* ]]; }

# ------------------------------------------------------------------------------------------------ cleanup
current_pid=""      # the running target (its own session and process group: setsid)
sampler_pid=""
load_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$load_pid" ] && kill -TERM "$load_pid" 2>/dev/null || true
  [ -n "$sampler_pid" ] && kill -TERM "$sampler_pid" 2>/dev/null || true
  [ -n "$current_pid" ] && stop_target || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------------------------------------ ports
# A free loopback port P such that P..P+span-1 are all free (Pushpin uses PORT, PORT+1, PORT+2).
used_ports() { ss -Htan 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | sort -u; }
free_port() {
  local span=${1:-1} used p i ok
  used=$(used_ports)
  for _ in $(seq 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    ok=1
    for ((i = 0; i < span; i++)); do
      if grep -qx "$((p + i))" <<<"$used"; then ok=0; break; fi
    done
    [ "$ok" -eq 1 ] && { echo "$p"; return 0; }
  done
  echo "compare.sh: no free port found" >&2
  return 1
}

# ------------------------------------------------------------------------------------------------ build
say "building into $(rel "$art") ($name)"
build_cmd=(dotnet build bench/Halley.BenchReport/bench.slnx -c Release --artifacts-path artifacts/bench -v quiet -clp:ErrorsOnly -nologo)
quote "${build_cmd[@]}" >> "$out/build.cmd"
quote "${build_cmd[@]}" >> "$out/commands.log"
if ! "${build_cmd[@]}" > "$out/build.log" 2>&1; then
  echo "compare.sh: the build failed:" >&2
  tail -n 40 "$out/build.log" >&2
  exit 1
fi
if [ ! -f bench/peers/faye/node_modules/faye/package.json ] || [ bench/peers/faye/package-lock.json -nt bench/peers/faye/node_modules/.package-lock.json ]; then
  say "npm ci (Faye peer)"
  echo "(cd bench/peers/faye && npm ci --no-audit --no-fund)" | tee -a "$out/build.cmd" >> "$out/commands.log"
  (cd bench/peers/faye && npm ci --no-audit --no-fund) > "$out/npm.log" 2>&1 || { echo "compare.sh: npm ci failed:" >&2; tail -n 20 "$out/npm.log" >&2; exit 1; }
fi
have_pushpin=1
if ! command -v pushpin > /dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    say "installing pushpin (apt-get)"
    echo "DEBIAN_FRONTEND=noninteractive apt-get install -y pushpin" | tee -a "$out/build.cmd" >> "$out/commands.log"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y pushpin > "$out/apt.log" 2>&1; then
      (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y pushpin) >> "$out/apt.log" 2>&1 || have_pushpin=0
    fi
  else
    have_pushpin=0
  fi
  [ "$have_pushpin" -eq 1 ] || note "Pushpin is not installed and could not be installed (needs root and apt): skipped."
fi

# ------------------------------------------------------------------------------------------------ the machine
{
  echo "mode=$([ "$quick" -eq 1 ] && echo quick || echo full)"
  echo "date=$(date -u +%F)"
  echo "started=$(date -u +%FT%TZ)"
  echo "commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' (working tree has uncommitted changes)')"
  # The server under test: the last commit that changed src/ (bench/ changes on top of it do not change the servers).
  echo "src=$(git -C "$repo" log -1 --format=%h -- src 2>/dev/null || echo unknown)$(git -C "$repo" --no-optional-locks status --porcelain --untracked-files=no -- src 2>/dev/null | grep -q . && echo ' (src/ has uncommitted changes)')"
  echo "cores=$(nproc)"
  echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "kernel=$(uname -r)"
  echo "sdk=$(dotnet --version 2>/dev/null)"
  echo "node=$(node --version 2>/dev/null || echo none)"
  echo "pushpin=$(pushpin --version 2>/dev/null | head -n 1 || echo none)"
  echo "nofile=$(ulimit -n)"
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/meta.txt"

# ------------------------------------------------------------------------------------------------ targets
# start_target TARGET [extra server args...]: starts it in its own session on a free port, sets current_pid, port,
# url, protocol, server_cmd; returns 1 (after a note) when it does not listen within 90 s.
start_target() {
  local target=$1; shift
  local cmd
  port=$(free_port 3)
  case "$target" in
    halley-ws|halley-lp)
      cmd=(dotnet "$SERVER_DLL" --urls "http://127.0.0.1:$port" "$@")
      url="http://127.0.0.1:$port/cometd"; protocol=$target ;;
    signalr)
      cmd=(dotnet "$SIGNALR_DLL" --urls "http://127.0.0.1:$port")
      url="http://127.0.0.1:$port"; protocol=signalr ;;
    kestrel-ws)
      cmd=(dotnet "$KESTREL_DLL" --urls "http://127.0.0.1:$port")
      url="http://127.0.0.1:$port"; protocol=kestrel-ws ;;
    faye-ws|faye-lp)
      cmd=(bench/peers/start-peer.sh faye "$port")
      url="http://127.0.0.1:$port/faye"; protocol=$([ "$target" = faye-ws ] && echo bayeux-ws || echo bayeux-lp) ;;
    pushpin)
      cmd=(bench/peers/start-peer.sh pushpin "$port")
      url="http://127.0.0.1:$port"; protocol=kestrel-ws ;;
    *) echo "compare.sh: unknown target $target" >&2; return 1 ;;
  esac
  server_cmd=$(quote "${cmd[@]}")
  server_log="$out/$stem.server.log"
  # setsid (no fork: a background job of a script is not a group leader) then exec: $! is the server's pid, and the
  # server leads its own session and process group, so stopping it stops its children too (Pushpin's).
  (exec setsid "${cmd[@]}") > "$server_log" 2>&1 < /dev/null &
  current_pid=$!
  local deadline=$(( $(date +%s) + 90 ))
  while :; do
    if ! kill -0 "$current_pid" 2>/dev/null; then
      note "$stem: $target exited before listening (see $(rel "$server_log"))"
      current_pid=""
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && grep -qi "listening on" "$server_log"; then
      break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      note "$stem: $target did not listen within 90 s (see $(rel "$server_log"))"
      stop_target
      return 1
    fi
    sleep 0.2
  done
  return 0
}

stop_target() {
  local pid=$current_pid
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  # The group's stragglers (Pushpin's children, the GRIP backend), then the leader if it is still there.
  if kill -0 -- "-$pid" 2>/dev/null; then
    sleep 1
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  current_pid=""
  rm -rf "/tmp/halley-pushpin-$port"
}

# Samples, once a second, the summed RSS of every process in the target's session (for Pushpin: the runner, condure,
# pushpin-proxy, pushpin-handler, zurl and the Node backend); writes "<peak KiB> <processes>" to FILE.
start_sampler() {
  local sid=$1 file=$2
  (
    peak=0; procs=0
    while kill -0 "$sid" 2>/dev/null; do
      read -r kib n < <(ps -o rss= --sid "$sid" 2>/dev/null | awk '{s += $1; n++} END {print s + 0, n + 0}') || true
      if [ "${kib:-0}" -gt "$peak" ]; then peak=$kib; procs=$n; echo "$peak $procs" > "$file"; fi
      sleep 1
    done
  ) &
  sampler_pid=$!
}
stop_sampler() {
  [ -n "$sampler_pid" ] || return 0
  kill -TERM "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
}

# run_case GROUP TARGET POINT LIMIT_SECONDS [server args --] load-generator args...
# One target, one load-generator run, bounded by LIMIT_SECONDS.
run_case() {
  local group=$1 target=$2 point=$3 limit=$4; shift 4
  local server_args=()
  if [ "${1:-}" = "--server" ]; then
    shift
    while [ "$1" != "--" ]; do server_args+=("$1"); shift; done
    shift
  fi
  wants_target "$target" || return 0
  stem="$group--$target${point:+--$point}"
  rm -f "$out/$stem".*
  say "$group: $target${point:+ at $point} …"
  start_target "$target" "${server_args[@]}" || return 0
  local load=(dotnet "$LOAD_DLL" run --protocol "$protocol" --url "$url" --server-pid "$current_pid" --label "$stem" --out "$out/$stem.json" "$@")
  {
    echo "# server ($target, pid $current_pid)"
    echo "$server_cmd"
    echo "# load generator (bounded: timeout ${limit}s)"
    quote "${load[@]}"
  } > "$out/$stem.cmd"
  { echo; echo "## $stem"; cat "$out/$stem.cmd"; } >> "$out/commands.log"
  start_sampler "$current_pid" "$out/$stem.tree-rss"
  local rc=0
  timeout --kill-after=15 "$limit" "${load[@]}" > "$out/$stem.load.log" 2>&1 < /dev/null &
  load_pid=$!
  wait "$load_pid" || rc=$?
  load_pid=""
  stop_sampler
  if ! kill -0 "$current_pid" 2>/dev/null; then
    note "$stem: $target was no longer running at the end of the run (see $(rel "$out/$stem.server.log"))"
  fi
  stop_target
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    note "$stem: the load generator did not finish within ${limit} s and was stopped (see $(rel "$out/$stem.load.log"))"
  elif [ "$rc" -ne 0 ]; then
    note "$stem: the load generator exited with code $rc (see $(rel "$out/$stem.load.log"))"
  fi
  if [ -f "$out/$stem.json" ]; then
    # The summary paragraph (the line before "Result written").
    say "  $(grep -B1 '^Result written' "$out/$stem.load.log" | head -n 1 | cut -c1-400)"
  else
    note "$stem: no result written"
  fi
}

# Bounds: generous, so only a hung run is stopped.
idle_limit() { echo $(( 90 + 45 * $(tr ',' '\n' <<<"$1" | wc -l) )); }

# ------------------------------------------------------------------------------------------------ scenarios
if wants idle; then
  for t in halley-ws signalr kestrel-ws faye-ws; do
    run_case idle "$t" "" "$(idle_limit "$idle_steps")" --scenario idle --steps "$idle_steps" --workers "$idle_workers" --rooms "$rooms_count"
  done
  run_case idle halley-lp "" "$(idle_limit "$lp_steps")" --scenario idle --steps "$lp_steps" --workers "$lp_workers" --rooms "$rooms_count"
fi

# Issue 10's connect rate: every connection subscribes to the SAME channel, opened in one step as fast as the workers
# go, so each open adds to one subscriber list (O(N²) in all before issue 10's SubscriptionIndex).
if wants connect-one; then
  for t in halley-ws signalr kestrel-ws; do
    run_case connect-one "$t" "" "$(idle_limit "$connect_steps")" --scenario idle --steps "$connect_steps" --workers "$idle_workers" --rooms 1
  done
fi

# Fan-out, issue 10's way (the default): every target fed the same way, by ONE backend that POSTs each message to the
# server's HTTP publish endpoint and awaits the answer before the next (Halley: /api/publish; SignalR: the peer's
# IHubContext /publish; the plain loop and Pushpin's backend: /publish; Faye: a session-less Bayeux POST to /faye).
fanout_targets=(halley-ws signalr kestrel-ws faye-ws)
[ "$have_pushpin" -eq 1 ] && fanout_targets+=(pushpin)
# Pushpin answers 502 to some WebSocket opens when 64 per worker arrive at once (its proxy -> GRIP backend hop).
open_args() { [ "$1" = pushpin ] && echo --open-concurrency 8 || true; }
halley_server() { [ "$1" = halley-ws ] && echo --server --Halley:MaxQueue=100000 -- || true; }

if wants fanout; then
  for t in "${fanout_targets[@]}"; do
    # shellcheck disable=SC2046  # the helpers print whole words or nothing
    run_case fanout "$t" "" $(( fanout_duration + 120 )) $(halley_server "$t") --scenario fanout --connections "$fanout_subs" \
      --duration "$fanout_duration" --workers "$fanout_workers" --payload-bytes "$http_payload" --publish-via http --publishers 1 $(open_args "$t")
  done
fi

# Issue 3's fan-out: each target's own client publishing with 16 publishes in flight. Equal publishing parallelism:
# SignalR's publisher spreads over 4 hub connections and the Kestrel loop takes concurrent POSTs; a Bayeux session's
# messages are handled in order, so Bayeux targets get 4 sessions.
if wants fanout-inflight; then
  for t in "${fanout_targets[@]}"; do
    extra=()
    case "$t" in halley-ws|faye-ws) extra=(--publishers 4) ;; esac
    # shellcheck disable=SC2046
    run_case fanout-inflight "$t" "" $(( fanout_duration + 120 )) $(halley_server "$t") --scenario fanout --connections "$fanout_subs" \
      --duration "$fanout_duration" --workers "$fanout_workers" --payload-bytes "$payload" --publish-via session --in-flight 16 \
      "${extra[@]}" $(open_args "$t")
  done
fi

# Four backends publishing at once, each awaiting its own answers.
if wants_extra fanout-http4; then
  for t in halley-ws signalr kestrel-ws; do
    # shellcheck disable=SC2046
    run_case fanout-http4 "$t" "" $(( fanout_duration + 120 )) $(halley_server "$t") --scenario fanout --connections "$fanout_subs" \
      --duration "$fanout_duration" --workers "$fanout_workers" --payload-bytes "$http_payload" --publish-via http --publishers 4
  done
fi

# One backend over many channels of 100 subscribers each (publishes round robin over the channels).
if wants_extra fanout-channels; then
  for t in halley-ws signalr kestrel-ws; do
    # shellcheck disable=SC2046
    run_case fanout-channels "$t" "" $(( fanout_duration + 120 )) $(halley_server "$t") --scenario fanout --connections "$fanout_subs" \
      --channels "$fanout_channels" --duration "$fanout_duration" --workers "$fanout_workers" --payload-bytes "$http_payload" \
      --publish-via http --publishers 1
  done
fi

# Latency, fed the same way as fan-out: one HTTP backend, at 2 msgs/s.
if wants latency; then
  for t in halley-ws signalr kestrel-ws; do
    run_case latency "$t" "" $(( latency_duration + 120 )) --scenario latency --connections "$latency_subs" \
      --duration "$latency_duration" --rate "$latency_rate" --workers "$latency_workers" --payload-bytes "$http_payload" \
      --publish-via http --publishers 1
  done
fi

if wants rooms; then
  rooms_args=(--scenario rooms --connections "$rooms_clients" --rooms "$rooms_count" --rooms-per-client "$rooms_per_client"
    --payload-bytes "$payload" --duration "$rooms_duration")
  # Both as fast as 16 publishes in flight allow (the throughput ratio); then Halley again at 3x Faye's measured
  # publish rate, open loop, for "3x Faye's throughput at no worse p99" at equal terms.
  for t in faye-lp halley-lp; do
    run_case rooms "$t" "" $(( rooms_duration + 120 )) "${rooms_args[@]}"
  done
  faye_rate=$(sed -n 's/.*"publishesPerSecond": *\([0-9.]*\).*/\1/p' "$out/rooms--faye-lp.json" 2>/dev/null | head -n 1)
  if [ -n "$faye_rate" ]; then
    rate3=$(awk -v r="$faye_rate" 'BEGIN { printf "%d", r * 3 + 0.5 }')
    run_case rooms halley-lp "3x" $(( rooms_duration + 120 )) "${rooms_args[@]}" --rate "$rate3"
  elif wants_target halley-lp; then
    note "rooms: no Faye publish rate measured, so Halley did not run at 3x Faye's rate"
  fi
fi

if wants growth; then
  for n in "${growth_points[@]}"; do
    run_case growth halley-ws "$n" $(( growth_duration + 150 )) --server --Halley:MaxQueue=100000 -- --scenario rooms \
      --connections "$n" --rooms "$growth_rooms" --rooms-per-client "$growth_rooms_per_client" \
      --payload-bytes "$payload" --duration "$growth_duration" --workers "$growth_workers"
  done
fi

# ------------------------------------------------------------------------------------------------ the report
{
  echo "finished=$(date -u +%FT%TZ)"
  echo "durationSeconds=$(( $(date +%s) - started_epoch ))"
} >> "$out/meta.txt"
note "Halley ran with its defaults (appsettings.json: MaxQueue 1000, Timeout 20 s) except in the fan-out scenarios and growth, where it ran with --Halley:MaxQueue=100000 so that a burst does not end slow subscribers (the documented slow-consumer policy); the peers ran with their defaults (bench/peers/README.md)."
{ wants fanout || wants fanout-inflight; } && [ "$have_pushpin" -eq 1 ] && wants_target pushpin && note "Pushpin ran only in fanout and fanout-inflight, its connections opened 8 at a time per worker (--open-concurrency 8; the others: 64) because at 64 its proxy answered some WebSocket opens with 502 (the proxy -> GRIP backend hop); the open phase is not part of the measurement. Its memory is not measured by the load generator, which reads one pid's RSS (VmRSS of Pushpin's runner, which does no work): the fan-out table's 'peak RSS (all processes)' column is compare.sh's own sample of the whole process session (condure, pushpin-proxy, pushpin-handler, zurl, the Node backend). Its CPU is the whole session's (the load generator sums every process of the session the pid leads). Its publishes make one more hop than the others' (publisher -> Pushpin's proxy -> the GRIP backend -> Pushpin's publish API)." || true
wants growth && note "Growth is the load generator's rooms scenario over WebSocket (halley-ws): $growth_rooms channels, $growth_rooms_per_client per client, points ${growth_points[*]}; memory linearity comes from the idle run's steps." || true
report_cmd=(dotnet "$REPORT_DLL" "$out" --out "$report")
echo "$(quote "${report_cmd[@]}")" >> "$out/commands.log"
"${report_cmd[@]}"
say "done in $(( $(date +%s) - started_epoch )) s: $(rel "$report")"
