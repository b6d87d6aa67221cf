import Foundation
import OximSDK
import XCTest
@testable import OximSampleLogic

/// A real oxim-server (the binary in $OXIM_SERVER_BIN) on an ephemeral loopback port with its own
/// data directory, and the sample's users on it: each an ImSession on its own SDK instance and
/// device directory, logged in with a UserSig that DevUserSig signed.
final class TestServer {
    let url: String
    let sdkAppID = DevUserSig.devSDKAppID
    private let process: Process
    private let dir: URL
    private var sessions: [ImSession] = []

    init() throws {
        guard let bin = ProcessInfo.processInfo.environment["OXIM_SERVER_BIN"] else {
            throw XCTSkip("set OXIM_SERVER_BIN to the oxim-server binary")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("oxim-sample-\(UUID().uuidString)")
        process = Process()
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = ["--listen", "127.0.0.1:0", "--data-dir", dir.appendingPathComponent("server").path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // "oxim-server 0.1.0 listening on 127.0.0.1:PORT"
        var banner = Data()
        while !banner.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            banner.append(chunk)
        }
        let first = String(decoding: banner, as: UTF8.self).split(separator: "\n").first ?? ""
        url = "ws://" + (first.split(separator: " ").last.map(String.init) ?? "")
    }

    func settings(device: String, platform: String = "ios") -> ServerSettings {
        ServerSettings(serverURL: url, sdkAppID: sdkAppID,
                       dataDir: dir.appendingPathComponent("devices/\(device)").path, platform: platform)
    }

    /// `user` logged in on a new device.
    func login(_ user: String, device: String? = nil, platform: String = "ios") async throws -> ImSession {
        let session = try ImSession(settings: settings(device: device ?? user, platform: platform), sdk: V2TIMManager())
        sessions.append(session)
        let state = await session.login(userID: user, userSig: DevUserSig(sdkAppID: sdkAppID).sign(user))
        XCTAssertEqual(state, .loggedIn(userID: user))
        return session
    }

    func stop() {
        sessions.forEach { $0.close() }
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: dir)
    }
}

/// Waits (with a deadline) until the state satisfies `predicate`; fails with the last state otherwise.
@discardableResult
func waitFor<Value: Sendable>(_ live: LiveState<Value>, _ what: String, seconds: Double = 15,
                  file: StaticString = #filePath, line: UInt = #line,
                  until predicate: @escaping @Sendable (Value) -> Bool) async -> Value {
    let found = await withTaskGroup(of: Value?.self) { group in
        group.addTask {
            for await value in live.values() where predicate(value) { return value }
            return nil
        }
        group.addTask {
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
    if let found { return found }
    XCTFail("timed out waiting for \(what); the state is \(live.value)", file: file, line: line)
    return live.value
}
