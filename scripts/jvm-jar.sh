#!/usr/bin/env bash
# Builds target/bindings/oxim-jvm.jar: the Android/JVM layer (the Java and Kotlin facade of
# package io.oxim.imsdk.v2 over UniFFI's Kotlin, io.oxim.imsdk.v2.ffi) compiled for the JVM (Java
# 8 bytecode) with the linux-x86-64 library inside, where JNA finds it with no JVM flags, and
# target/bindings/oxim-jvm-sources.jar (the sources, with the UDL's documentation, for IDEs).
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
# Kotlin first (it reads the Java sources), then the Java sources against its classes.
"$KOTLIN_HOME/bin/kotlinc" -nowarn -jvm-target 1.8 -cp "$(jvm_runtime_classpath)" \
  -d "$work/classes" $(find target/bindings/kotlin -name '*.kt' -o -name '*.java')
javac -nowarn -source 8 -target 8 -Xlint:-options -encoding UTF-8 -cp "$work/classes:$(jvm_runtime_classpath)" \
  -d "$work/classes" $(find target/bindings/kotlin -name '*.java')
# Debug information is not needed to run; keep the jar small.
strip --strip-debug -o "$work/classes/linux-x86-64/$(basename "$lib")" "$lib" 2>/dev/null \
  || cp "$lib" "$work/classes/linux-x86-64/"
rm -f target/bindings/oxim-jvm.jar target/bindings/oxim-jvm-sources.jar
(cd "$work/classes" && jar cf ../../oxim-jvm.jar .)
(cd target/bindings/kotlin && jar cf ../oxim-jvm-sources.jar .)
echo "built target/bindings/oxim-jvm.jar ($(du -h target/bindings/oxim-jvm.jar | cut -f1)) and oxim-jvm-sources.jar"
