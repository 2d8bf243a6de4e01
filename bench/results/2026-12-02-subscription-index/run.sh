#!/bin/sh
# Before/after of SubscriptionIndex (issue 10), from the root of a clean checkout of the i10-index branch.
# "after" is the checked-out commit; "before" is main's index at 3eeb2e1 with its two call sites, built with this
# commit's benchmark files (they use only Add, Remove and foreach over Get, which both indexes have).
# Usage: run.sh build | bdn-after NAME | bdn-before NAME | memory-after | memory-before
set -eu
OUT=bench/results/2026-12-02-subscription-index
BEFORE=3eeb2e1
OLD_FILES="src/Halley/Channels/SubscriptionIndex.cs src/Halley/Engine/MessageHub.cs bench/Halley.Benchmarks/Channels/ChannelMatchingBenchmarks.cs"
BDN="--filter *SubscriptionIndex* --inProcess --job short"
log() { echo "$(date -u +%FT%TZ) at $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg): $*" >> "$OUT/commands.log"; }
case "$1" in
  build)
    log "dotnet build bench/Halley.Benchmarks -c Release --artifacts-path /tmp/idx-after"
    dotnet build bench/Halley.Benchmarks -c Release --artifacts-path /tmp/idx-after -v quiet -nologo
    log "git checkout $BEFORE -- $OLD_FILES; dotnet build bench/Halley.Benchmarks -c Release --artifacts-path /tmp/idx-before; git checkout HEAD -- $OLD_FILES"
    git checkout "$BEFORE" -- $OLD_FILES
    dotnet build bench/Halley.Benchmarks -c Release --artifacts-path /tmp/idx-before -v quiet -nologo || { git checkout HEAD -- $OLD_FILES; exit 1; }
    git checkout HEAD -- $OLD_FILES
    ;;
  bdn-after|bdn-before)
    side=${1#bdn-}
    log "dotnet /tmp/idx-$side/bin/Halley.Benchmarks/release/Halley.Benchmarks.dll $BDN > $OUT/bdn-$side-$2.log"
    dotnet /tmp/idx-$side/bin/Halley.Benchmarks/release/Halley.Benchmarks.dll $BDN --artifacts /tmp/bdn-$side-$2 > "$OUT/bdn-$side-$2.log" 2>&1
    log "done: bdn-$side-$2"
    ;;
  memory-after|memory-before)
    side=${1#memory-}
    log "dotnet /tmp/idx-$side/bin/Halley.Benchmarks/release/Halley.Benchmarks.dll --index-memory > $OUT/index-memory-$side.log"
    dotnet /tmp/idx-$side/bin/Halley.Benchmarks/release/Halley.Benchmarks.dll --index-memory > "$OUT/index-memory-$side.log" 2>&1
    log "done: index-memory-$side"
    ;;
esac
