#!/usr/bin/env bash
# Starts the Pushpin peer in the foreground: pushpin (Debian package) on 127.0.0.1:PORT, its publish API on
# 127.0.0.1:PORT+1, the GRIP backend (backend.mjs) on 127.0.0.1:PORT+2. Everything lives in a fresh run directory
# (default /tmp/halley-pushpin-PORT). The script execs pushpin, so its pid is pushpin's runner (the parent of
# condure, pushpin-proxy and pushpin-handler, and of the backend, which exits when the runner does).
# Usage: start.sh PORT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:?usage: start.sh PORT}
control_port=$((port + 1))
backend_port=$((port + 2))
dir=${PUSHPIN_PEER_DIR:-/tmp/halley-pushpin-$port}

command -v pushpin >/dev/null 2>&1 || { echo "pushpin is not installed (apt-get install pushpin)" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir/run" "$dir/log"
echo "* 127.0.0.1:$backend_port,over_http" > "$dir/routes"
sed -e "s|@RUNDIR@|$dir/run|g" -e "s|@LOGDIR@|$dir/log|g" -e "s|@PORT@|$port|g" \
  -e "s|@CONTROL_PORT@|$control_port|g" "$here/pushpin.conf.template" > "$dir/pushpin.conf"

node "$here/backend.mjs" "$backend_port" "$control_port" &
backend=$!
# Wait (at most 10 s) for the backend to listen, so a failed backend fails the start instead of a silent proxy.
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$backend_port") 2>/dev/null && break
  kill -0 "$backend" 2>/dev/null || { echo "the GRIP backend failed to start" >&2; exit 1; }
  sleep 0.1
done

exec pushpin --config "$dir/pushpin.conf" --port "127.0.0.1:$port" --merge-output ${PUSHPIN_EXTRA:-}
