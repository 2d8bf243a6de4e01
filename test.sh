#!/usr/bin/env bash
# Runs every Halley test: the .NET suites (unit, functional, client), the allocation budget of the
# micro-benchmarks, the Node interop suite with the official cometd and faye clients, then the browser suite
# (Faye's browser client in headless Chromium), both against a Release build of the server. Installs what is
# missing (nginx and chromium from Debian as root, npm packages from the committed lock files). Ends with one
# line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
root=$PWD
out="$root/.test-output"
rm -rf "$out" && mkdir -p "$out"

fail_setup() { echo "test.sh: $1" >&2; echo "0 passed, 1 failed"; exit 1; }

command -v dotnet >/dev/null 2>&1 || fail_setup "the .NET SDK (dotnet) is required"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || fail_setup "Node.js and npm are required"

# install_missing PACKAGE WHAT PROGRAM...: installs the Debian package (as root) when none of the programs is there.
install_missing() {
  local package=$1 what=$2 program
  shift 2
  for program in "$@"; do
    command -v "$program" >/dev/null 2>&1 && return
  done
  if [ "$(id -u)" -eq 0 ]; then
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$package"; } >"$out/$package-install.log" 2>&1 \
      || fail_setup "installing $package failed (see $out/$package-install.log)"
  else
    fail_setup "$package is required for $what: install it (apt-get install -y $package) or run test.sh as root"
  fi
}
# The proxy tests (test/Halley.FunctionalTests/Proxy) run a real nginx in front of Halley.
install_missing nginx "the proxy tests" nginx /usr/sbin/nginx
# The browser tests (test/browser) drive Debian's Chromium through playwright-core.
install_missing chromium "the browser tests" "${HALLEY_CHROMIUM:-/usr/bin/chromium}"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
server_dll="$root/src/Halley.Server/bin/Release/net10.0/Halley.Server.dll"
export HALLEY_SERVER_DLL="$server_dll"

echo "==> Building (Release)"
dotnet build Halley.slnx -c Release -v quiet -clp:ErrorsOnly || fail_setup "the build failed"

passed=0
failed=0

echo "==> .NET tests (unit, functional, client)"
# One assembly at a time: they start real servers and time real networks, and on a 2-core machine running
# them side by side makes timing-sensitive recovery tests compete for the CPU (see the closing note of
# 2026-11-23 on Halley.Client.Tests' ServerDownForAWhileThenBack).
dotnet_status=0
: > "$out/dotnet.log"
for project in test/Halley.Tests test/Halley.FunctionalTests test/Halley.Client.Tests; do
  dotnet test "$project" -c Release --no-build 2>&1 | tee -a "$out/dotnet.log"
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] || dotnet_status=$status
done
# Each test assembly ends with: "Passed!  - Failed:     0, Passed:   267, Skipped:     0, Total:   267, ..."
read -r p f < <(grep -E '^(Passed|Failed)! +- Failed:' "$out/dotnet.log" \
  | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+).*/\2 \1/' \
  | awk '{p += $1; f += $2} END {print p + 0, f + 0}')
passed=$((passed + p))
failed=$((failed + f))
if [ "$dotnet_status" -ne 0 ] && [ "$f" -eq 0 ]; then
  echo "test.sh: dotnet test exited with $dotnet_status without reporting a failed test" >&2
  failed=$((failed + 1))
fi

echo "==> Allocation budget (BenchmarkDotNet, bench/Halley.Benchmarks/budget.json)"
dotnet bench/Halley.Benchmarks/bin/Release/net10.0/Halley.Benchmarks.dll --check-budget > "$out/budget.log" 2>&1
budget_status=$?
sed -n '/^Allocation budget/,$p' "$out/budget.log"
# One table row per benchmark: "| name | measured | budget | ok |" or "| … | FAILED: over by N B |".
p=$(grep -cE '^\| [A-Za-z].*\| ok +\|$' "$out/budget.log")
f=$(grep -cE '^\| [A-Za-z].*\| FAILED' "$out/budget.log")
passed=$((passed + p))
failed=$((failed + f))
if [ "$budget_status" -ne 0 ] && [ "$f" -eq 0 ]; then
  echo "test.sh: the allocation budget check exited with $budget_status without reporting a benchmark" >&2
  tail -20 "$out/budget.log" >&2
  failed=$((failed + 1))
fi

# run_node_suite NAME FOLDER: npm ci when needed, then node --test in FOLDER, counted from its TAP summary.
run_node_suite() {
  (
    cd "$2" || exit 1
    # npm ci is skipped when node_modules already matches the committed lock file.
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund --loglevel=error || exit 1
    fi
    node --test --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$out/$1.tap"
  )
  local status=$?
  local p f
  p=$(grep -E '^# pass [0-9]+' "$out/$1.tap" 2>/dev/null | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+' "$out/$1.tap" 2>/dev/null | awk '{print $3}')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$status" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
    echo "test.sh: the $1 suite exited with $status without reporting a failed test" >&2
    failed=$((failed + 1))
  fi
}

echo "==> Interop tests (official cometd and faye npm clients)"
run_node_suite interop test/interop

echo "==> Browser tests (Faye's browser client in headless Chromium)"
run_node_suite browser test/browser

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
