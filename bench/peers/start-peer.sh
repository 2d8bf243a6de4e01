#!/usr/bin/env bash
# Starts one benchmark peer in the foreground on 127.0.0.1:PORT, first building or installing what is missing
# (quietly: a failed step prints its log to stderr). Prints nothing but the peer's own output, and execs the
# server, so this script's pid is the server's pid (for pushpin: pushpin's runner, see pushpin/start.sh).
# Every peer prints a line containing "Now listening on:" or "listening on" once it accepts connections, except
# pushpin, which prints "[condure::server] listening on 127.0.0.1:PORT".
# Usage: start-peer.sh NAME PORT     NAME: signalr | kestrel-ws | faye | pushpin
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: start-peer.sh signalr|kestrel-ws|faye|pushpin PORT}
port=${2:?usage: start-peer.sh NAME PORT}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

quietly() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    echo "start-peer.sh: failed: $*" >&2
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}

# Builds a peer project (Release) when its dll is missing or older than its sources; prints the dll's path.
build_dotnet_peer() {
  local project=$1
  local dir="$here/$project"
  local dll="$dir/bin/Release/net10.0/$project.dll"
  if [ ! -f "$dll" ] || [ -n "$(find "$dir" -maxdepth 1 \( -name '*.cs' -o -name '*.csproj' \) -newer "$dll" -print -quit)" ]; then
    quietly dotnet build "$dir/$project.csproj" -c Release -v quiet -clp:ErrorsOnly
  fi
  echo "$dll"
}

case "$name" in
  signalr)
    dll=$(build_dotnet_peer SignalRPeer)
    exec dotnet "$dll" --urls "http://127.0.0.1:$port"
    ;;
  kestrel-ws)
    dll=$(build_dotnet_peer KestrelWebSocketPeer)
    exec dotnet "$dll" --urls "http://127.0.0.1:$port"
    ;;
  faye)
    if [ ! -f "$here/faye/node_modules/faye/package.json" ]; then
      (cd "$here/faye" && quietly npm ci --no-audit --no-fund)
    fi
    exec node "$here/faye/server.mjs" "$port"
    ;;
  pushpin)
    if ! command -v pushpin >/dev/null 2>&1; then
      [ "$(id -u)" -eq 0 ] || { echo "start-peer.sh: pushpin is not installed; as root: apt-get install -y pushpin" >&2; exit 1; }
      export DEBIAN_FRONTEND=noninteractive
      if ! apt-get install -y pushpin >/dev/null 2>&1; then
        quietly apt-get update
        quietly apt-get install -y pushpin
      fi
    fi
    exec "$here/pushpin/start.sh" "$port"
    ;;
  *)
    echo "start-peer.sh: unknown peer '$name' (signalr | kestrel-ws | faye | pushpin)" >&2
    exit 2
    ;;
esac
