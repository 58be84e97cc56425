#!/usr/bin/env bash
# Benchmarks the HTTP engine against curl on one loopback Alma emulator and prints the table for
# benchmarks/README.md.
#
#   benchmarks/http-bench.sh [http-bench options]     e.g. --requests 20000 --concurrency 128
#
# 1. Builds a release build with the benchmarks in build/bench (MARCPIPE_BENCH_BUILD overrides).
# 2. Runs http-bench, which starts the emulator itself and, in one run, prints
#    - unthrottled: requests/s and CPU seconds per 1,000 requests of http-get-many (both loop
#      backends) and of `curl --parallel --parallel-max N` on the same URL list;
#    - throttled: a 25/s threshold with 1 s latency, http-get-many --rate 25: the pace it keeps,
#      and the 429s the emulator had to send (target: none).
#    Exit status 1 when a target is missed (ratio >= 1.0 against curl, pace >= 0.97 x 25, no 429).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${MARCPIPE_BENCH_BUILD:-$root/build/bench}

for tool in meson ninja curl; do
  command -v "$tool" >/dev/null || { echo "http-bench.sh: $tool is missing (scripts/install-deps installs it)" >&2; exit 2; }
done

if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$root" -Dbuildtype=release -Dbenchmarks=true >/dev/null
else
  meson configure "$build" -Dbuildtype=release -Dbenchmarks=true >/dev/null
fi
ninja -C "$build" examples/http-get-many tests/emulator/alma-emulator benchmarks/http-bench >/dev/null

echo "machine: $(nproc) cores, $(uname -sr), $(curl --version | head -1 | cut -d' ' -f1-2)"
exec "$build/benchmarks/http-bench" \
  --emulator "$build/tests/emulator/alma-emulator" \
  --http-get-many "$build/examples/http-get-many" \
  --curl "$(command -v curl)" "$@"
