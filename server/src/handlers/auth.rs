//! Login: UserSig check, user registration; the gateway binds the session (one per user and
//! platform) when it carries out the [`Effect::SignIn`].

use oxim_proto::code;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::payload::{LoginReq, LoginRes};

use super::{Ctx, Effect, Guest, Reply, Session};
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
    // This login now holds the device: what the one before it still writes of its offline push
    // state is refused. That device (kicked, or this one before a reconnect) gets no offline
    // push until it registers again, as the SDK does after every login. If this login fails
    // from here on (`begun` dropped uncommitted: a refusal, or its connection gone), the device
    // goes back to the login before it, whose session was never kicked.
    let begun = ctx.device_logins.begin(&req.user_id, &req.platform);
    super::offline_push::forget_before_login(ctx, &req.user_id, &req.platform, &begun).await?;
    tracing::debug!(user = %req.user_id, platform = %req.platform, sdk = %req.sdk_version, "login");
    let login = begun.commit();
    let session = Session { user: req.user_id, platform: req.platform, expires_at: claims.expires_at(), login };
    let res = LoginRes { server_time_ms: ctx.now_ms(), usersig_expire_at: claims.expires_at() };
    Ok((res, vec![Effect::SignIn(session)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::Caller;
    use crate::handlers::offline_push::{background, config, foreground, forget_device};
    use crate::handlers::testing::Bench;
    use crate::store::PushDevice;
    use oxim_proto::offline_push::{BackgroundReq, PushConfig};
    use serde_json::{Value, json};

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
        let [Effect::SignIn(session)] = &effects[..] else { panic!("{effects:?}") };
        assert_eq!((session.user.as_str(), session.platform.as_str()), ("alice", "android"));
        assert_eq!(session.expires_at, now + 600);
        assert!(session.login.is_current());
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

    /// Polls `f` once; whether it finished.
    async fn polled_ready<F: std::future::Future + Unpin>(f: &mut F) -> bool {
        std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *f).poll(cx).is_ready())).await
    }

    fn token(token: &str) -> PushConfig {
        PushConfig { business_id: 6768, token: token.into(), is_tpns_token: false }
    }

    /// The login of `user` on android, as the gateway runs it: the handler, then its session's
    /// caller.
    async fn android_login(ctx: &Ctx, user: &str) -> Result<Caller, Refusal> {
        let now = ctx.now_ms() / 1000;
        let req = oxim_proto::payload::LoginReq {
            sdk_app_id: ctx.config.sdk_app_id,
            user_id: user.into(),
            user_sig: ctx.sigs.sign(user, now, 600),
            platform: "android".into(),
            sdk_version: "test".into(),
        };
        let (_, effects) = login(ctx, &Guest, req).await?;
        let [Effect::SignIn(session)] = &effects[..] else { panic!("{effects:?}") };
        Ok(Caller::on(user, "android").with_login(session.login.clone()))
    }

    #[tokio::test]
    async fn a_kicked_devices_late_push_writes_are_refused_and_store_nothing() {
        let bench = Bench::new().await;
        let ctx = bench.ctx();
        let old = android_login(&ctx, "alice").await.unwrap();
        config(&ctx, &old, token("old phone")).await.unwrap();
        // A new login on the same platform kicks the old phone and forgets its registration.
        let new = android_login(&ctx, "alice").await.unwrap();
        assert_eq!(ctx.store.push_devices(vec!["alice".into()]).await.unwrap(), vec![]);
        config(&ctx, &new, token("new phone")).await.unwrap();

        // The old phone's requests still on their way arrive last: refused, nothing changes.
        let code = |r: Result<(Value, crate::handlers::Effects), Refusal>| r.unwrap_err().code;
        assert_eq!(code(config(&ctx, &old, token("old phone")).await), code::LOGIN_KICKED_OFF_BY_OTHER);
        assert_eq!(code(background(&ctx, &old, BackgroundReq { unread_count: 7 }).await), 6208);
        assert_eq!(code(foreground(&ctx, &old, json!({})).await), 6208);
        // Its logout forgets nothing: the device is the new login's now.
        forget_device(&ctx, &old).await.unwrap();
        let new_phone = PushDevice {
            user: "alice".into(),
            platform: "android".into(),
            config: Some(token("new phone")),
            background_badge: None,
        };
        assert_eq!(ctx.store.push_devices(vec!["alice".into()]).await.unwrap(), vec![new_phone]);
        // The new login's own writes go on.
        background(&ctx, &new, BackgroundReq { unread_count: 2 }).await.unwrap();
        forget_device(&ctx, &new).await.unwrap();
        assert_eq!(ctx.store.push_devices(vec!["alice".into()]).await.unwrap(), vec![]);
    }

    #[tokio::test]
    async fn a_registration_still_queued_when_a_new_login_begins_is_not_left_behind() {
        let bench = Bench::new().await;
        let ctx = bench.ctx();
        let old = android_login(&ctx, "alice").await.unwrap();
        // The old phone's registration waits in the writer's queue while the new login reads
        // which device to forget (none yet).
        let held = bench.store.hold_writes();
        let mut late = Box::pin(config(&ctx, &old, token("old phone")));
        let mut new = Box::pin(android_login(&ctx, "alice"));
        assert!(!polled_ready(&mut late).await, "queued behind the held writer");
        // The new login has begun: it forgets the device through the writer, after that write.
        assert!(!polled_ready(&mut new).await, "the new login waits for the old phone's write");
        drop(held);
        assert_eq!(late.await.unwrap_err().code, code::LOGIN_KICKED_OFF_BY_OTHER);
        let new = new.await.unwrap();
        assert_eq!(ctx.store.push_devices(vec!["alice".into()]).await.unwrap(), vec![]);
        config(&ctx, &new, token("new phone")).await.unwrap();
        assert_eq!(ctx.store.push_devices(vec!["alice".into()]).await.unwrap()[0].config, Some(token("new phone")));
    }
}
