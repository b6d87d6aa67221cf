#!/usr/bin/env bash
# Kotlin and Java tests on the JVM (kotlinc + javac, JUnit 4) against a live oxim-server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
ensure_apt_packages
ensure_kotlinc
scripts/jvm-jar.sh >/dev/null
# The sources jar carries the Android layer and the UDL's documentation (for IDEs).
python3 - <<'PY'
import sys, zipfile
jar = zipfile.ZipFile("target/bindings/oxim-jvm-sources.jar")
ffi = jar.read("io/oxim/imsdk/v2/ffi/oxim.kt").decode()
if "Logs `user_id` in with a UserSig" not in ffi or "io/oxim/imsdk/v2/V2TIMMessage.java" not in jar.namelist():
    sys.exit("oxim-jvm-sources.jar lacks the sources or their documentation")
PY
cargo build -q -p oxim-server

out=target/bindings/kotlin-tests
rm -rf "$out" && mkdir -p "$out"
cp="target/bindings/oxim-jvm.jar:$(jvm_runtime_classpath):$JAVA_SHARE/junit4.jar:$JAVA_SHARE/hamcrest-core.jar"
sources=$(find bindings/kotlin/test -name '*.kt' -o -name '*.java')
# Kotlin first (it reads the Java sources), then the Java tests against its classes.
"$KOTLIN_HOME/bin/kotlinc" -nowarn -jvm-target 1.8 -cp "$cp" -d "$out" $sources
java_tests=$(find bindings/kotlin/test -name '*.java')
[ -z "$java_tests" ] || javac -nowarn -encoding UTF-8 -cp "$out:$cp" -d "$out" $java_tests
classes=$(cd "$out" && find . -name '*Test.class' | sed 's|^\./||; s|\.class$||; s|/|.|g')
OXIM_SERVER_BIN="$PWD/target/debug/oxim-server" java -cp "$out:$cp" org.junit.runner.JUnitCore $classes
