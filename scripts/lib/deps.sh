# Installs what the test suites need, caching downloads in .cache/ (git-ignored).
# Source this file; every function is idempotent and quick when the tool is already there.

OXIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OXIM_CACHE="$OXIM_ROOT/.cache"
KOTLIN_VERSION=2.4.20
KOTLIN_HOME="$OXIM_CACHE/kotlin-compiler-$KOTLIN_VERSION"
JAVA_SHARE=/usr/share/java

_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: JNA (with its JNI part) and JUnit 4 (with hamcrest).
ensure_apt_packages() {
  local missing=()
  [ -f "$JAVA_SHARE/jna.jar" ] || missing+=(libjna-java)
  [ -f "$JAVA_SHARE/junit4.jar" ] || missing+=(junit4)
  command -v javac >/dev/null || missing+=(default-jdk-headless)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  _sudo apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { _sudo apt-get update -q >/dev/null && _sudo apt-get install -y -q "${missing[@]}" >/dev/null; }
}

# kotlinc (with kotlinx-coroutines in its lib/) from the npm package kotlin-compiler.
ensure_kotlinc() {
  [ -x "$KOTLIN_HOME/bin/kotlinc" ] && return 0
  mkdir -p "$OXIM_CACHE/npm"
  local tgz="$OXIM_CACHE/npm/kotlin-compiler-$KOTLIN_VERSION.tgz"
  if [ ! -f "$tgz" ]; then
    echo "downloading kotlin-compiler@$KOTLIN_VERSION (npm)"
    (cd "$OXIM_CACHE/npm" && npm pack -q "kotlin-compiler@$KOTLIN_VERSION" >/dev/null)
  fi
  rm -rf "$OXIM_CACHE/npm/package" "$KOTLIN_HOME"
  tar xzf "$tgz" -C "$OXIM_CACHE/npm"
  mv "$OXIM_CACHE/npm/package" "$KOTLIN_HOME"
  chmod +x "$KOTLIN_HOME"/bin/*
}

# pytest, and tree-sitter with its Swift grammar, from PyPI (wheels cached in .cache/pip).
ensure_python_packages() {
  python3 -c "import pytest, tree_sitter, tree_sitter_swift" 2>/dev/null && return 0
  echo "installing pytest tree-sitter tree-sitter-swift (pip)"
  python3 -m pip install -q --cache-dir "$OXIM_CACHE/pip" pytest "tree-sitter>=0.23" tree-sitter-swift
}

# The classpath the JVM bindings need at compile and run time.
jvm_runtime_classpath() {
  echo "$JAVA_SHARE/jna.jar:$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar:$KOTLIN_HOME/lib/kotlin-stdlib.jar"
}
