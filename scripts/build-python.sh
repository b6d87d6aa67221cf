#!/usr/bin/env bash
# Builds the Python wheel of the SDK (bindings/python/pyproject.toml, hatchling): the package
# `oxim` with the native library inside, into target/python/dist/. With --venv, also makes a
# fresh virtual environment there with the wheel (and any --with packages) installed.
#
#   scripts/build-python.sh [--profile dev|release|mobile] [--venv DIR [--with PKG]...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

profile=dev
venv=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --venv) venv="$2"; shift 2 ;;
    --with) extra+=("$2"); shift 2 ;;
    *) echo "usage: $0 [--profile dev|release|mobile] [--venv DIR [--with PKG]...]" >&2; exit 2 ;;
  esac
done

ensure_python_packages   # pip in a virtual environment (a system Python may have none)
scripts/bindings.sh --profile "$profile" >/dev/null
dist=target/python/dist
rm -rf "$dist"
OXIM_PYTHON_BINDINGS="$PWD/target/bindings/python" \
  "$OXIM_TOOLS_PYTHON" -m pip wheel -q --disable-pip-version-check --no-deps --cache-dir "$OXIM_CACHE/pip" -w "$dist" bindings/python
wheel=$(ls "$dist"/oxim-*.whl)
echo "built $wheel ($(du -h "$wheel" | cut -f1))"

if [ -n "$venv" ]; then
  new_python_venv "$venv" "$wheel" ${extra[@]+"${extra[@]}"}
  echo "installed in a new virtual environment: $venv"
fi
