#!/usr/bin/env bash
# Builds the Oxim FFI library for this machine and generates its Kotlin, Swift and Python
# bindings into target/bindings/:
#   kotlin/   the generated Kotlin (UniFFI's, package io.oxim.imsdk.v2.ffi) and the Android/JVM
#             layer's generated part (scripts/gen-bindings.py: Java records, listener base
#             classes, BaseConstants, manager bases); the Maven and Gradle builds add the
#             hand-written bindings/kotlin/src beside it
#   jvm/      the library where JNA looks for it on the classpath (<os-arch>/liboxim_ffi.so)
#   swift/    the generated Swift (UniFFI's and OximGenerated.swift), its C header and module
#             map, and bindings/swift/*.swift
#   python/   oxim.py (generated, with the generated listener defaults and
#             bindings/python/oxim_extras.py appended) and the library
# The packaging scripts take it from there: build-jvm.sh, build-python.sh (build-android.sh and
# build-ios.sh generate their own from the mobile targets' libraries).
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

# The language layers over UniFFI's code: their mechanical part generated from the UDL
# (scripts/gen-bindings.py), the rest hand-written (bindings/swift, bindings/python; the Kotlin
# ones stay in bindings/kotlin/src: the Maven and Gradle builds compile both directories).
python3 scripts/gen-bindings.py "$out" >/dev/null
cp bindings/swift/*.swift "$out/swift/"
cat "$out/python/oxim_generated.py" bindings/python/oxim_extras.py >> "$out/python/oxim.py"
rm "$out/python/oxim_generated.py"

# The packaged copies of the library carry no debug information (the debug build's is >100 MB).
# The Python module loads it from its own directory; JNA from <os-arch>/ on the classpath.
strip -S -o "$out/python/liboxim_ffi.$ext" "$lib" 2>/dev/null || cp "$lib" "$out/python/liboxim_ffi.$ext"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) jna_dir=linux-x86-64 ;;
  Linux-aarch64) jna_dir=linux-aarch64 ;;
  Darwin-arm64) jna_dir=darwin-aarch64 ;;
  Darwin-x86_64) jna_dir=darwin-x86-64 ;;
  *) echo "no JNA resource directory known for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
mkdir -p "$out/jvm/$jna_dir"
cp "$out/python/liboxim_ffi.$ext" "$out/jvm/$jna_dir/"

echo "bindings in $out/{kotlin,jvm,swift,python} from $lib ($(du -h "$lib" | cut -f1))"
