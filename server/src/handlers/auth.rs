//! Login: UserSig check, user registration; the gateway binds the session (one per user and
//! platform) when it carries out the [`Effect::SignIn`].

use oxim_proto::code;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::payload::{LoginReq, LoginRes};

use super::{Caller, Ctx, Effect, Guest, Reply, Session};
use crate::domain::refusal::Refusal;

/// Handles `login`: verifies the UserSig, registers the user and answers with the server time;
/// the connection signs in as the user (replacing any earlier login on it, and kicking a
/// session of the same user on the same platform).
pub async fn login(ctx: &Ctx, _: &Guest, req: LoginReq) -> Reply<LoginRes> {
    if !is_valid_user_id(&req.user_id) {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "userID must be 1-32 printable ASCII characters"));
    }
    if req.platform.is_empty() || req.platform.len() > 32 {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "platform must be 1-32 characters"));
    }
    if req.sdk_app_id != ctx.config.sdk_app_id {
        return Err(Refusal::new(code::SDKAPPID_NOT_FOUND, format!("SDKAppID {} is not served here", req.sdk_app_id)));
    }
    let claims = ctx
        .sigs
        .verify(&req.user_sig, &req.user_id, ctx.now_ms() / 1000)
        .map_err(|e| Refusal::new(e.code(), e.to_string()))?;
    ctx.register_user(&req.user_id).await.map_err(|e| Refusal::new(code::SVR_ACCOUNT_INTERNAL_ERROR, e.to_string()))?;
    // The device signed in on this platform before (kicked, or this one before a reconnect)
    // gets no offline push until it registers again, as the SDK does after every login.
    super::offline_push::forget_device(ctx, &Caller::on(&req.user_id, &req.platform)).await?;
    tracing::debug!(user = %req.user_id, platform = %req.platform, sdk = %req.sdk_version, "login");
    let session = Session { user: req.user_id, platform: req.platform, expires_at: claims.expires_at() };
    let res = LoginRes { server_time_ms: ctx.now_ms(), usersig_expire_at: claims.expires_at() };
    Ok((res, vec![Effect::SignIn(session)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::testing::Bench;

    fn req(bench: &Bench, user: &str, sig: String) -> LoginReq {
        LoginReq {
            sdk_app_id: bench.ctx().config.sdk_app_id,
            user_id: user.into(),
            user_sig: sig,
            platform: "android".into(),
            sdk_version: "test".into(),
        }
    }

    #[tokio::test]
    async fn a_valid_usersig_signs_the_connection_in_and_registers_the_user() {
        let bench = Bench::new().await;
        let ctx = bench.ctx();
        let now = ctx.now_ms() / 1000;
        let (res, effects) = login(&ctx, &Guest, req(&bench, "alice", ctx.sigs.sign("alice", now, 600))).await.unwrap();
        assert_eq!((res.server_time_ms, res.usersig_expire_at), (ctx.now_ms(), now + 600));
        let session = Session { user: "alice".into(), platform: "android".into(), expires_at: now + 600 };
        assert_eq!(effects, [Effect::SignIn(session)]);
        assert!(ctx.store.user_exists("alice").await.unwrap());
    }

    #[tokio::test]
    async fn bad_logins_are_refused_with_v2tim_codes_and_register_nobody() {
        let bench = Bench::new().await;
        let ctx = bench.ctx();
        let now = ctx.now_ms() / 1000;
        let code = |r: Reply<LoginRes>| r.unwrap_err().code;
        let expired = ctx.sigs.sign("alice", now - 700, 600);
        assert_eq!(code(login(&ctx, &Guest, req(&bench, "alice", expired)).await), code::USERSIG_EXPIRED);
        let someone_elses = ctx.sigs.sign("bob", now, 600);
        assert_eq!(
            code(login(&ctx, &Guest, req(&bench, "alice", someone_elses)).await),
            code::USERSIG_IDENTIFIER_MISMATCH
        );
        let mut other_app = req(&bench, "alice", ctx.sigs.sign("alice", now, 600));
        other_app.sdk_app_id += 1;
        assert_eq!(code(login(&ctx, &Guest, other_app).await), code::SDKAPPID_NOT_FOUND);
        assert_eq!(code(login(&ctx, &Guest, req(&bench, "", String::new())).await), 6017);
        let mut no_platform = req(&bench, "alice", ctx.sigs.sign("alice", now, 600));
        no_platform.platform.clear();
        assert_eq!(code(login(&ctx, &Guest, no_platform).await), 6017);
        assert!(!ctx.store.user_exists("alice").await.unwrap());
    }
}
