#!/usr/bin/env bash
# The project's test command: installs what the suites need (cached in .cache/), then runs
# every suite: Rust (unit + end-to-end against a real server), the JVM artifact built with Maven
# and its Kotlin and Java tests, the Android sample's logic tests through that artifact (and the
# sample apps' code checked), the Python wheel's tests in a fresh virtual environment, Swift
# (syntax), the Rust code checked for Android and iOS, the quickstart example against a running
# server, and the benchmarks at small sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

start=$(date +%s)
step() { echo; echo "==> $* ($(( $(date +%s) - start )) s)"; }

step "installing test dependencies"
ensure_jdk_maven
ensure_python_venv
ensure_python_packages

step "checks: formatting, generated rename table, levels"
cargo fmt --all -- --check
python3 scripts/gen-renames.py --check
python3 scripts/check-levels.py --self-test
python3 scripts/check-levels.py

step "Rust: unit and end-to-end tests"
# Built first and the build's output flushed to the disk before any test runs: ext4 writes a
# file system's pending data before it commits an fsync, so a test's fsync waited behind the
# gigabytes just built (seconds on a small VM), and tests with deadlines failed.
cargo test --workspace --no-run -q
sync
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

step "quickstart example against a running server"
scripts/run-quickstart.sh

step "JVM artifact (Maven): Kotlin and Java tests, then installed in .cache/m2"
scripts/test-kotlin.sh

# The samples' logic against a live server through the artifact just installed; the app code
# (Compose, SwiftUI) syntax-checked (built by .github/workflows/{android,ios}.yml).
step "sample apps: Android logic (Maven, live server), Compose and Swift checked"
scripts/test-samples.sh

step "Python wheel in a fresh virtual environment"
scripts/test-python.sh

step "Swift bindings (syntax)"
scripts/test-swift.sh

# No NDK or Xcode here: the Rust code is checked for the mobile targets (see each script's
# --check); the AAR and the XCFramework are built by .github/workflows/{android,ios}.yml.
step "mobile targets: cargo check for Android and iOS"
scripts/build-android.sh --check
scripts/build-ios.sh --check

# Every decoder of untrusted bytes under libFuzzer for a few seconds each (nightly and cargo-fuzz
# are installed when missing); scripts/fuzz.sh runs longer.
step "fuzzing (5 s per target)"
scripts/fuzz.sh 5

# The abusive clients together beside well-behaved ones, briefly: only that it runs and no
# well-behaved message fails (scripts/soak.sh runs for minutes).
step "soak (smoke, 8 s)"
scripts/soak.sh --smoke

# Small sizes, so the benchmarks never rot: figures are printed, no time is asserted (only
# correctness: every message delivered, every page right).
step "benchmarks (quick, nothing asserted)"
scripts/bench.sh --quick

step "all suites passed"
