#!/usr/bin/env bash
# Profiles Aster's server and client processes on one workload and prints
# where their CPU time goes (benches/tools/perf_summary.py).
#
#   benches/tools/profile.sh [FIGURE] [SECONDS]     FIGURE: unary c16 c64 stream bulk (default c16)
#   IMPL=raw benches/tools/profile.sh c16           the raw iroh baseline instead
#
# Needs `perf` (software event cpu-clock: works in VMs without hardware
# counters) and a release build with line tables (the workspace profile has
# them). Profiles stay in $OUT (default /tmp/aster-profile) for `perf report`.
set -euo pipefail
fig="${1:-c16}"
secs="${2:-4}"
impl="${IMPL:-aster}"
out="${OUT:-/tmp/aster-profile}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/benches/tools"
cd "$root"
cargo build --release -q -p aster-bench
bin="${CARGO_TARGET_DIR:-$root/target}/release/aster-bench"
mkdir -p "$out"
rm -f "$out"/{server,client}.perf "$out/address"

perf record -q -e cpu-clock -F 1499 --call-graph dwarf,32768 -o "$out/server.perf" -- \
  "$bin" "serve-$impl" > "$out/address" 2>/dev/null &
perf_pid=$!
for _ in $(seq 100); do [ -s "$out/address" ] && break; sleep 0.1; done
[ -s "$out/address" ] || { echo "server did not start" >&2; kill "$perf_pid"; exit 1; }

ASTER_BENCH_SECS="$secs" perf record -q -e cpu-clock -F 1499 --call-graph dwarf,32768 -o "$out/client.perf" -- \
  "$bin" "client-$impl" "$(cat "$out/address")" "$fig" > "$out/client.json"
# perf stops the server on SIGINT and writes its profile.
kill -INT "$perf_pid"
wait "$perf_pid" || true

for side in server client; do
  echo "=== $impl $side ($fig, $secs s)"
  perf script -i "$out/$side.perf" -F comm,tid,time,ip,sym --no-inline 2>/dev/null | python3 "$here/perf_summary.py" --top 15
  echo
done
