//! Firebase Cloud Messaging, HTTP v1 API: `POST /v1/projects/{project_id}/messages:send` with an
//! OAuth 2.0 access token of a service account. The token comes from the account's `token_uri`
//! for an RS256-signed JWT assertion (grant `urn:ietf:params:oauth:grant-type:jwt-bearer`, scope
//! `firebase.messaging`; Google's "Using OAuth 2.0 for Server to Server Applications") and is
//! kept until shortly before it expires. Answers as Google's `ErrorCode` reference says:
//! `UNREGISTERED` (404) and `INVALID_ARGUMENT` about the token forget it; `QUOTA_EXCEEDED`
//! (429), `UNAVAILABLE` (503) and `INTERNAL` (500) are tried again, after `Retry-After` when
//! given; `UNAUTHENTICATED` (401) fetches a new access token once.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::jwt::{Signer, unix_now};
use super::{PushProvider, Sent, json_body, retry_after};
use crate::config::FcmSettings;
use crate::domain::offline_push::Notification;

/// Google's FCM endpoint.
pub const ENDPOINT: &str = "https://fcm.googleapis.com";
/// The OAuth scope sending needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// The OAuth grant of a signed JWT assertion (RFC 7523).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// An access token is fetched again this long before it expires.
const EARLY: Duration = Duration::from_secs(5 * 60);
/// The assertion's lifetime (Google takes at most an hour).
const ASSERTION_LIFETIME: u64 = 3600;

/// The fields of a service account key file sending needs.
#[derive(Deserialize)]
struct ServiceAccount {
    project_id: String,
    private_key: String,
    #[serde(default)]
    private_key_id: String,
    client_email: String,
    token_uri: String,
}

/// An access token and when to fetch another.
struct AccessToken {
    token: String,
    renew_at: Instant,
}

/// One service account: pushes the devices of its business id.
pub struct FcmProvider {
    http: reqwest::Client,
    send_url: String,
    client_email: String,
    private_key_id: String,
    token_uri: String,
    channel_id: String,
    signer: Signer,
    /// Held while a token is fetched, so concurrent pushes wait for one fetch.
    access: tokio::sync::Mutex<Option<AccessToken>>,
}

impl FcmProvider {
    /// The provider of `settings` (its service account read from its file), sending with `http`.
    pub fn new(settings: &FcmSettings, http: reqwest::Client) -> Result<FcmProvider, String> {
        let file = settings.service_account_file.display();
        let text =
            std::fs::read(&settings.service_account_file).map_err(|e| format!("FCM service account {file}: {e}"))?;
        let account: ServiceAccount =
            serde_json::from_slice(&text).map_err(|e| format!("FCM service account {file}: {e}"))?;
        let signer = Signer::rs256_from_pem(account.private_key.as_bytes())
            .map_err(|e| format!("FCM service account {file}: private_key: {e}"))?;
        let base = if settings.endpoint.is_empty() { ENDPOINT } else { settings.endpoint.trim_end_matches('/') };
        Ok(FcmProvider {
            http,
            send_url: format!("{base}/v1/projects/{}/messages:send", account.project_id),
            client_email: account.client_email,
            private_key_id: account.private_key_id,
            token_uri: account.token_uri,
            channel_id: settings.channel_id.clone(),
            signer,
            access: tokio::sync::Mutex::new(None),
        })
    }

    /// The access token to send with: the one kept, unless it is `refused` or about to expire.
    async fn access_token(&self, refused: Option<&str>) -> Result<String, Sent> {
        let mut access = self.access.lock().await;
        if let Some(kept) = access.as_ref()
            && Instant::now() < kept.renew_at
            && refused != Some(kept.token.as_str())
        {
            return Ok(kept.token.clone());
        }
        let fresh = self.fetch_access_token().await?;
        let token = fresh.token.clone();
        *access = Some(fresh);
        Ok(token)
    }

    /// Trades a signed assertion for an access token at the account's `token_uri`.
    async fn fetch_access_token(&self) -> Result<AccessToken, Sent> {
        let now = unix_now();
        let claims = json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        });
        let mut header = json!({"typ": "JWT"});
        if !self.private_key_id.is_empty() {
            header["kid"] = self.private_key_id.clone().into();
        }
        let assertion = self.signer.sign(header, &claims).map_err(|e| Sent::Failed(format!("FCM assertion: {e}")))?;
        // Both values are URL-safe once the grant's colons are escaped.
        let form = format!("grant_type={}&assertion={assertion}", GRANT_TYPE.replace(':', "%3A"));
        let res = self
            .http
            .post(&self.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| Sent::Retry { why: format!("FCM token endpoint: {e}"), after: None })?;
        let status = res.status().as_u16();
        let after = retry_after(res.headers());
        let body = json_body(res).await;
        let why = format!("FCM token endpoint answered {status}: {body}");
        match (status, body["access_token"].as_str()) {
            (200, Some(token)) => {
                let lifetime = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(3600));
                // A short-lived token is used for half its life rather than not at all.
                let early = EARLY.min(lifetime / 2);
                Ok(AccessToken { token: token.to_owned(), renew_at: Instant::now() + lifetime - early })
            }
            (429 | 500..=599, _) => Err(Sent::Retry { why, after }),
            _ => Err(Sent::Failed(why)),
        }
    }
}

/// The HTTP v1 request body of `n` for the device's registration token, on Android channel
/// `channel_id` (empty: the app's default). `data` values are strings, as FCM requires.
pub fn message(n: &Notification, channel_id: &str) -> Value {
    let mut notification = json!({"body": n.body});
    if !n.title.is_empty() {
        notification["title"] = n.title.clone().into();
    }
    let mut data = json!({"msg_id": n.msg_id, "sender": n.sender});
    if !n.group_id.is_empty() {
        data["group_id"] = n.group_id.clone().into();
    }
    if !n.ext.is_empty() {
        data["ext"] = n.ext.clone().into();
    }
    let mut android_notification = json!({"sound": "default"});
    if !channel_id.is_empty() {
        android_notification["channel_id"] = channel_id.into();
    }
    if let Some(badge) = n.badge {
        android_notification["notification_count"] = badge.into();
    }
    json!({"message": {
        "token": n.token,
        "notification": notification,
        "data": data,
        "android": {"priority": "high", "notification": android_notification},
    }})
}

/// What FCM's answer `status` with error body `body` means.
pub fn outcome(status: u16, body: &Value, after: Option<Duration>) -> Sent {
    if (200..300).contains(&status) {
        return Sent::Delivered;
    }
    let error = &body["error"];
    let status_name = error["status"].as_str().unwrap_or_default();
    let details = error["details"].as_array().map(Vec::as_slice).unwrap_or_default();
    let code = details.iter().find_map(|d| d["errorCode"].as_str()).unwrap_or(status_name);
    let about_token = details
        .iter()
        .any(|d| d["fieldViolations"].as_array().is_some_and(|v| v.iter().any(|f| f["field"] == "message.token")))
        || error["message"].as_str().is_some_and(|m| m.contains("registration token"));
    let why = format!("FCM answered {status} {code}: {}", error["message"].as_str().unwrap_or_default());
    match (status, code) {
        (404, _) | (_, "UNREGISTERED") => Sent::InvalidToken,
        (400, "INVALID_ARGUMENT") if about_token => Sent::InvalidToken,
        (429 | 500 | 503, _) | (_, "QUOTA_EXCEEDED" | "UNAVAILABLE" | "INTERNAL") => Sent::Retry { why, after },
        _ => Sent::Failed(why),
    }
}

#[async_trait]
impl PushProvider for FcmProvider {
    async fn send(&self, n: &Notification) -> Sent {
        let body = message(n, &self.channel_id).to_string().into_bytes();
        let mut refused: Option<String> = None;
        loop {
            let token = match self.access_token(refused.as_deref()).await {
                Ok(token) => token,
                Err(outcome) => return outcome,
            };
            let res = self
                .http
                .post(&self.send_url)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            let res = match res {
                Ok(res) => res,
                Err(e) => return Sent::Retry { why: format!("FCM: {e}"), after: None },
            };
            let status = res.status().as_u16();
            let after = retry_after(res.headers());
            let answer = json_body(res).await;
            if status == 401 && refused.is_none() {
                tracing::info!("FCM: access token refused, fetching a new one");
                refused = Some(token);
                continue;
            }
            return outcome(status, &answer, after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: u16, status: &str, message: &str, error_code: Option<&str>) -> Value {
        let mut details = vec![];
        if let Some(e) = error_code {
            details.push(json!({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": e}));
        }
        json!({"error": {"code": code, "message": message, "status": status, "details": details}})
    }

    #[test]
    fn googles_documented_answers() {
        assert_eq!(outcome(200, &json!({"name": "projects/p/messages/1"}), None), Sent::Delivered);
        let unregistered = error(404, "NOT_FOUND", "Requested entity was not found.", Some("UNREGISTERED"));
        assert_eq!(outcome(404, &unregistered, None), Sent::InvalidToken);
        let bad_token = error(
            400,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            Some("INVALID_ARGUMENT"),
        );
        assert_eq!(outcome(400, &bad_token, None), Sent::InvalidToken);
        let bad_field =
            error(400, "INVALID_ARGUMENT", "Invalid value at 'message.android.priority'", Some("INVALID_ARGUMENT"));
        assert!(matches!(outcome(400, &bad_field, None), Sent::Failed(_)), "another field: the token stays");
        let after = Some(Duration::from_secs(7));
        let quota = error(429, "RESOURCE_EXHAUSTED", "quota", Some("QUOTA_EXCEEDED"));
        assert!(matches!(outcome(429, &quota, after), Sent::Retry { after: Some(d), .. } if d.as_secs() == 7));
        assert!(matches!(outcome(503, &error(503, "UNAVAILABLE", "", Some("UNAVAILABLE")), None), Sent::Retry { .. }));
        assert!(matches!(outcome(500, &error(500, "INTERNAL", "", Some("INTERNAL")), None), Sent::Retry { .. }));
        assert!(matches!(
            outcome(403, &error(403, "PERMISSION_DENIED", "", Some("SENDER_ID_MISMATCH")), None),
            Sent::Failed(_)
        ));
    }

    #[test]
    fn the_message_has_the_documented_shape_with_string_data() {
        let n = Notification {
            user: "bob".into(),
            platform: "android".into(),
            business_id: 2,
            token: "tok".into(),
            is_tpns_token: false,
            title: String::new(),
            body: "Alice(Team): hi".into(),
            ext: "e".into(),
            ios_sound: String::new(),
            badge: Some(2),
            android_oppo_channel_id: String::new(),
            ext_is_json: false,
            msg_id: "m1".into(),
            sender: "alice".into(),
            group_id: "team".into(),
        };
        assert_eq!(
            message(&n, "chat"),
            json!({"message": {
                "token": "tok",
                "notification": {"body": "Alice(Team): hi"},
                "data": {"msg_id": "m1", "sender": "alice", "group_id": "team", "ext": "e"},
                "android": {"priority": "high", "notification": {"sound": "default", "channel_id": "chat", "notification_count": 2}},
            }})
        );
    }
}
