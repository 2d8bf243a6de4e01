#!/usr/bin/env bash
# Runs every Halley test: the .NET suites (unit, functional, client), the allocation budget of the
# micro-benchmarks, the Node interop suite with the official cometd and faye clients, the browser suite
# (Faye's browser client and Halley's own in headless Chromium), then the JavaScript client's suite (clients/js:
# unit tests, package checks, integration tests), all against a Release build of the server. Installs what is
# missing (nginx, redis-server and chromium from Debian as root, npm packages from the committed lock files).
#
# Every suite it means to run accounts for itself, from its own output: a suite that prints no summary,
# reports no test, or runs fewer tests than its floor (test/suite-floors.txt; for budget, every key of
# bench/Halley.Benchmarks/budget.json) is a failure with its name, and so is a Node test file that registers
# no test. A green run therefore means every test we have ran, not only that nothing printed "failed".
# Ends with a table per suite and one line: "N passed, N failed, N skipped" (skipped includes Node's todo);
# exits non-zero on any failure.
#
#   ./test.sh                          every suite
#   ./test.sh interop browser          only these suites (still after the build)
#   ./test.sh --recount [SUITE...]     no build, no run: only the accounting, again, over the logs of the last
#   ./test.sh --recount=DIR [SUITE...] run in .test-output (or in DIR): how the accounting itself is checked
set -uo pipefail
cd "$(dirname "$0")"
root=$PWD
out="$root/.test-output"
floors="$root/test/suite-floors.txt"
budget_json="$root/bench/Halley.Benchmarks/budget.json"

all_suites=(unit functional client budget interop browser js)
declare -A dotnet_project=([unit]=test/Halley.Tests [functional]=test/Halley.FunctionalTests [client]=test/Halley.Client.Tests)
declare -A node_folder=([interop]=test/interop [browser]=test/browser [js]=clients/js)

fail_setup() { echo "test.sh: $1" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

recount=0
suites=()
for arg in "$@"; do
  case $arg in
    --recount) recount=1 ;;
    --recount=*) recount=1; out=$(cd "${arg#--recount=}" 2>/dev/null && pwd) || fail_setup "no folder ${arg#--recount=}" ;;
    unit|functional|client|budget|interop|browser|js) suites+=("$arg") ;;
    *) fail_setup "unknown argument $arg (suites: ${all_suites[*]}; or --recount[=DIR])" ;;
  esac
done
[ ${#suites[@]} -gt 0 ] || suites=("${all_suites[@]}")

# ---------------------------------------------------------------------------------------------------------
# Running: each suite writes its own log in $out (NAME.log, or NAME/FILE.tap per Node test file) and its exit
# status in NAME.status, so that its counts are read from what it printed itself and nothing else.

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

# run_dotnet_suite NAME: dotnet test on the suite's project.
run_dotnet_suite() {
  dotnet test "${dotnet_project[$1]}" -c Release --no-build 2>&1 | tee "$out/$1.log"
  echo "${PIPESTATUS[0]}" > "$out/$1.status"
}

# run_budget_suite: the allocation budget check of the micro-benchmarks.
run_budget_suite() {
  dotnet bench/Halley.Benchmarks/bin/Release/net10.0/Halley.Benchmarks.dll --check-budget > "$out/budget.log" 2>&1
  echo $? > "$out/budget.status"
  sed -n '/^Allocation budget/,$p' "$out/budget.log"
}

# node_test_files NAME: the suite's *.test.mjs files (absolute paths), the ones it runs and accounts for.
node_test_files() {
  find "$root/${node_folder[$1]}" -name node_modules -prune -o -name '*.test.mjs' -print | sort
}

# node_tap NAME FILE: where the TAP output of one test file of the suite goes.
node_tap() {
  local relative=${2#$root/${node_folder[$1]}/}
  echo "$out/$1/${relative//\//_}.tap"
}

# run_node_suite NAME: npm ci when needed, then one node --test per *.test.mjs of the suite's folder; spec
# output to the console, TAP (for the counts) to NAME/FILE.tap. One run per file because node's summary of a
# whole folder cannot say which file a test came from (a test's "file" is where test() was called: in the
# interop suite, scenarios.mjs for most of them); node runs each file in its own process either way.
run_node_suite() {
  local status=0 file files=()
  mkdir -p "$out/$1"
  mapfile -t files < <(node_test_files "$1")
  (
    cd "${node_folder[$1]}" || exit 1
    # npm ci is skipped when node_modules already matches the committed lock file.
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund --loglevel=error || exit 1
    fi
    for file in "${files[@]}"; do
      node --test --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$(node_tap "$1" "$file")" "$file" || status=$?
    done
    exit "$status"
  )
  echo $? > "$out/$1.status"
}

run_suites() {
  rm -rf "$out" && mkdir -p "$out"
  command -v dotnet >/dev/null 2>&1 || fail_setup "the .NET SDK (dotnet) is required"
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || fail_setup "Node.js and npm are required"
  # The proxy tests (test/Halley.FunctionalTests/Proxy) run a real nginx in front of Halley.
  install_missing nginx "the proxy tests" nginx /usr/sbin/nginx
  # The Redis engine's tests (the engine specification in test/Halley.Tests, test/Halley.FunctionalTests/Clustering)
  # start their own redis-server on a free loopback port.
  install_missing redis-server "the Redis engine tests" redis-server /usr/bin/redis-server
  # The browser tests (test/browser) drive Debian's Chromium through playwright-core.
  install_missing chromium "the browser tests" "${HALLEY_CHROMIUM:-/usr/bin/chromium}"

  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  export HALLEY_SERVER_DLL="$root/src/Halley.Server/bin/Release/net10.0/Halley.Server.dll"

  echo "==> Building (Release)"
  dotnet build Halley.slnx -c Release -v quiet -clp:ErrorsOnly || fail_setup "the build failed"

  # One suite at a time: they start real servers and time real networks, and on a 2-core machine running
  # them side by side makes timing-sensitive recovery tests compete for the CPU (see the closing note of
  # 2026-11-23 on Halley.Client.Tests' ServerDownForAWhileThenBack).
  local suite
  for suite in "${suites[@]}"; do
    case $suite in
      unit) echo "==> .NET unit tests (test/Halley.Tests)" ;;
      functional) echo "==> .NET functional tests (test/Halley.FunctionalTests)" ;;
      client) echo "==> .NET client tests (test/Halley.Client.Tests)" ;;
      budget) echo "==> Allocation budget (BenchmarkDotNet, bench/Halley.Benchmarks/budget.json)" ;;
      interop) echo "==> Interop tests (official cometd and faye npm clients)" ;;
      browser) echo "==> Browser tests (Faye's browser client and Halley's own in headless Chromium)" ;;
      js) echo "==> JavaScript client (clients/js: unit, package, integration against the server)" ;;
    esac
    case $suite in
      unit|functional|client) run_dotnet_suite "$suite" ;;
      budget) run_budget_suite ;;
      interop|browser|js) run_node_suite "$suite" ;;
    esac
  done
}

# ---------------------------------------------------------------------------------------------------------
# Accounting. Each count_* function reads one suite's own output into p (passed), f (failed), s (skipped),
# sets counted=1 when it found the suite's summary, and reports what does not add up with problem.

# problem SUITE MESSAGE: an accounting failure of SUITE, counted as one failed test.
problem() {
  echo "test.sh: suite $1 $2" >&2
  problems=$((problems + 1))
}

# dotnet_summary LOG: "passed failed skipped total" summed over the lines VSTest ends each test assembly with,
# "Passed!  - Failed:     0, Passed:   470, Skipped:     0, Total:   470, Duration: 9 s - Halley.Tests.dll
# (net10.0)"; nothing when there is none (no test discovered: VSTest then prints "No test is available").
dotnet_summary() {
  sed -E 's/\x1b\[[0-9;]*m//g' "$1" 2>/dev/null \
    | grep -E '^(Passed|Failed)! +- Failed: *[0-9]+, Passed: *[0-9]+, Skipped: *[0-9]+, Total: *[0-9]+' \
    | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+), Total: *([0-9]+).*/\2 \1 \3 \4/' \
    | awk '{p += $1; f += $2; s += $3; t += $4; n++} END {if (n) print p, f, s, t}'
}

count_dotnet() {
  local log="$out/$1.log" summary t
  summary=$(dotnet_summary "$log")
  if [ -z "$summary" ]; then
    problem "$1" "printed no test summary (no \"Passed!\" or \"Failed!\" line in ${log#$root/})"
    return
  fi
  read -r p f s t <<<"$summary"
  counted=1
  # A test that neither passed, failed nor was skipped did not finish (the test host crashed or was aborted).
  [ "$t" -eq $((p + f + s)) ] || problem "$1" "reported $t tests of which only $((p + f + s)) passed, failed or were skipped"
}

# budget_rows LOG BUDGET_JSON: "passed failed expected" from the table the budget check prints after its
# "Allocation budget" line ("| name | measured | budget | ok |", or "| … | FAILED: … |"), expected being the
# number of keys of budget.json's allocatedBytesPerOperation; then one line per key that has no row.
budget_rows() {
  node - "$1" "$2" <<'JS'
const fs = require('fs');
const [log, json] = process.argv.slice(2);
const keys = Object.keys(JSON.parse(fs.readFileSync(json, 'utf8')).allocatedBytesPerOperation ?? {});
const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split(/\r?\n/) : [];
const start = lines.indexOf('Allocation budget');
const rows = new Map();
for (const line of start < 0 ? [] : lines.slice(start + 1)) {
  const row = /^\| (.+?) +\| +(\S+) \| +(\S+) \| (ok|FAILED.*?) +\|$/.exec(line);
  if (row) rows.set(row[1], row[4]);
}
const passed = [...rows].filter(([name, verdict]) => verdict === 'ok' && keys.includes(name)).length;
console.log(passed, rows.size - passed, keys.length);
for (const key of keys.filter((k) => !rows.has(k))) console.log(`has no row for ${key} of budget.json`);
JS
}

count_budget() {
  local lines line
  if ! grep -qx 'Allocation budget' "$out/budget.log" 2>/dev/null; then
    problem budget "printed no \"Allocation budget\" table (${out#$root/}/budget.log)"
    return
  fi
  mapfile -t lines < <(budget_rows "$out/budget.log" "$budget_json")
  if [ ${#lines[@]} -eq 0 ]; then
    problem budget "could not be counted (is ${budget_json#$root/} valid JSON?)"
    return
  fi
  read -r p f floor <<<"${lines[0]}"
  counted=1
  for line in "${lines[@]:1}"; do
    problem budget "$line"
  done
}

# tap_summary TAP FILE: "tests pass fail cancelled skipped todo stand-ins stand-ins-passed" from node's TAP
# summary ("# tests N", "# pass N", …; the last value of each wins: the summary closes the output); nothing
# when there is no "# tests" line. A stand-in is how node reports a file that registered no test: a top-level
# test named by the file's path, passed if the file loaded, failed if it did not. It is no test.
tap_summary() {
  awk -v file="$2" '
    /^# (tests|pass|fail|cancelled|skipped|todo) [0-9]+$/ {v[$2] = $3}
    /^(not )?ok [0-9]+ - / {
      name = $0
      sub(/^(not )?ok [0-9]+ - /, "", name)
      if (name == file) {stand_ins++; if ($1 == "ok") stand_ins_passed++}
    }
    END {
      if ("tests" in v)
        print v["tests"], v["pass"] + 0, v["fail"] + 0, v["cancelled"] + 0, v["skipped"] + 0, v["todo"] + 0,
          stand_ins + 0, stand_ins_passed + 0
    }' "$1" 2>/dev/null
}

# count_node NAME: sums the TAP summaries of the suite's test files (cancelled counts as failed, todo as
# skipped); every *.test.mjs must have printed one and have registered at least one test.
count_node() {
  local name=$1 file tap summary tests pass fail cancelled skipped todo stand_ins stand_ins_passed files=()
  mapfile -t files < <(node_test_files "$name")
  if [ ${#files[@]} -eq 0 ]; then
    problem "$name" "has no *.test.mjs file in ${node_folder[$name]}"
    return
  fi
  counted=1
  for file in "${files[@]}"; do
    tap=$(node_tap "$name" "$file")
    summary=$(tap_summary "$tap" "$file")
    if [ -z "$summary" ]; then
      problem "$name" "printed no TAP summary for ${file#$root/} (no \"# tests\" line in ${tap#$root/})"
      continue
    fi
    read -r tests pass fail cancelled skipped todo stand_ins stand_ins_passed <<<"$summary"
    p=$((p + pass - stand_ins_passed)) f=$((f + fail + cancelled)) s=$((s + skipped + todo))
    [ "$tests" -gt "$stand_ins" ] || problem "$name" "has a test file that registered no test: ${file#$root/}"
    [ "$tests" -eq $((pass + fail + cancelled + skipped + todo)) ] \
      || problem "$name" "reported $tests tests in ${file#$root/} of which only $((pass + fail + cancelled + skipped + todo)) passed, failed, were cancelled, skipped or todo"
  done
}

# account NAME: counts one suite, checks it against its floor and its exit status, adds its row to the table.
account() {
  local name=$1 status ran
  p=0 f=0 s=0 counted=0 problems=0 floor=''
  case $name in
    unit|functional|client) count_dotnet "$name" ;;
    budget) count_budget ;;
    interop|browser|js) count_node "$name" ;;
  esac
  # budget's floor is set by count_budget: the number of keys of budget.json.
  if [ "$name" != budget ]; then
    floor=$(awk -v suite="$name" '$1 == suite {print $2}' "$floors" 2>/dev/null)
  fi
  if [ "$counted" -eq 1 ]; then
    ran=$((p + f))
    if [ $((ran + s)) -eq 0 ]; then
      problem "$name" "reported no test"
    elif ! [[ $floor =~ ^[0-9]+$ ]]; then
      problem "$name" "has no floor in ${floors#$root/} (a line \"$name N\"; it reported $ran tests)"
    elif [ "$ran" -lt "$floor" ]; then
      if [ "$name" = budget ]; then
        problem "$name" "reported $ran benchmarks, fewer than the $floor keys of ${budget_json#$root/}"
      else
        problem "$name" "reported $ran test$([ "$ran" -eq 1 ] || echo s)$([ "$s" -gt 0 ] && echo " and $s skipped"), fewer than its floor of $floor"
      fi
    fi
  fi
  status=$(cat "$out/$name.status" 2>/dev/null)
  if [ -z "$status" ]; then
    problem "$name" "did not run (no ${out#$root/}/$name.status)"
  elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    problem "$name" "exited with $status without reporting a failed test"
  fi
  f=$((f + problems))
  rows+=("$(printf '%-11s %7d %7d %8d %6s  %s' "$name" "$p" "$f" "$s" "${floor:--}" "$([ "$f" -eq 0 ] && echo ok || echo FAILED)")")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

[ "$recount" -eq 1 ] || run_suites
command -v node >/dev/null 2>&1 || fail_setup "Node.js is required"

passed=0 failed=0 skipped=0 rows=()
echo
for suite in "${suites[@]}"; do
  account "$suite"
done
echo
printf '%-11s %7s %7s %8s %6s  %s\n' suite passed failed skipped floor result
printf '%s\n' "${rows[@]}"
[ ${#suites[@]} -eq ${#all_suites[@]} ] || echo "(only: ${suites[*]})"
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
