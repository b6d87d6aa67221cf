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

# The generator first: building it enables uniffi's "cli" feature for oxim-ffi, so the
# shipped library is built afterwards, without it.
cargo build -q -p oxim-ffi --features cli --bin uniffi-bindgen
bindgen=target/debug/uniffi-bindgen

# Library mode needs the symbol table: the "mobile" profile is built unstripped, the
# bindings come from that file, and the shipped copy is stripped afterwards.
if [ "$profile" = mobile ]; then
  CARGO_PROFILE_MOBILE_STRIP=none cargo build -q -p oxim-ffi --profile mobile
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

# Hand-written extras: V2TIM's listener base classes and add/remove-by-object.
cp bindings/kotlin/src/io/oxim/imsdk/v2/*.kt "$out/kotlin/io/oxim/imsdk/v2/"
cp bindings/swift/*.swift "$out/swift/"
cat bindings/python/oxim_extras.py >> "$out/python/oxim.py"
# The Python module loads the library from its own directory.
cp "$lib" "$out/python/liboxim_ffi.$ext"

echo "bindings in $out/{kotlin,swift,python} from $lib ($(du -h "$lib" | cut -f1))"
