#!/usr/bin/env bash
# Swift: no compiler on Linux here, so the generated bindings and the hand-written extras are
# generated and syntax-checked (tree-sitter-swift), with the root Package.swift, and the checker
# proves it catches an error.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_python_packages
scripts/bindings.sh >/dev/null
"$OXIM_TOOLS_PYTHON" scripts/check-swift.py --self-test target/bindings/swift/OximSDK.swift target/bindings/swift/OximExtras.swift Package.swift
