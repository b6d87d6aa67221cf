#!/usr/bin/env bash
# Builds the Oxim FFI library and generates its Kotlin, Swift and Python bindings into
# target/bindings/{kotlin,swift,python}, together with the hand-written extras of each language
# (bindings/kotlin, bindings/swift, bindings/python).
#
#   scripts/bindings.sh                 debug library (fast; what the tests use)
#   scripts/bindings.sh --profile mobile   the size-optimised shipping library
#
# Bindings are generated from the unstripped library (UniFFI's library mode reads its
# metadata symbols); a stripped copy is written next to it for shipping profiles.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=dev
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --release) profile=release; shift ;;
    *) echo "usage: $0 [--profile dev|release|mobile]" >&2; exit 2 ;;
  esac
done
case "$profile" in dev) dir=debug ;; *) dir="$profile" ;; esac
case "$(uname -s)" in Darwin) ext=dylib ;; *) ext=so ;; esac

python3 scripts/gen-renames.py --check
python3 scripts/gen-bindings.py --check

# The generator first: building it enables uniffi's "cli" feature for oxim-ffi, so the
# shipped library is built afterwards, without it.
cargo build -q -p oxim-ffi --features cli --bin uniffi-bindgen
bindgen=target/debug/uniffi-bindgen

# Library mode needs the symbol table: the "mobile" profile is built unstripped, the
# bindings come from that file, and the shipped copy is stripped afterwards.
if [ "$profile" = mobile ]; then
  # Link settings of the shipped library, given to the final link only (`cargo rustc`), so no
  # dependency is rebuilt for them and no other build sees them:
  # - `-z pack-relative-relocs`: relative relocations packed as DT_RELR instead of 24 bytes each
  #   in .rela.dyn (about 0.5 MB less). Needs glibc 2.36+ (the library then requires the
  #   GLIBC_ABI_DT_RELR version) and, on Android, API 30+ (API 28+ with Android's own RELR tags,
  #   `--pack-dyn-relocs=android+relr --use-android-relr-tags`). GNU ld 2.38+ and LLD 15+ know it.
  # - `--icf=all`: identical code folding (about 0.1 MB). LLD only: rustc's default linker on
  #   x86_64 linux is its bundled rust-lld, and the Android NDK links with LLD. Rust does not
  #   promise distinct addresses for distinct functions; Chromium links its Rust this way too.
  link_args=()
  if [ "$(uname -s)" = Linux ]; then
    link_args+=(-C link-arg=-Wl,-z,pack-relative-relocs)
    [ "$(uname -m)" = x86_64 ] && link_args+=(-C link-arg=-Wl,--icf=all)
  fi
  CARGO_PROFILE_MOBILE_STRIP=none cargo rustc -q -p oxim-ffi --lib --profile mobile -- ${link_args[@]+"${link_args[@]}"}
  meta_lib="target/$dir/liboxim_ffi.$ext"
  lib="target/$dir/liboxim_ffi.stripped.$ext"
  strip -o "$lib" "$meta_lib" 2>/dev/null || strip -x -o "$lib" "$meta_lib"
else
  cargo build -q -p oxim-ffi --profile "$profile"
  meta_lib="target/$dir/liboxim_ffi.$ext"
  lib="$meta_lib"
fi

out=target/bindings
rm -rf "$out"
for lang in kotlin swift python; do
  "$bindgen" generate --library "$meta_lib" --language "$lang" --out-dir "$out/$lang" --no-format >/dev/null
done

# The language layers over the generated code (partly generated from the UDL by
# scripts/gen-bindings.py, checked above): Android's Java/Kotlin facade (package io.oxim.imsdk.v2,
# over UniFFI's io.oxim.imsdk.v2.ffi), Swift's and Python's extras.
cp -r bindings/kotlin/src/. "$out/kotlin/"
cp bindings/swift/*.swift "$out/swift/"
cat bindings/python/oxim_generated.py bindings/python/oxim_extras.py >> "$out/python/oxim.py"
# The Python module loads the library from its own directory.
cp "$lib" "$out/python/liboxim_ffi.$ext"

echo "bindings in $out/{kotlin,swift,python} from $lib ($(du -h "$lib" | cut -f1))"
