//! Offline push on the wire: a device's push registration (`V2TIMOfflinePushConfig`), its
//! background state with the badge the app reported (`doBackground`), and the check both the
//! SDK and the server run on a registration. Pure: no I/O.

use serde::{Deserialize, Serialize};

/// The longest push token accepted, in bytes (APNs tokens are 64 hex digits, FCM's about 160;
/// vendor tokens are shorter than this).
pub const MAX_TOKEN_LEN: usize = 1024;

/// `push.config`: the device's push registration (`V2TIMOfflinePushConfig`). The device is the
/// caller's user on the caller's platform (one session per user and platform).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PushConfig {
    /// The certificate id the push console gave for this app and vendor (V2TIM's businessID).
    pub business_id: i64,
    /// The vendor's device token (APNs token as hex, FCM registration token, vendor regId).
    pub token: String,
    /// Whether `token` is a TPNS token (V2TIM's isTPNSToken); kept and passed on to providers.
    #[serde(default)]
    pub is_tpns_token: bool,
}

/// `push.background`: the app went to the background with `unread_count` as its badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BackgroundReq {
    /// The badge the app shows (V2TIM's doBackground unreadCount); pushes count on from it.
    pub unread_count: u32,
}

/// Why a registration is refused (the code is 6017 on both sides, as V2TIM's SDK answers).
pub fn check_config(config: &PushConfig) -> Result<(), String> {
    if config.business_id <= 0 {
        return Err(format!("businessID must be positive (the push certificate id), not {}", config.business_id));
    }
    if config.token.is_empty() {
        return Err("the push token is empty".into());
    }
    if config.token.len() > MAX_TOKEN_LEN {
        return Err(format!("the push token is longer than {MAX_TOKEN_LEN} bytes"));
    }
    if config.token.chars().any(char::is_control) {
        return Err("the push token contains control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_needs_a_certificate_id_and_a_plain_token_of_bounded_length() {
        let ok = PushConfig { business_id: 6768, token: "t".repeat(MAX_TOKEN_LEN), is_tpns_token: false };
        assert!(check_config(&ok).is_ok());
        assert!(check_config(&PushConfig { business_id: 0, ..ok.clone() }).is_err());
        assert!(check_config(&PushConfig { token: String::new(), ..ok.clone() }).is_err());
        assert!(check_config(&PushConfig { token: "t".repeat(MAX_TOKEN_LEN + 1), ..ok.clone() }).is_err());
        assert!(check_config(&PushConfig { token: "a\nb".into(), ..ok }).is_err());
    }
}
