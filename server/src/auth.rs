//! Login: UserSig check, user registration, one session per user and platform.

use oxim_proto::code;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::payload::{LoginReq, LoginRes};

use crate::gateway::{Auth, Conn, Refusal, now_ms};

/// Handles `login`: verifies the UserSig, registers the user, binds the session (kicking a
/// session of the same user on the same platform) and answers with the server time.
pub async fn login(conn: &mut Conn, req: LoginReq) -> Result<LoginRes, Refusal> {
    if !is_valid_user_id(&req.user_id) {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "userID must be 1-32 printable ASCII characters"));
    }
    if req.platform.is_empty() || req.platform.len() > 32 {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "platform must be 1-32 characters"));
    }
    let app = conn.app.clone();
    if req.sdk_app_id != app.config.sdk_app_id {
        return Err(Refusal::new(code::SDKAPPID_NOT_FOUND, format!("SDKAppID {} is not served here", req.sdk_app_id)));
    }
    let now = now_ms() / 1000;
    let claims =
        app.sigs.verify(&req.user_sig, &req.user_id, now).map_err(|e| Refusal::new(e.code(), e.to_string()))?;

    app.register_user(&req.user_id).await.map_err(|e| Refusal::new(code::SVR_ACCOUNT_INTERNAL_ERROR, e.to_string()))?;

    // A new login on this connection replaces whatever was logged in before.
    conn.sign_out();
    let kicked = app.sessions.bind(&req.user_id, conn.session_handle(&req.platform));
    for old in kicked {
        tracing::info!(user = %req.user_id, platform = %req.platform, "kicking older session {}", old.conn_id);
        old.control.send(crate::sessions::Control::Kicked { by_platform: req.platform.clone() });
    }
    tracing::debug!(user = %req.user_id, platform = %req.platform, conn = conn.conn_id, sdk = %req.sdk_version, "login");
    conn.auth = Some(Auth { user: req.user_id, platform: req.platform, expires_at: claims.expires_at() });
    Ok(LoginRes { server_time_ms: now_ms(), usersig_expire_at: claims.expires_at() })
}
