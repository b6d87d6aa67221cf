//! Offline push requests (`push.*`): a device registers its push token (`setOfflinePushConfig`)
//! and tells the server when its app goes to the background (`doBackground`, with the badge it
//! shows) or the foreground (`doForeground`). The device is the caller's user on the caller's
//! platform. A login ends the registration of the device that was signed in there before (V2TIM
//! pushes to no kicked device), a logout the device's own ([`forget_device`]).
//!
//! Each of these writes belongs to the caller's login ([`crate::domain::device_logins`]): once
//! a newer login of the user on the platform began, a late one of the old login (a kicked
//! device's `push.config` still on its way) is refused with 6208 and stores nothing.

use oxim_proto::code;
use oxim_proto::offline_push::{BackgroundReq, PushConfig, check_config};
use serde_json::{Value, json};

use super::{Caller, Ctx, Reply, refusal};
use crate::domain::device_logins::{Begun, DeviceLogin, DeviceWrite};
use crate::domain::refusal::Refusal;
use crate::store::{Queued, StillCurrent, Store};
use std::sync::Arc;

/// Handles `push.config`.
pub async fn config(ctx: &Ctx, caller: &Caller, req: PushConfig) -> Reply<Value> {
    check_config(&req).map_err(|desc| Refusal::new(code::INVALID_PARAMETERS, desc))?;
    device_write(ctx, caller.login.as_ref(), |s, current| {
        s.set_push_config(&caller.user, &caller.platform, req, current)
    })
    .await?;
    Ok((json!({}), Vec::new()))
}

/// Handles `push.background`.
pub async fn background(ctx: &Ctx, caller: &Caller, req: BackgroundReq) -> Reply<Value> {
    device_write(ctx, caller.login.as_ref(), |s, current| {
        s.set_push_background(&caller.user, &caller.platform, Some(req.unread_count), current)
    })
    .await?;
    Ok((json!({}), Vec::new()))
}

/// Handles `push.foreground`.
pub async fn foreground(ctx: &Ctx, caller: &Caller, _req: Value) -> Reply<Value> {
    device_write(ctx, caller.login.as_ref(), |s, current| {
        s.set_push_background(&caller.user, &caller.platform, None, current)
    })
    .await?;
    Ok((json!({}), Vec::new()))
}

/// Forgets the caller's device: it logs out. Nothing to do once a newer login on its platform
/// began (that login forgot it).
pub async fn forget_device(ctx: &Ctx, caller: &Caller) -> Result<(), Refusal> {
    match forget(ctx, &caller.user, &caller.platform, caller.login.as_ref(), false).await {
        Err(refused) if refused.code == code::LOGIN_KICKED_OFF_BY_OTHER => Ok(()),
        done => done,
    }
}

/// Forgets the device signed in on the platform of the login that `begun` (the new one: the
/// device before it was kicked or replaced).
pub async fn forget_before_login(ctx: &Ctx, user: &str, platform: &str, begun: &Begun) -> Result<(), Refusal> {
    forget(ctx, user, platform, Some(&begun.login), begun.old_writing).await
}

/// Forgets `user`'s device on `platform` for `login`. Reads first and writes only when the
/// device is known, or a write of the superseded login may still be committing (`old_writing`:
/// the read may not see it, the delete comes after it): most logins are of devices that never
/// registered, and a login should not cost a store write (nor wait behind the writer's queue).
async fn forget(
    ctx: &Ctx,
    user: &str,
    platform: &str,
    login: Option<&Arc<DeviceLogin>>,
    old_writing: bool,
) -> Result<(), Refusal> {
    if !old_writing {
        let devices = ctx.store.push_devices(vec![user.to_owned()]).await.map_err(refusal)?;
        if !devices.iter().any(|d| d.platform == platform) {
            return Ok(());
        }
    }
    device_write(ctx, login, |s, current| s.remove_push_device(user, platform, current)).await
}

/// Runs `write` of a device's state for `login`: checked on the store's writer, refused (6208,
/// nothing written) once a newer login of the user on the platform began. `None`: unchecked.
async fn device_write(
    ctx: &Ctx,
    login: Option<&Arc<DeviceLogin>>,
    write: impl FnOnce(&dyn Store, StillCurrent) -> Queued<bool>,
) -> Result<(), Refusal> {
    let (current, _in_flight): (StillCurrent, Option<DeviceWrite>) = match login {
        None => (Box::new(|| true), None),
        Some(login) => {
            let in_flight = login.write().ok_or_else(superseded)?;
            let login = login.clone();
            (Box::new(move || login.is_current()), Some(in_flight))
        }
    };
    // `_in_flight` lives until the commit: a login beginning meanwhile forgets through the writer.
    if ctx.write(|s| write(s, current)).await.map_err(refusal)? { Ok(()) } else { Err(superseded()) }
}

/// The refusal of a device write of a superseded login.
fn superseded() -> Refusal {
    Refusal::new(
        code::LOGIN_KICKED_OFF_BY_OTHER,
        "a newer login of this user on this platform took the device over: nothing stored",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::testing::Bench;
    use crate::store::PushDevice;

    #[tokio::test]
    async fn a_device_registers_reports_its_app_state_and_is_forgotten_per_platform() {
        let bench = Bench::new().await;
        bench.users(&["alice"]).await;
        let ctx = bench.ctx();
        let (phone, pad) = (Caller::on("alice", "android"), Caller::on("alice", "ipad"));
        let token = PushConfig { business_id: 6768, token: "fcm-token".into(), is_tpns_token: false };
        let (_, effects) = config(&ctx, &phone, token.clone()).await.unwrap();
        assert!(effects.is_empty());
        background(&ctx, &phone, BackgroundReq { unread_count: 4 }).await.unwrap();
        config(&ctx, &pad, PushConfig { token: "apns".into(), ..token.clone() }).await.unwrap();
        background(&ctx, &pad, BackgroundReq { unread_count: 1 }).await.unwrap();
        foreground(&ctx, &pad, json!({})).await.unwrap();

        let devices = ctx.store.push_devices(vec!["alice".into()]).await.unwrap();
        let phone_device = PushDevice {
            user: "alice".into(),
            platform: "android".into(),
            config: Some(token.clone()),
            background_badge: Some(4),
        };
        assert_eq!(devices[0], phone_device);
        assert_eq!((devices[1].platform.as_str(), devices[1].background_badge), ("ipad", None));

        forget_device(&ctx, &pad).await.unwrap();
        assert_eq!(ctx.store.push_devices(vec!["alice".into()]).await.unwrap(), vec![phone_device]);

        let refused = config(&ctx, &phone, PushConfig { token: String::new(), ..token.clone() }).await;
        assert_eq!(refused.unwrap_err().code, code::INVALID_PARAMETERS);
        let refused = config(&ctx, &phone, PushConfig { business_id: 0, ..token }).await;
        assert_eq!(refused.unwrap_err().code, code::INVALID_PARAMETERS);
    }
}
