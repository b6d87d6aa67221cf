#!/usr/bin/env bash
# Builds target/bindings/oxim-jvm.jar: the Kotlin bindings compiled for the JVM (Java 8
# bytecode) with the linux-x86-64 library inside, where JNA finds it with no JVM flags.
# It needs JNA and kotlinx-coroutines (and the Kotlin stdlib) on the classpath at run time.
#
#   scripts/jvm-jar.sh [--profile dev|release|mobile]   (runs scripts/bindings.sh first)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_apt_packages
ensure_kotlinc
scripts/bindings.sh "$@"

lib=$(ls target/bindings/python/liboxim_ffi.* | head -1)
work=target/bindings/jvm
rm -rf "$work" && mkdir -p "$work/classes/linux-x86-64"
"$KOTLIN_HOME/bin/kotlinc" -nowarn -jvm-target 1.8 -cp "$(jvm_runtime_classpath)" \
  -d "$work/classes" $(find target/bindings/kotlin -name '*.kt')
# Debug information is not needed to run; keep the jar small.
strip --strip-debug -o "$work/classes/linux-x86-64/$(basename "$lib")" "$lib" 2>/dev/null \
  || cp "$lib" "$work/classes/linux-x86-64/"
rm -f target/bindings/oxim-jvm.jar
(cd "$work/classes" && jar cf ../../oxim-jvm.jar .)
echo "built target/bindings/oxim-jvm.jar ($(du -h target/bindings/oxim-jvm.jar | cut -f1))"
