//! Apple Push Notification service, token-based: each request goes over HTTP/2 to
//! `POST /3/device/{token}` with a provider token (an ES256 JWT: `kid` = key id, `iss` = team
//! id, `iat`) that is reused, and renewed after [`TOKEN_REUSE`] (Apple: not more often than
//! every 20 minutes, never older than an hour), or at once when Apple answers
//! `ExpiredProviderToken`. Headers and payload as Apple documents them ("Sending notification
//! requests to APNs", "Generating a remote notification"); answers as "Handling notification
//! responses from APNs": 400 `BadDeviceToken` and 410 `Unregistered` forget the token, 429,
//! 500 and 503 are tried again later.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::jwt::{Signer, unix_now};
use super::{PushProvider, Sent, json_body, retry_after};
use crate::config::{ApnsEnvironment, ApnsSettings};
use crate::domain::offline_push::Notification;

/// Apple's servers for apps from the App Store, TestFlight and ad hoc builds.
pub const PRODUCTION: &str = "https://api.push.apple.com";
/// Apple's servers for development builds.
pub const SANDBOX: &str = "https://api.sandbox.push.apple.com";
/// How long a provider token is used before a new one is signed (between Apple's 20-minute
/// floor and one-hour limit).
pub const TOKEN_REUSE: u64 = 50 * 60;
/// How long Apple keeps trying a device that cannot be reached (`apns-expiration`).
const EXPIRATION: u64 = 24 * 60 * 60;
/// The longest `apns-collapse-id` Apple takes.
const MAX_COLLAPSE_ID: usize = 64;

/// The base URL for `settings`: its `endpoint` when set, else the environment's.
pub fn base_url(settings: &ApnsSettings) -> String {
    if !settings.endpoint.is_empty() {
        return settings.endpoint.trim_end_matches('/').to_owned();
    }
    match settings.environment {
        ApnsEnvironment::Production => PRODUCTION.into(),
        ApnsEnvironment::Sandbox => SANDBOX.into(),
    }
}

/// The provider token in use and when it was signed.
#[derive(Default)]
struct ProviderToken {
    jwt: String,
    iat: u64,
}

/// One APNs key: pushes the devices of its business id.
pub struct ApnsProvider {
    http: reqwest::Client,
    base: String,
    topic: String,
    key_id: String,
    team_id: String,
    signer: Signer,
    token: Mutex<ProviderToken>,
}

impl ApnsProvider {
    /// The provider of `settings` (its key read from `key_file`), sending with `http` (HTTP/2).
    pub fn new(settings: &ApnsSettings, http: reqwest::Client) -> Result<ApnsProvider, String> {
        let pem = std::fs::read(&settings.key_file)
            .map_err(|e| format!("APNs key file {}: {e}", settings.key_file.display()))?;
        let signer =
            Signer::es256_from_pem(&pem).map_err(|e| format!("APNs key file {}: {e}", settings.key_file.display()))?;
        if settings.key_id.is_empty() || settings.team_id.is_empty() || settings.topic.is_empty() {
            return Err(format!("[[push.apns]] {}: key_id, team_id and topic are needed", settings.business_id));
        }
        Ok(ApnsProvider {
            http,
            base: base_url(settings),
            topic: settings.topic.clone(),
            key_id: settings.key_id.clone(),
            team_id: settings.team_id.clone(),
            signer,
            token: Mutex::new(ProviderToken::default()),
        })
    }

    /// The provider token to send at `now`: the one in use while younger than [`TOKEN_REUSE`]
    /// and not `rejected` (Apple said it expired), else a new one.
    fn provider_token(&self, now: u64, rejected: Option<&str>) -> Result<String, String> {
        let mut token = self.token.lock().expect("APNs token lock");
        let stale = token.jwt.is_empty() || now.saturating_sub(token.iat) >= TOKEN_REUSE;
        // Concurrent pushes turned away with the same token make one new token between them.
        if stale || rejected == Some(token.jwt.as_str()) {
            let jwt = self.signer.sign(json!({"kid": self.key_id}), &json!({"iss": self.team_id, "iat": now}))?;
            *token = ProviderToken { jwt, iat: now };
        }
        Ok(token.jwt.clone())
    }

    async fn post(&self, n: &Notification, jwt: &str, body: &[u8]) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self
            .http
            .post(format!("{}/3/device/{}", self.base, n.token))
            .header("authorization", format!("bearer {jwt}"))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            // 10: at once (an alert); 5 would let the device's power saving delay it.
            .header("apns-priority", "10")
            .header("apns-expiration", (unix_now() + EXPIRATION).to_string())
            .header("content-type", "application/json");
        // The same message pushed twice (a retry after a lost answer) shows once.
        if !n.msg_id.is_empty() && n.msg_id.len() <= MAX_COLLAPSE_ID {
            request = request.header("apns-collapse-id", &n.msg_id);
        }
        request.body(body.to_vec()).send().await
    }
}

/// The JSON payload of `n`: `aps` {`alert` {`title`, `body`}, `badge`, `sound`} and the
/// message's `ext` beside it for the app.
pub fn payload(n: &Notification) -> Value {
    let mut alert = json!({"body": n.body});
    if !n.title.is_empty() {
        alert["title"] = n.title.clone().into();
    }
    let sound = if n.ios_sound.is_empty() { "default" } else { n.ios_sound.as_str() };
    let mut aps = json!({"alert": alert, "sound": sound});
    if let Some(badge) = n.badge {
        aps["badge"] = badge.into();
    }
    let mut payload = json!({"aps": aps});
    if !n.ext.is_empty() {
        payload["ext"] = n.ext.clone().into();
    }
    payload
}

/// What Apple's answer `status` with `reason` (the JSON body's) means.
pub fn outcome(status: u16, reason: &str, after: Option<Duration>) -> Sent {
    match (status, reason) {
        (200, _) => Sent::Delivered,
        (400, "BadDeviceToken") | (410, _) => Sent::InvalidToken,
        (429 | 500 | 503, _) => Sent::Retry { why: format!("APNs answered {status} {reason}"), after },
        _ => Sent::Failed(format!("APNs answered {status} {reason}")),
    }
}

/// Device tokens are hexadecimal: anything else cannot be one (and must not reach the path).
fn plausible_token(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[async_trait]
impl PushProvider for ApnsProvider {
    async fn send(&self, n: &Notification) -> Sent {
        if !plausible_token(&n.token) {
            return Sent::InvalidToken;
        }
        let body = payload(n).to_string().into_bytes();
        let mut rejected: Option<String> = None;
        loop {
            let jwt = match self.provider_token(unix_now(), rejected.as_deref()) {
                Ok(jwt) => jwt,
                Err(e) => return Sent::Failed(format!("APNs provider token: {e}")),
            };
            let res = match self.post(n, &jwt, &body).await {
                Ok(res) => res,
                Err(e) => return Sent::Retry { why: format!("APNs: {e}"), after: None },
            };
            let status = res.status().as_u16();
            let after = retry_after(res.headers());
            let reason = json_body(res).await["reason"].as_str().unwrap_or_default().to_owned();
            if status == 403 && reason == "ExpiredProviderToken" && rejected.is_none() {
                tracing::info!("APNs: provider token expired, signing a new one");
                rejected = Some(jwt);
                continue;
            }
            return outcome(status, &reason, after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(environment: ApnsEnvironment, endpoint: &str) -> ApnsSettings {
        ApnsSettings {
            business_id: 1,
            key_file: "k.p8".into(),
            key_id: "K".into(),
            team_id: "T".into(),
            topic: "com.example".into(),
            environment,
            endpoint: endpoint.into(),
        }
    }

    #[test]
    fn the_environment_chooses_apples_servers_unless_an_endpoint_is_given() {
        assert_eq!(base_url(&settings(ApnsEnvironment::Production, "")), "https://api.push.apple.com");
        assert_eq!(base_url(&settings(ApnsEnvironment::Sandbox, "")), "https://api.sandbox.push.apple.com");
        assert_eq!(base_url(&settings(ApnsEnvironment::Sandbox, "https://127.0.0.1:9/")), "https://127.0.0.1:9");
    }

    #[test]
    fn a_provider_token_is_reused_for_50_minutes_and_renewed_when_apple_calls_it_expired() {
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        let http = super::super::http_client(Duration::from_secs(1), None, true).unwrap();
        let apns = ApnsProvider {
            http,
            base: PRODUCTION.into(),
            topic: "com.example".into(),
            key_id: "K".into(),
            team_id: "T".into(),
            signer: Signer::Es256(key),
            token: Mutex::new(ProviderToken::default()),
        };
        let first = apns.provider_token(1_000, None).unwrap();
        assert_eq!(apns.provider_token(1_000 + TOKEN_REUSE - 1, None).unwrap(), first, "reused");
        let second = apns.provider_token(1_000 + TOKEN_REUSE, None).unwrap();
        assert_ne!(second, first, "renewed after 50 minutes");
        // A push rejected with the first token (sent before the renewal) keeps the second.
        assert_eq!(apns.provider_token(1_000 + TOKEN_REUSE + 1, Some(&first)).unwrap(), second);
        let third = apns.provider_token(1_000 + TOKEN_REUSE + 2, Some(&second)).unwrap();
        assert_ne!(third, second, "renewed when Apple says it expired");
    }

    #[test]
    fn apples_documented_answers() {
        assert_eq!(outcome(200, "", None), Sent::Delivered);
        assert_eq!(outcome(400, "BadDeviceToken", None), Sent::InvalidToken);
        assert_eq!(outcome(410, "Unregistered", None), Sent::InvalidToken);
        assert!(matches!(outcome(400, "BadTopic", None), Sent::Failed(_)));
        assert!(matches!(outcome(403, "InvalidProviderToken", None), Sent::Failed(_)));
        for status in [429, 500, 503] {
            assert!(matches!(outcome(status, "", None), Sent::Retry { .. }), "{status}");
        }
        assert!(!plausible_token("ab/../x") && plausible_token("0a1B"));
    }

    #[test]
    fn the_payload_carries_alert_badge_sound_and_ext() {
        let n = Notification {
            user: "bob".into(),
            platform: "iphone".into(),
            business_id: 1,
            token: "ab".into(),
            is_tpns_token: false,
            title: "T".into(),
            body: "Alice: hi".into(),
            ext: "{\"a\":1}".into(),
            ios_sound: String::new(),
            badge: Some(3),
            android_oppo_channel_id: String::new(),
            ext_is_json: true,
            msg_id: "m".into(),
            sender: "alice".into(),
            group_id: String::new(),
        };
        assert_eq!(
            payload(&n),
            json!({"aps": {"alert": {"title": "T", "body": "Alice: hi"}, "badge": 3, "sound": "default"}, "ext": "{\"a\":1}"})
        );
        let quiet =
            Notification { badge: None, title: String::new(), ext: String::new(), ios_sound: "d.caf".into(), ..n };
        assert_eq!(payload(&quiet), json!({"aps": {"alert": {"body": "Alice: hi"}, "sound": "d.caf"}}));
    }
}
