#!/usr/bin/env bash
# Python tests (pytest) against a live oxim-server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_python_packages
scripts/bindings.sh >/dev/null
cargo build -q -p oxim-server
OXIM_SERVER_BIN="$PWD/target/debug/oxim-server" PYTHONPATH="$PWD/target/bindings/python" \
  python3 -m pytest -q -p no:cacheprovider bindings/python/tests "$@"
