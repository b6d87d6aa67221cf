#!/usr/bin/env bash
# Builds the iOS XCFramework and the Swift package sources (on a Mac with Xcode):
#  1. the FFI library as a static library in the size-optimised `mobile` profile for
#     iOS devices (aarch64-apple-ios), the iOS simulator (aarch64-apple-ios-sim + x86_64-apple-ios,
#     one fat library) and macOS (aarch64-apple-darwin + x86_64-apple-darwin: `swift test` of
#     packages that use the SDK runs there);
#  2. the Swift bindings, C header and module map, generated from the device library (static
#     libraries keep UniFFI's metadata symbols; apps strip at their own link);
#  3. target/ios/oximFFI.xcframework (`xcodebuild -create-xcframework`) and its zip with the
#     checksum SwiftPM wants (target/ios/oximFFI.xcframework.zip, .checksum);
#  4. target/ios/swift/OximSDK/: the generated OximSDK.swift and bindings/swift/*.swift, the
#     sources of the package's `OximSDK` target (Package.swift at the repository root).
#
#   scripts/build-ios.sh        then add the repository as a local Swift package (by path)
#
# Without Xcode (this project's build machine), `scripts/build-ios.sh --check` does what can be
# done: the Rust targets that install, a check of the pure-Rust crates for iOS, and the Swift
# syntax of Package.swift (tree-sitter, like scripts/test-swift.sh does for the bindings).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

IOS_MIN=13.0
MACOS_MIN=10.15
DEVICE=(aarch64-apple-ios)
SIMULATOR=(aarch64-apple-ios-sim x86_64-apple-ios)
MACOS=(aarch64-apple-darwin x86_64-apple-darwin)

if [ "${1:-}" = --check ]; then
  # The simulator targets do not install on Linux; the device target does.
  rustup target add aarch64-apple-ios
  echo "cargo check --target aarch64-apple-ios -p oxim-proto"
  cargo check -q --target aarch64-apple-ios -p oxim-proto
  ensure_python_packages
  "$OXIM_TOOLS_PYTHON" scripts/check-swift.py Package.swift
  echo "checked without Xcode; the XCFramework itself is built by .github/workflows/ios.yml"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [--check]" >&2; exit 2; }
command -v xcodebuild >/dev/null || { echo "needs Xcode (xcodebuild); '$0 --check' runs without it" >&2; exit 1; }

rustup target add "${DEVICE[@]}" "${SIMULATOR[@]}" "${MACOS[@]}"
cargo build -q -p oxim-ffi --features cli --bin uniffi-bindgen

export IPHONEOS_DEPLOYMENT_TARGET=$IOS_MIN MACOSX_DEPLOYMENT_TARGET=$MACOS_MIN
for t in "${DEVICE[@]}" "${SIMULATOR[@]}" "${MACOS[@]}"; do
  echo "building liboxim_ffi.a for $t (profile mobile)"
  cargo rustc -q -p oxim-ffi --lib --crate-type staticlib --profile mobile --target "$t"
done

out=target/ios
rm -rf "$out"
mkdir -p "$out/generated" "$out/headers/oximFFI" "$out/lib/ios" "$out/lib/ios-simulator" "$out/lib/macos" "$out/swift/OximSDK"
target/debug/uniffi-bindgen generate --library "target/${DEVICE[0]}/mobile/liboxim_ffi.a" \
  --language swift --out-dir "$out/generated" --no-format >/dev/null

# The module map in a directory named after the module: XCFrameworks of several libraries would
# otherwise each put a module.modulemap at the same place in the app's build.
cp "$out/generated/oximFFI.h" "$out/headers/oximFFI/"
cp "$out/generated/oximFFI.modulemap" "$out/headers/oximFFI/module.modulemap"
cp "target/${DEVICE[0]}/mobile/liboxim_ffi.a" "$out/lib/ios/"
lipo -create $(for t in "${SIMULATOR[@]}"; do echo "target/$t/mobile/liboxim_ffi.a"; done) -output "$out/lib/ios-simulator/liboxim_ffi.a"
lipo -create $(for t in "${MACOS[@]}"; do echo "target/$t/mobile/liboxim_ffi.a"; done) -output "$out/lib/macos/liboxim_ffi.a"

xcodebuild -create-xcframework \
  -library "$out/lib/ios/liboxim_ffi.a" -headers "$out/headers" \
  -library "$out/lib/ios-simulator/liboxim_ffi.a" -headers "$out/headers" \
  -library "$out/lib/macos/liboxim_ffi.a" -headers "$out/headers" \
  -output "$out/oximFFI.xcframework"
(cd "$out" && ditto -c -k --sequesterRsrc --keepParent oximFFI.xcframework oximFFI.xcframework.zip)
swift package compute-checksum "$out/oximFFI.xcframework.zip" > "$out/oximFFI.xcframework.zip.checksum"

cp "$out/generated/OximSDK.swift" bindings/swift/*.swift "$out/swift/OximSDK/"
echo "built $out/oximFFI.xcframework (zip $(du -h "$out/oximFFI.xcframework.zip" | cut -f1), checksum $(cat "$out/oximFFI.xcframework.zip.checksum"))"
echo "Swift sources in $out/swift/OximSDK; Package.swift uses both"
