#!/usr/bin/env bash
# Swift: no compiler on Linux here, so the generated bindings, the generated and hand-written
# extras, the Swift tests and the root Package.swift are syntax-checked (tree-sitter-swift), and
# the checker proves it catches an error.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_python_packages
scripts/bindings.sh >/dev/null
"$OXIM_TOOLS_PYTHON" scripts/check-swift.py --self-test target/bindings/swift/OximSDK.swift \
  target/bindings/swift/OximGenerated.swift target/bindings/swift/OximExtras.swift \
  bindings/swift/tests/*.swift Package.swift
# No compiler, so the hand-written Swift and the Swift tests are also checked against the
# generated API (argument labels, enum cases, ERR_ constants, method names).
"$OXIM_TOOLS_PYTHON" scripts/check-swift-api.py --api target/bindings/swift/*.swift \
  --check target/bindings/swift/OximExtras.swift bindings/swift/tests/*.swift
