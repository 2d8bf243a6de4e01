#!/usr/bin/env bash
# Coverage-guided fuzzing of Halley's input readers with afl-fuzz (Debian's afl++) and SharpFuzz: the Bayeux
# decoder (codec), the HTTP batch reader (http), the WebSocket message reader on the framework's WebSocket (websocket)
# and the connection-level upgrade-head parser (upgrade). Installs what is missing (afl++ with apt-get as root, the
# SharpFuzz CLI as a dotnet global tool), publishes fuzz/Halley.Fuzz, instruments Halley.dll, replays the committed
# corpus, then runs afl-fuzz for a fixed time per target and prints executions, coverage, crashes and hangs.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default: 300 s, every target
#
# What it keeps: fuzz/corpus/TARGET/ gains afl-fuzz's queue (the inputs that reached new coverage), so the corpus
# committed grows with each run; crashes and hangs are copied to fuzz/findings/TARGET/ (each must become a test).
# Work files go to .fuzz-output/ (not committed). Exits non-zero when a run found a crash or a hang.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(codec http websocket upgrade)
out="$root/.fuzz-output"
mkdir -p "$out"

if ! command -v afl-fuzz >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || { echo "fuzz/run.sh: afl-fuzz is missing: apt-get install -y afl++ (or run as root)" >&2; exit 1; }
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y afl++; } >"$out/afl-install.log" 2>&1
fi
export PATH="$PATH:$HOME/.dotnet/tools"
if ! command -v sharpfuzz >/dev/null 2>&1; then
  dotnet tool install -g SharpFuzz.CommandLine --version 2.3.0 >"$out/sharpfuzz-install.log" 2>&1
fi

rm -rf "$out/bin" "$out/plain"
dotnet publish fuzz/Halley.Fuzz -c Release -o "$out/bin" >"$out/publish.log" 2>&1 || { cat "$out/publish.log" >&2; exit 1; }
# An uninstrumented copy replays inputs outside afl-fuzz (instrumented code needs afl-fuzz's shared memory).
cp -r "$out/bin" "$out/plain"
# Only Halley.dll is instrumented: coverage is measured where Halley's code branches, not in the framework's.
sharpfuzz "$out/bin/Halley.dll" >"$out/instrument.log" 2>&1 || { cat "$out/instrument.log" >&2; exit 1; }
harness=(dotnet "$out/bin/Halley.Fuzz.dll")

for target in "${targets[@]}"; do
  dotnet "$out/plain/Halley.Fuzz.dll" "$target" --replay "fuzz/corpus/$target" >/dev/null || { echo "fuzz/run.sh: the committed corpus of $target throws (above)" >&2; exit 1; }
done

# afl-fuzz on a shared machine: no CPU binding, no CPU-frequency check, no UI; .NET needs the binary check off and
# a generous memory limit (-m none) and time per input (-t, ms: the first runs JIT the code).
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1

found=0
summary="$out/summary.md"
{
  echo "| target | seconds | executions | execs/s | corpus (paths) | edges found | map coverage | stability | crashes | hangs |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$summary"
for target in "${targets[@]}"; do
  rm -rf "$out/$target"
  echo "fuzz/run.sh: $target for $seconds s"
  afl-fuzz -i "fuzz/corpus/$target" -o "$out/$target" -V "$seconds" -t 10000 -m none -- "${harness[@]}" "$target" >"$out/$target.log" 2>&1 \
    || { echo "fuzz/run.sh: afl-fuzz failed for $target (tail of $out/$target.log):" >&2; tail -20 "$out/$target.log" >&2; exit 1; }
  stats="$out/$target/default/fuzzer_stats"
  stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  echo "| $target | $seconds | $(stat execs_done) | $(stat execs_per_sec) | $(stat corpus_count) | $(stat edges_found) | $(stat bitmap_cvg) of $(stat total_edges) | $(stat stability) | $(stat saved_crashes) | $(stat saved_hangs) |" >>"$summary"
  # Keep what reached new coverage, under names git and every file system accept.
  for input in "$out/$target/default/queue"/id:*; do
    [ -f "$input" ] || continue
    kept="fuzz/corpus/$target/q$(sha1sum "$input" | cut -c1-12)"
    # afl-fuzz links the inputs it started from into its queue: those are in the corpus already.
    [ -e "$kept" ] || cp "$input" "$kept"
  done
  for kind in crashes hangs; do
    for input in "$out/$target/default/$kind"/id:*; do
      [ -f "$input" ] || continue
      mkdir -p "fuzz/findings/$target"
      cp "$input" "fuzz/findings/$target/$kind-$(sha1sum "$input" | cut -c1-12)"
      found=1
    done
  done
done
cat "$summary"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
[ $found -eq 0 ] || { echo "fuzz/run.sh: findings in fuzz/findings/ (replay: dotnet $out/plain/Halley.Fuzz.dll TARGET --replay FILE)" >&2; exit 1; }
