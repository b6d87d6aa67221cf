import CryptoKit
import Foundation

/// Makes UserSigs on the device, for development only (Tencent's samples call it
/// `GenerateTestUserSig`).
///
/// A UserSig proves to the server that your backend let this user in: it is signed with the app's
/// secret key, and that key must never ship inside an app. In production your backend signs
/// UserSigs (with Tencent's TLSSigAPIv2 libraries: Oxim uses the same format) and the app asks it
/// for one at login. During development the server's published development key
/// (`DevUserSig.devSecretKey`, printed by `oxim-server` at start) lets the sample sign its own.
public struct DevUserSig: Sendable {
    /// The development key every `oxim-server` uses until it is given its own (`--secret-key`).
    public static let devSecretKey = "oxim-dev-secret-key-do-not-use-in-production"
    /// The development SDKAppID of `oxim-server`.
    public static let devSDKAppID: Int64 = 1_400_000_000

    public let sdkAppID: Int64
    public let secretKey: String

    public init(sdkAppID: Int64, secretKey: String = DevUserSig.devSecretKey) {
        self.sdkAppID = sdkAppID
        self.secretKey = secretKey
    }

    /// A UserSig for `userID`, valid for `expireSeconds` from `now` (Unix seconds).
    public func sign(_ userID: String, expireSeconds: Int64 = 7 * 86400,
                     now: Int64 = Int64(Date().timeIntervalSince1970)) -> String {
        let signed = "TLS.identifier:\(userID)\nTLS.sdkappid:\(sdkAppID)\nTLS.time:\(now)\nTLS.expire:\(expireSeconds)\n"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signed.utf8), using: SymmetricKey(data: Data(secretKey.utf8)))
        let doc: [String: Any] = [
            "TLS.ver": "2.0", "TLS.identifier": userID, "TLS.sdkappid": sdkAppID,
            "TLS.time": now, "TLS.expire": expireSeconds, "TLS.sig": Data(mac).base64EncodedString(),
        ]
        let json = try! JSONSerialization.data(withJSONObject: doc)
        // zlib, then base64 with the URL-unsafe characters swapped as TLSSigAPIv2 does.
        return Self.zlib(json).base64EncodedString()
            .replacingOccurrences(of: "+", with: "*")
            .replacingOccurrences(of: "/", with: "-")
            .replacingOccurrences(of: "=", with: "_")
    }

    /// The zlib format (RFC 1950): Foundation's `.zlib` gives the raw deflate stream (RFC 1951),
    /// so the header and the Adler-32 trailer are added here.
    static func zlib(_ data: Data) -> Data {
        let deflated = try! (data as NSData).compressed(using: .zlib) as Data
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        let adler = (b << 16) | a
        var out = Data([0x78, 0x9C])
        out.append(deflated)
        out.append(contentsOf: [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)])
        return out
    }
}
