#!/usr/bin/env bash
# The project's test command: installs what the suites need (cached in .cache/), then runs
# every suite: Rust (unit + end-to-end against a real server), Kotlin (JVM), Python, Swift
# (syntax), the quickstart example against a running server, and the benchmarks at small sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

start=$(date +%s)
step() { echo; echo "==> $* ($(( $(date +%s) - start )) s)"; }

step "installing test dependencies"
ensure_apt_packages
ensure_kotlinc
ensure_python_packages

step "checks: formatting, generated rename table and language layers, levels"
cargo fmt --all -- --check
python3 scripts/gen-renames.py --check
python3 scripts/gen-bindings.py --check
python3 scripts/check-levels.py --self-test
python3 scripts/check-levels.py

step "Rust: unit and end-to-end tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

step "quickstart example against a running server"
scripts/run-quickstart.sh

step "Kotlin bindings on the JVM"
scripts/test-kotlin.sh

step "Python bindings"
scripts/test-python.sh

step "Swift bindings (syntax)"
scripts/test-swift.sh

# Small sizes, so the benchmarks never rot: figures are printed, no time is asserted (only
# correctness: every message delivered, every page right).
step "benchmarks (quick, nothing asserted)"
scripts/bench.sh --quick

step "all suites passed"
