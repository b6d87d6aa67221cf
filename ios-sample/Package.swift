// swift-tools-version:5.9
// The Oxim iOS sample, as a Swift package beside the SDK's (the repository root's Package.swift):
//   OximSampleLogic  Foundation only: login, the conversation list, a chat, a 1:1 call over
//                    signaling, a voice room's mic seats. The SDK calls live here.
//   OximSampleUI     SwiftUI screens over the logic (iOS and macOS).
//   OximSampleApp    the app (`swift run OximSampleApp` on a Mac; an iOS app target in Xcode
//                    shows `SampleRootView()` from OximSampleUI the same way).
// The logic's tests run against a live oxim-server ($OXIM_SERVER_BIN) with `swift test`.
// Build the SDK first: scripts/build-ios.sh (on a Mac with Xcode) writes the XCFramework and the
// Swift sources that ../Package.swift points at.
import PackageDescription

let package = Package(
    name: "OximSample",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "OximSampleLogic", targets: ["OximSampleLogic"]),
        .library(name: "OximSampleUI", targets: ["OximSampleUI"]),
        .executable(name: "OximSampleApp", targets: ["OximSampleApp"]),
    ],
    dependencies: [
        // An app outside this repository: .package(url: "https://github.com/oxim/oxim", from: "0.1.0")
        .package(name: "Oxim", path: ".."),
    ],
    targets: [
        .target(name: "OximSampleLogic", dependencies: [.product(name: "OximSDK", package: "Oxim")]),
        .target(name: "OximSampleUI", dependencies: ["OximSampleLogic"]),
        .executableTarget(name: "OximSampleApp", dependencies: ["OximSampleUI"]),
        .testTarget(name: "OximSampleLogicTests", dependencies: ["OximSampleLogic", .product(name: "OximSDK", package: "Oxim")]),
    ]
)
