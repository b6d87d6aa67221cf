//! Offline push requests (`push.*`): a device registers its push token (`setOfflinePushConfig`)
//! and tells the server when its app goes to the background (`doBackground`, with the badge it
//! shows) or the foreground (`doForeground`). The device is the caller's user on the caller's
//! platform. A login ends the registration of the device that was signed in there before (V2TIM
//! pushes to no kicked device), a logout the device's own ([`forget_device`]).

use oxim_proto::code;
use oxim_proto::offline_push::{BackgroundReq, PushConfig, check_config};
use serde_json::{Value, json};

use super::{Caller, Ctx, Reply, refusal};
use crate::domain::refusal::Refusal;

/// Handles `push.config`.
pub async fn config(ctx: &Ctx, caller: &Caller, req: PushConfig) -> Reply<Value> {
    check_config(&req).map_err(|desc| Refusal::new(code::INVALID_PARAMETERS, desc))?;
    ctx.write(|s| s.set_push_config(&caller.user, &caller.platform, req)).await.map_err(refusal)?;
    Ok((json!({}), Vec::new()))
}

/// Handles `push.background`.
pub async fn background(ctx: &Ctx, caller: &Caller, req: BackgroundReq) -> Reply<Value> {
    ctx.write(|s| s.set_push_background(&caller.user, &caller.platform, Some(req.unread_count)))
        .await
        .map_err(refusal)?;
    Ok((json!({}), Vec::new()))
}

/// Handles `push.foreground`.
pub async fn foreground(ctx: &Ctx, caller: &Caller, _req: Value) -> Reply<Value> {
    ctx.write(|s| s.set_push_background(&caller.user, &caller.platform, None)).await.map_err(refusal)?;
    Ok((json!({}), Vec::new()))
}

/// Forgets the caller's device: it logs out, or a new login on its platform replaced it.
/// Reads first and writes only when the device is known: most logins are of devices that never
/// registered, and a login should not cost a store write (nor wait behind the writer's queue).
pub async fn forget_device(ctx: &Ctx, caller: &Caller) -> Result<(), Refusal> {
    let devices = ctx.store.push_devices(vec![caller.user.clone()]).await.map_err(refusal)?;
    if !devices.iter().any(|d| d.platform == caller.platform) {
        return Ok(());
    }
    ctx.write(|s| s.remove_push_device(&caller.user, &caller.platform)).await.map_err(refusal)
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
