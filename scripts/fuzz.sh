#!/usr/bin/env bash
# Fuzzes every decoder of untrusted bytes (the targets in fuzz/: what the server decodes from a
# client's frame, what the SDK decodes from the server, UserSigs, upload metadata and images)
# with libFuzzer through cargo fuzz (nightly; scripts/lib/deps.sh installs both).
#
#   scripts/fuzz.sh              5 minutes per target
#   scripts/fuzz.sh SECONDS      SECONDS per target (scripts/test.sh runs 5)
#   scripts/fuzz.sh SECONDS TARGET...
#
# A panic, an input that takes longer than 20 s (a hang) or a process over 2 GB resident / one
# allocation over 1 GB (the image decoder may use 512 MB by design) fails the run; libFuzzer
# writes the input to fuzz/artifacts/<target>/. Seeds are fuzz/seeds/<target>/ (committed); what
# a run learns is kept in target/fuzz-corpus/<target>/. The build is without a sanitizer (safe
# Rust; faster to build and to run): OXIM_FUZZ_SANITIZER=address for ASan.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_cargo_fuzz

secs="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(server_request sdk_frame usersig upload)
sanitizer="${OXIM_FUZZ_SANITIZER:-none}"
fuzz=(cargo +nightly fuzz)

log=target/fuzz-log
mkdir -p "$log"
"${fuzz[@]}" build --sanitizer "$sanitizer" --target-dir target/fuzz
for t in "${targets[@]}"; do
  corpus="target/fuzz-corpus/$t"
  mkdir -p "$corpus"
  echo "fuzzing $t for ${secs} s"
  if ! "${fuzz[@]}" run --sanitizer "$sanitizer" --target-dir target/fuzz "$t" "$corpus" "fuzz/seeds/$t" -- \
      -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
      >"$log/$t.txt" 2>&1; then
    tail -40 "$log/$t.txt" >&2
    echo "fuzz target $t failed: the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)" "$log/$t.txt" | tr '\n' ' '
  echo
done
echo "fuzzing passed: ${targets[*]}"
