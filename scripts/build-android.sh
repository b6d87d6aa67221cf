#!/usr/bin/env bash
# Builds the Android AAR io.oxim:oxim-imsdk-android:
#  1. the FFI library for arm64-v8a, armeabi-v7a and x86_64 with cargo-ndk, in the size-optimised
#     `mobile` profile, linked with 16 KB pages (64-bit ABIs; Android 15+ devices may use them),
#     packed relocations and identical-code folding, for API level $ANDROID_API and up;
#  2. the Kotlin bindings, generated from the unstripped arm64-v8a library (UniFFI reads its
#     metadata symbols), into target/android/kotlin;
#  3. the stripped libraries into target/android/jniLibs/<abi>/ (each 64-bit one checked for
#     16 KB LOAD alignment);
#  4. the Gradle library module bindings/android (the generated Kotlin, bindings/kotlin/src,
#     jniLibs, consumer ProGuard rules; depends on JNA's @aar and kotlinx-coroutines): the AAR in
#     bindings/android/build/outputs/aar/, and a Maven repository with its POM and sources jar
#     in target/android/maven (`gradle` on the PATH, e.g. from CI's setup-gradle; --no-gradle
#     stops after step 3).
#
#   scripts/build-android.sh [--no-gradle]   needs an Android NDK (r23+): $ANDROID_NDK_HOME,
#                                           $ANDROID_NDK_ROOT or $ANDROID_NDK_LATEST_HOME
#   scripts/build-android.sh --check         on a machine without an NDK: what can be checked
#                                           (see check_without_ndk below)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

ANDROID_API=24          # the AAR's minSdk: Android 7.0
CARGO_NDK_VERSION=4.1.2
ABIS=(arm64-v8a armeabi-v7a x86_64)
triple() {
  case "$1" in
    arm64-v8a) echo aarch64-linux-android ;;
    armeabi-v7a) echo armv7-linux-androideabi ;;
    x86_64) echo x86_64-linux-android ;;
  esac
}

# Without an NDK (this project's build machine): the Rust targets install, the pure-Rust crate
# checks for every ABI, and the whole FFI crate with its dependencies type-checks for arm64-v8a
# (64-bit) and armeabi-v7a (32-bit). The C inside two dependencies (ring, SQLite) has to be
# compiled for `cargo check` to run their build scripts; Debian's cross gcc stands in for the
# NDK's clang there. Its objects are never linked or shipped: this proves the Rust code builds
# for Android, not the C.
check_without_ndk() {
  rustup target add $(for abi in "${ABIS[@]}"; do triple "$abi"; done)
  for abi in "${ABIS[@]}"; do
    echo "cargo check --target $(triple "$abi") -p oxim-proto"
    cargo check -q --target "$(triple "$abi")" -p oxim-proto
  done
  local cross
  for cross in aarch64-linux-android:aarch64-linux-gnu armv7-linux-androideabi:arm-linux-gnueabi; do
    local t=${cross%%:*} gcc=${cross#*:}
    command -v "$gcc-gcc" >/dev/null || _apt_install "gcc-$gcc"
    echo "cargo check --target $t -p oxim-ffi (C compiled by $gcc-gcc as a stand-in)"
    env "CC_${t//-/_}=$gcc-gcc" "AR_${t//-/_}=$gcc-ar" cargo check -q --target "$t" -p oxim-ffi
  done
  echo "checked without an NDK; the AAR itself is built by .github/workflows/android.yml"
}

gradle=1
case "${1:-}" in
  --check) check_without_ndk; exit 0 ;;
  --no-gradle) gradle=0 ;;
  "") ;;
  *) echo "usage: $0 [--no-gradle | --check]" >&2; exit 2 ;;
esac

ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-${ANDROID_NDK_LATEST_HOME:-}}}"
if [ -z "$ndk" ] || [ ! -d "$ndk/toolchains/llvm/prebuilt" ]; then
  echo "no Android NDK: set ANDROID_NDK_HOME (or run '$0 --check' for what works without one)" >&2
  exit 1
fi
export ANDROID_NDK_HOME="$ndk"
llvm_bin=$(echo "$ndk"/toolchains/llvm/prebuilt/*/bin)

rustup target add $(for abi in "${ABIS[@]}"; do triple "$abi"; done)
if [ "$(cargo ndk --version 2>/dev/null | awk '{print $2}')" != "$CARGO_NDK_VERSION" ]; then
  cargo install --locked --quiet "cargo-ndk@$CARGO_NDK_VERSION"
fi
cargo build -q -p oxim-ffi --features cli --bin uniffi-bindgen

out=target/android
rm -rf "$out/kotlin" "$out/jniLibs"
for abi in "${ABIS[@]}"; do
  t=$(triple "$abi")
  # Link settings of the final link only (see scripts/bindings.sh for why each one):
  # --pack-dyn-relocs=android: packed relocations, which Android reads from API 23.
  link=(-C link-arg=-Wl,--pack-dyn-relocs=android -C link-arg=-Wl,--icf=all)
  case "$abi" in arm64-v8a|x86_64) link+=(-C link-arg=-Wl,-z,max-page-size=16384) ;; esac
  echo "building liboxim_ffi.so for $abi ($t, API $ANDROID_API, profile mobile)"
  CARGO_PROFILE_MOBILE_STRIP=none cargo ndk -t "$abi" -P "$ANDROID_API" \
    rustc -q -p oxim-ffi --lib --crate-type cdylib --profile mobile -- "${link[@]}"
  mkdir -p "$out/jniLibs/$abi"
  "$llvm_bin/llvm-strip" --strip-all -o "$out/jniLibs/$abi/liboxim_ffi.so" "target/$t/mobile/liboxim_ffi.so"
  case "$abi" in
    arm64-v8a|x86_64)
      if "$llvm_bin/llvm-readelf" -lW "$out/jniLibs/$abi/liboxim_ffi.so" | awk '$1 == "LOAD" && $NF != "0x4000" {bad=1} END {exit !bad}'; then
        echo "$abi: a LOAD segment is not 16 KB aligned" >&2; exit 1
      fi ;;
  esac
  echo "  $out/jniLibs/$abi/liboxim_ffi.so: $(du -h "$out/jniLibs/$abi/liboxim_ffi.so" | cut -f1)"
done

# Bindings from the unstripped library (the stripped ones have no metadata symbols left).
target/debug/uniffi-bindgen generate --library target/aarch64-linux-android/mobile/liboxim_ffi.so \
  --language kotlin --out-dir "$out/kotlin" --no-format >/dev/null
# The Android layer's generated part (Java records, listener bases, BaseConstants) beside it.
python3 scripts/gen-bindings.py "$out" >/dev/null
rm -rf "$out/swift" "$out/python"
echo "Kotlin bindings in $out/kotlin"

[ "$gradle" = 1 ] || exit 0
command -v gradle >/dev/null || { echo "no gradle on the PATH (CI sets it up; or pass --no-gradle)" >&2; exit 1; }
gradle -p bindings/android --no-daemon -q assembleRelease publishReleasePublicationToProjectRepository
aar=$(ls bindings/android/build/outputs/aar/*-release.aar)
echo "built $aar ($(du -h "$aar" | cut -f1)); Maven repository with io.oxim:oxim-imsdk-android in $out/maven"
