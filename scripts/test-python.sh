#!/usr/bin/env bash
# Python tests (pytest) against a live oxim-server, run on the wheel installed in a fresh virtual
# environment: they import `oxim` as an app would, nothing from target/ is on the path.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python/test-venv
scripts/build-python.sh --venv "$venv" --with "pytest>=8"
"$venv/bin/python" -c "import oxim, sys; f = oxim.__file__; print('oxim from', f); sys.exit('site-packages' not in f)"
cargo build -q -p oxim-server
OXIM_SERVER_BIN="$PWD/target/debug/oxim-server" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider bindings/python/tests "$@"
