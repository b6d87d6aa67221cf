# Installs what the builds and test suites need, caching downloads in .cache/ (git-ignored).
# Source this file; every function is idempotent and quick when the tool is already there.

OXIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OXIM_CACHE="$OXIM_ROOT/.cache"
# Maven's local repository: the downloads from Maven Central, and what `mvn install` puts there
# (io.oxim:oxim-imsdk). Builds that consume the SDK artifact use the same one (oxim_mvn).
OXIM_M2="$OXIM_CACHE/m2/repository"

_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

_apt_install() {
  echo "installing $* (apt)"
  export DEBIAN_FRONTEND=noninteractive
  _sudo apt-get install -y -q "$@" >/dev/null 2>&1 \
    || { _sudo apt-get update -q >/dev/null && _sudo apt-get install -y -q "$@" >/dev/null; }
}

# A JDK (17+) and Maven, from Debian's packages when missing.
ensure_jdk_maven() {
  local missing=()
  command -v javac >/dev/null || missing+=(default-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  [ ${#missing[@]} -eq 0 ] || _apt_install "${missing[@]}"
}

# Maven in batch mode with the project's local repository (.cache/m2). Pass the usual arguments:
#   oxim_mvn -f bindings/kotlin/pom.xml install
oxim_mvn() {
  ensure_jdk_maven
  mvn -B -ntp -Dstyle.color=never -Dmaven.repo.local="$OXIM_M2" "$@"
}

# Python's venv module (Debian ships it separately).
ensure_python_venv() {
  python3 -c "import ensurepip, venv" 2>/dev/null || _apt_install python3-venv
}

# A fresh virtual environment at $1 with the given PyPI packages (wheels cached in .cache/pip).
#   new_python_venv target/python/venv pytest
new_python_venv() {
  local dir="$1"; shift
  ensure_python_venv
  rm -rf "$dir"
  python3 -m venv "$dir"
  if [ $# -gt 0 ]; then
    "$dir/bin/python" -m pip install -q --disable-pip-version-check --cache-dir "$OXIM_CACHE/pip" "$@"
  fi
}

# The Python tools the scripts run (tree-sitter with its Swift grammar, for the Swift syntax
# check), from PyPI into a virtual environment in .cache: a system Python that is externally
# managed (PEP 668) is never touched. Run them with "$OXIM_TOOLS_PYTHON".
OXIM_TOOLS_PYTHON="$OXIM_CACHE/venv-tools/bin/python"
ensure_python_packages() {
  "$OXIM_TOOLS_PYTHON" -c "import tree_sitter, tree_sitter_swift" 2>/dev/null && return 0
  echo "installing tree-sitter tree-sitter-swift (pip, in .cache/venv-tools)"
  new_python_venv "$OXIM_CACHE/venv-tools" "tree-sitter>=0.23" tree-sitter-swift
}

# cargo fuzz and the nightly toolchain it builds with (libFuzzer's instrumentation flags need
# nightly); both into the user's rustup/cargo homes, once.
ensure_cargo_fuzz() {
  if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "installing the nightly toolchain (rustup, minimal profile)"
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz (cargo install)"
    cargo install cargo-fuzz --locked
  fi
}
