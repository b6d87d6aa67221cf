#!/usr/bin/env bash
# Builds the JVM artifact io.oxim:oxim-imsdk with Maven (bindings/kotlin/pom.xml): the generated
# Kotlin bindings and the hand-written extras (Java 8 bytecode), the library for this machine
# inside (linux-x86-64/liboxim_ffi.so, where JNA finds it), a sources jar with the KDoc, and a POM
# that depends on JNA and kotlinx-coroutines. Its Kotlin and Java tests (bindings/kotlin/test) run
# against a live oxim-server, then `mvn install` puts it in the project's Maven repository
# (.cache/m2/repository; `source scripts/lib/deps.sh; oxim_mvn ...` builds against it).
#
#   scripts/build-jvm.sh [--profile dev|release|mobile] [--skip-tests] [-- <more Maven arguments>]
#
# Libraries for other systems (darwin-aarch64/liboxim_ffi.dylib, win32-x86-64/oxim_ffi.dll, ...)
# that a release job put under target/jvm-natives/<os-arch>/ go into the jar too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

profile=dev
tests=1
maven_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --skip-tests) tests=0; maven_args+=(-DskipTests); shift ;;
    --) shift; maven_args+=("$@"); break ;;
    *) echo "usage: $0 [--profile dev|release|mobile] [--skip-tests] [-- <Maven arguments>]" >&2; exit 2 ;;
  esac
done

ensure_jdk_maven
pom=bindings/kotlin/pom.xml
version=$(python3 - "$pom" <<'PY'
import re, sys, xml.etree.ElementTree as ET
pom = ET.parse(sys.argv[1]).getroot().find("{http://maven.apache.org/POM/4.0.0}version").text
cargo = re.search(r'\[workspace\.package\][^\[]*?version = "([^"]+)"', open("Cargo.toml").read()).group(1)
if pom != cargo:
    sys.exit(f"{sys.argv[1]}: version {pom}, but the Cargo workspace is {cargo}: keep them equal")
print(pom)
PY
)

scripts/bindings.sh --profile "$profile"
[ "$tests" = 0 ] || cargo build -q -p oxim-server
OXIM_SERVER_BIN="$PWD/target/debug/oxim-server" oxim_mvn -f "$pom" install ${maven_args[@]+"${maven_args[@]}"}

jar=target/maven/oxim-imsdk/oxim-imsdk-$version.jar
# The sources jar carries the Android layer and the UDL's documentation (what an IDE shows).
python3 - "${jar%.jar}-sources.jar" <<'PY'
import sys, zipfile
jar = zipfile.ZipFile(sys.argv[1])
ffi = jar.read("io/oxim/imsdk/v2/ffi/oxim.kt").decode()
if "Logs `user_id` in with a UserSig" not in ffi or "io/oxim/imsdk/v2/V2TIMMessage.java" not in jar.namelist():
    sys.exit(f"{sys.argv[1]} lacks the sources or their documentation")
PY
echo "built $jar ($(du -h "$jar" | cut -f1)); installed as io.oxim:oxim-imsdk:$version in $OXIM_M2"
