#!/usr/bin/env bash
# Oxim's benchmarks: the real SDK core and server over loopback, each figure next to a baseline
# measured in the same run. Prints one table and writes it to target/bench/results.md.
#
#   scripts/bench.sh           full run (release build, the sizes the targets are defined for;
#                              about 20 minutes plus builds, 9 of them the throughput ramp of
#                              1,000 clients against oxim-server and its echo and floor
#                              baselines);
#                              docs/benchmarks.md keeps its results
#   scripts/bench.sh --quick   small sizes, debug build, well under a minute once built: keeps the
#                              benchmarks working; checks correctness (every message delivered,
#                              every page right; the ramp: nothing lost, nothing duplicated),
#                              never time
#
# One benchmark alone: target/release/oxim-bench --only ramp (OXIM_RAMP_CLIENTS=10000 and the
# other OXIM_RAMP_* variables of bench/src/ramp.rs change its plan).
#
# The full run also builds the shipped library (`--profile mobile`) for its size and measures
# the FFI from Python (its wheel) and from Kotlin on the JVM (its Maven artifact) with it; the
# quick run measures the Python FFI with the debug library the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
  esac
done

out=target/bench
mkdir -p "$out"
rm -f "$out"/ffi-*.txt

if [ "$quick" = 1 ]; then
  cargo build -q -p oxim-server -p oxim-bench
  bin=target/debug
  scripts/build-python.sh --venv "$out/venv" >/dev/null
  OXIM_FFI_CALLS=2000 OXIM_FFI_LISTENERS=10 OXIM_FFI_MSGS=20 OXIM_FFI_LIB=debug \
    OXIM_SERVER_BIN="$PWD/$bin/oxim-server" "$out/venv/bin/python" bench/ffi/ffi_bench.py >"$out/ffi-python.txt"
  exec "$bin/oxim-bench" --quick --ffi "$out/ffi-python.txt" --out "$out/results.md"
fi

cargo build -q --release -p oxim-server -p oxim-bench
bin=target/release
server="$PWD/$bin/oxim-server"

# The shipped library (bindings.sh strips it), in the JVM artifact (installed in .cache/m2) and
# in the Python wheel.
scripts/build-jvm.sh --profile mobile --skip-tests >/dev/null
scripts/build-python.sh --profile mobile --venv "$out/venv" >/dev/null
lib=$(ls target/mobile/liboxim_ffi.stripped.* | head -1)

echo "FFI from Python (mobile library)" >&2
OXIM_FFI_LIB=mobile OXIM_SERVER_BIN="$server" "$out/venv/bin/python" bench/ffi/ffi_bench.py >"$out/ffi-python.txt"

echo "FFI from Kotlin on the JVM (mobile library)" >&2
oxim_mvn -q -f bench/ffi/pom.xml package dependency:build-classpath -Dmdep.outputFile="$PWD/$out/kotlin.classpath"
cp="$PWD/target/maven/oxim-ffi-bench/classes:$(cat "$out/kotlin.classpath")"
OXIM_FFI_LIB=mobile OXIM_SERVER_BIN="$server" java -cp "$cp" FfiBenchKt >"$out/ffi-kotlin.txt"

# The builds above leave gigabytes of dirty pages; written back during the latency rounds they
# stall the SDK's SQLite writes (the echo baseline writes nothing). Flush them first.
sync
exec "$bin/oxim-bench" --ffi "$out/ffi-python.txt" --ffi "$out/ffi-kotlin.txt" --lib "$lib" \
  --out "$out/results.md"
