// swift-tools-version:5.9
// The Oxim SDK as a Swift package: the XCFramework of the Rust library (binary target `oximFFI`)
// and the Swift API over it (target `OximSDK`: the bindings UniFFI generates from udl/oxim.udl,
// with bindings/swift/*.swift). An app adds the product `OximSDK` and writes `import OximSDK`.
//
// From a checkout: run scripts/build-ios.sh on a Mac with Xcode (it writes target/ios/), then add
// this directory as a local package. From a release: add the repository URL at a release tag; the
// tag's commit carries the generated sources and sets `release` below to the published
// XCFramework (see .github/workflows/release.yml).
import PackageDescription

/// The released XCFramework zip and its SwiftPM checksum; nil for a local build.
let release: (url: String, checksum: String)? = nil

let ffi: Target
if let release {
    ffi = .binaryTarget(name: "oximFFI", url: release.url, checksum: release.checksum)
} else {
    ffi = .binaryTarget(name: "oximFFI", path: "target/ios/oximFFI.xcframework")
}

let package = Package(
    name: "Oxim",
    platforms: [.iOS(.v13), .macOS(.v10_15)],
    products: [
        .library(name: "OximSDK", targets: ["OximSDK"]),
    ],
    targets: [
        ffi,
        .target(
            name: "OximSDK",
            dependencies: ["oximFFI"],
            path: "target/ios/swift/OximSDK"
        ),
    ]
)
