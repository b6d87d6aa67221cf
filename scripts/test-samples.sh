#!/usr/bin/env bash
# The sample apps, as far as this machine can take them:
#  - android-sample/logic (plain Kotlin): built with Maven against the JVM artifact
#    io.oxim:oxim-imsdk (scripts/build-jvm.sh installs it in .cache/m2: run that first), and its
#    tests run against a live oxim-server, several users each;
#  - android-sample/app (Compose) and ios-sample (Swift): syntax only (tree-sitter), since they
#    need AndroidX or a Swift compiler; .github/workflows/android.yml and ios.yml build them. The
#    Swift is also checked against the generated Swift API (target/bindings/swift, which
#    scripts/build-jvm.sh generated): argument labels of SDK calls in their async and succ/fail
#    forms, enum cases, ERR_ constants, method names.
# The SDK version the samples name is checked against the Cargo workspace's.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

version=$(python3 -c 'import re; print(re.search(r"\[workspace\.package\][^\[]*?version = \"([^\"]+)\"", open("Cargo.toml").read()).group(1))')
for f in android-sample/logic/pom.xml android-sample/logic/build.gradle.kts android-sample/app/build.gradle.kts; do
  grep -q "oxim-imsdk.*$version\|<oxim.version>$version<" "$f" \
    || { echo "$f does not name the SDK version $version (Cargo.toml): keep them equal" >&2; exit 1; }
done
jar="$OXIM_M2/io/oxim/oxim-imsdk/$version/oxim-imsdk-$version.jar"
[ -f "$jar" ] || { echo "no $jar: run scripts/build-jvm.sh first" >&2; exit 1; }

echo "android-sample/logic: Maven build and tests against a live oxim-server"
cargo build -q -p oxim-server
OXIM_SERVER_BIN="$PWD/target/debug/oxim-server" oxim_mvn -f android-sample/logic/pom.xml test

echo "android-sample/app and ios-sample: syntax"
ensure_python_packages
"$OXIM_TOOLS_PYTHON" -c "import tree_sitter_kotlin" 2>/dev/null \
  || "$OXIM_TOOLS_PYTHON" -m pip install -q --disable-pip-version-check --cache-dir "$OXIM_CACHE/pip" tree-sitter-kotlin
"$OXIM_TOOLS_PYTHON" scripts/check-kotlin.py --self-test $(find android-sample -name '*.kt' -o -name '*.kts' | sort)
"$OXIM_TOOLS_PYTHON" scripts/check-swift.py ios-sample/Package.swift $(find ios-sample/Sources ios-sample/Tests -name '*.swift' | sort)
"$OXIM_TOOLS_PYTHON" scripts/check-swift-api.py --self-test \
  --api target/bindings/swift/*.swift \
  --check $(find ios-sample -name '*.swift' ! -name Package.swift | sort)
