#!/usr/bin/env bash
# The JVM bindings' tests (Kotlin and Java, bindings/kotlin/test) through Maven and JUnit 5
# (JUnit 4 classes run on its Vintage engine), against a live oxim-server; then the artifact is
# installed in the project's Maven repository. See scripts/build-jvm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/build-jvm.sh "$@"
