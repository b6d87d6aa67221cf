//! UserSig in Tencent's TLSSigAPIv2 format, so that a backend which already signs Tencent
//! UserSigs can sign Oxim's with the same code.
//!
//! A UserSig is `base64url'(zlib(json))`, where base64url' is standard base64 with `+ / =`
//! replaced by `* - _`, and the JSON is
//! `{"TLS.ver":"2.0","TLS.identifier":..,"TLS.sdkappid":..,"TLS.time":..,"TLS.expire":..,"TLS.sig":..}`
//! with `TLS.sig = base64(HMAC-SHA256(secret, "TLS.identifier:{id}\nTLS.sdkappid:{app}\nTLS.time:{t}\nTLS.expire:{e}\n"))`
//! (plus `TLS.userbuf:{b}\n` when a userbuf is present).

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use oxim_proto::code;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a UserSig was refused; each maps to a V2TIM error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// The ticket is empty.
    #[error("UserSig is empty")]
    Empty,
    /// Not base64url / zlib / the expected JSON.
    #[error("UserSig cannot be decoded: {0}")]
    Malformed(String),
    /// The HMAC does not match: forged, or signed with another key.
    #[error("UserSig signature verification failed")]
    BadSignature,
    /// Signed for another user.
    #[error("UserSig was issued for user {0:?}")]
    IdentifierMismatch(String),
    /// Signed for another app.
    #[error("UserSig was issued for SDKAppID {0}")]
    SdkAppIdMismatch(u64),
    /// Past `time + expire`.
    #[error("UserSig expired at {0}")]
    Expired(i64),
}

impl SigError {
    /// The V2TIM error code for this failure.
    pub fn code(&self) -> i32 {
        match self {
            SigError::Empty => code::USERSIG_EMPTY,
            SigError::Malformed(_) => code::USERSIG_INVALID,
            SigError::BadSignature => code::USERSIG_VERIFY_FAILED,
            SigError::IdentifierMismatch(_) => code::USERSIG_IDENTIFIER_MISMATCH,
            SigError::SdkAppIdMismatch(_) => code::USERSIG_SDKAPPID_MISMATCH,
            SigError::Expired(_) => code::USERSIG_EXPIRED,
        }
    }
}

/// The signed claims of a valid UserSig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigClaims {
    /// User id.
    pub identifier: String,
    /// App id.
    pub sdk_app_id: u64,
    /// Issue time, Unix seconds.
    pub time: i64,
    /// Validity in seconds from `time`.
    pub expire: i64,
}

impl SigClaims {
    /// Unix second from which the ticket is no longer valid.
    pub fn expires_at(&self) -> i64 {
        self.time.saturating_add(self.expire)
    }
}

/// Signs and verifies UserSigs for one app.
#[derive(Clone)]
pub struct UserSigKey {
    sdk_app_id: u64,
    secret: String,
}

impl std::fmt::Debug for UserSigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSigKey").field("sdk_app_id", &self.sdk_app_id).finish_non_exhaustive()
    }
}

impl UserSigKey {
    /// A key for `sdk_app_id` with the app's secret key.
    pub fn new(sdk_app_id: u64, secret: impl Into<String>) -> Self {
        UserSigKey { sdk_app_id, secret: secret.into() }
    }

    /// The HMAC over the signed content, not yet finalised.
    fn hmac(&self, identifier: &str, sdk_app_id: u64, time: i64, expire: i64, userbuf: Option<&str>) -> HmacSha256 {
        let mut content =
            format!("TLS.identifier:{identifier}\nTLS.sdkappid:{sdk_app_id}\nTLS.time:{time}\nTLS.expire:{expire}\n");
        if let Some(buf) = userbuf {
            content.push_str(&format!("TLS.userbuf:{buf}\n"));
        }
        let mut mac = HmacSha256::new_from_slice(self.secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(content.as_bytes());
        mac
    }

    fn mac(&self, identifier: &str, sdk_app_id: u64, time: i64, expire: i64, userbuf: Option<&str>) -> Vec<u8> {
        self.hmac(identifier, sdk_app_id, time, expire, userbuf).finalize().into_bytes().to_vec()
    }

    /// Issues a UserSig for `identifier`, valid `expire` seconds from `now` (Unix seconds).
    pub fn sign(&self, identifier: &str, now: i64, expire: i64) -> String {
        let sig = STANDARD.encode(self.mac(identifier, self.sdk_app_id, now, expire, None));
        let json = serde_json::json!({
            "TLS.ver": "2.0",
            "TLS.identifier": identifier,
            "TLS.sdkappid": self.sdk_app_id,
            "TLS.expire": expire,
            "TLS.time": now,
            "TLS.sig": sig,
        })
        .to_string();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(json.as_bytes()).expect("writing to a Vec");
        let compressed = z.finish().expect("writing to a Vec");
        to_url_variant(&STANDARD.encode(compressed))
    }

    /// Checks `user_sig` for `user_id` at `now` (Unix seconds).
    ///
    /// Checks run in the order a client can act on: decoding, app, user, signature, expiry.
    pub fn verify(&self, user_sig: &str, user_id: &str, now: i64) -> Result<SigClaims, SigError> {
        if user_sig.is_empty() {
            return Err(SigError::Empty);
        }
        let compressed =
            STANDARD.decode(from_url_variant(user_sig)).map_err(|e| SigError::Malformed(format!("base64: {e}")))?;
        let mut json = Vec::new();
        flate2::read::ZlibDecoder::new(&compressed[..])
            .take(64 * 1024)
            .read_to_end(&mut json)
            .map_err(|e| SigError::Malformed(format!("zlib: {e}")))?;
        let doc: serde_json::Value =
            serde_json::from_slice(&json).map_err(|e| SigError::Malformed(format!("json: {e}")))?;

        let identifier = doc
            .get("TLS.identifier")
            .and_then(|v| v.as_str())
            .ok_or_else(|| SigError::Malformed("TLS.identifier missing".into()))?
            .to_owned();
        let sdk_app_id = int_field(&doc, "TLS.sdkappid")? as u64;
        let time = int_field(&doc, "TLS.time")?;
        let expire = int_field(&doc, "TLS.expire")?;
        let sig =
            doc.get("TLS.sig").and_then(|v| v.as_str()).ok_or_else(|| SigError::Malformed("TLS.sig missing".into()))?;
        let userbuf = doc.get("TLS.userbuf").and_then(|v| v.as_str());

        if sdk_app_id != self.sdk_app_id {
            return Err(SigError::SdkAppIdMismatch(sdk_app_id));
        }
        if identifier != user_id {
            return Err(SigError::IdentifierMismatch(identifier));
        }
        let given = STANDARD.decode(sig).map_err(|_| SigError::BadSignature)?;
        // verify_slice compares in constant time.
        self.hmac(&identifier, sdk_app_id, time, expire, userbuf)
            .verify_slice(&given)
            .map_err(|_| SigError::BadSignature)?;

        let claims = SigClaims { identifier, sdk_app_id, time, expire };
        if now >= claims.expires_at() {
            return Err(SigError::Expired(claims.expires_at()));
        }
        Ok(claims)
    }
}

/// Some reference implementations write numbers, others strings.
fn int_field(doc: &serde_json::Value, key: &str) -> Result<i64, SigError> {
    match doc.get(key) {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| SigError::Malformed(format!("{key} missing or not a number")))
}

fn to_url_variant(b64: &str) -> String {
    b64.chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            c => c,
        })
        .collect()
}

fn from_url_variant(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Test vectors made with Tencent's reference implementation, the PyPI package
    // `tls-sig-api-v2` 1.1 (tencentyun/tls-sig-api-v2-python), with its clock fixed at
    // 1700000000 and the demo key from that repository's README:
    //   api = TLSSigAPIv2(1400000000, KEY); api.gen_sig("xiaojun", 86400*180); api.gen_sig("alice", 3600)
    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const APP: u64 = 1400000000;
    const T0: i64 = 1_700_000_000;
    const XIAOJUN: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpYJkTE1NjRDiJZm5YFFzNPXFmekgG3zKHM1T9D3LzdODi-OKs8vCqpxcAvydnV2SSv2cy03cPcpDnA2SMgu0nUxslWoBHdYzUg__";
    const ALICE: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkEnMyk1NhUsUp2YkFBZkpQAlDEwMogMqlVhRkFqUCZYzN4GIlmbkgEUNzNLXFmekgs7Ndy9zM9Q38nHyKS0K8PF2SKkK8PRONjJNKo6IsPdKDyy0iggsqQ-TLgkxslWoBvioxWw__";

    #[test]
    fn verifies_tencent_reference_usersigs() {
        let key = UserSigKey::new(APP, KEY);
        let claims = key.verify(XIAOJUN, "xiaojun", T0 + 10).unwrap();
        assert_eq!(claims, SigClaims { identifier: "xiaojun".into(), sdk_app_id: APP, time: T0, expire: 86400 * 180 });
        let claims = key.verify(ALICE, "alice", T0).unwrap();
        assert_eq!(claims.expires_at(), T0 + 3600);
    }

    #[test]
    fn refuses_reference_usersig_after_expiry_and_for_other_users() {
        let key = UserSigKey::new(APP, KEY);
        assert_eq!(key.verify(ALICE, "alice", T0 + 3600), Err(SigError::Expired(T0 + 3600)));
        assert_eq!(key.verify(ALICE, "bob", T0).unwrap_err().code(), 70013);
        assert_eq!(UserSigKey::new(APP + 1, KEY).verify(ALICE, "alice", T0).unwrap_err().code(), 70014);
        assert_eq!(UserSigKey::new(APP, "another-key").verify(ALICE, "alice", T0).unwrap_err().code(), 70009);
    }

    #[test]
    fn own_signatures_match_the_reference_bit_for_bit_in_the_mac() {
        // Same claims signed by us must verify, and a tampered payload must not.
        let key = UserSigKey::new(APP, KEY);
        let sig = key.sign("carol", T0, 60);
        assert_eq!(key.verify(&sig, "carol", T0 + 59).unwrap().identifier, "carol");
        assert_eq!(key.verify(&sig, "carol", T0 + 60).unwrap_err().code(), 70001);

        // Re-sign the same JSON with a longer expiry but keep the old MAC: a forgery.
        let forged = {
            let json = serde_json::json!({
                "TLS.ver": "2.0", "TLS.identifier": "carol", "TLS.sdkappid": APP,
                "TLS.expire": 999999, "TLS.time": T0,
                "TLS.sig": STANDARD.encode(key.mac("carol", APP, T0, 60, None)),
            })
            .to_string();
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(json.as_bytes()).unwrap();
            to_url_variant(&STANDARD.encode(z.finish().unwrap()))
        };
        assert_eq!(key.verify(&forged, "carol", T0).unwrap_err(), SigError::BadSignature);
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let key = UserSigKey::new(APP, KEY);
        assert_eq!(key.verify("", "a", T0).unwrap_err().code(), 70002);
        for bad in ["%%%", "eJyr", "AAAA", &to_url_variant(&STANDARD.encode(b"not zlib"))] {
            assert_eq!(key.verify(bad, "a", T0).unwrap_err().code(), 70003, "{bad}");
        }
    }
}
