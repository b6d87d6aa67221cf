//! `V2TIMOfflinePushManager`: the device's push registration and its app state.
//!
//! After each login the app registers the device's push token (`setOfflinePushConfig`) and
//! tells when it goes to the background (`doBackground`, with the badge it shows) or comes back
//! (`doForeground`). The server pushes to a device that is offline (the connection gone without
//! logout) or in the background, never to one logged out or kicked. What the app said is kept
//! on the session and said again after every reconnection (the server forgets a device's
//! registration when it logs in again); a logout ends the session and with it the registration,
//! on the server too.

use std::sync::{Arc, Mutex};

use oxim_proto::code;
use oxim_proto::offline_push::{BackgroundReq, PushConfig, check_config};
use oxim_proto::op;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::runtime;
use crate::session::{Session, SessionSource};

/// `V2TIMOfflinePushConfig`: the push certificate id and the device's token.
pub type OfflinePushConfig = PushConfig;

/// What this session told the server, to tell it again after a reconnection.
#[derive(Default)]
struct PushState(Mutex<Told>);

#[derive(Default, Clone)]
struct Told {
    config: Option<PushConfig>,
    background: Option<u32>,
}

fn told(session: &Session) -> Told {
    session.state::<PushState>().0.lock().expect("push state lock").clone()
}

/// Registers what offline push does after each reconnection of `session`: registering the
/// device again and telling its app state (the server forgot both at the new login).
pub fn attach(session: &Session) {
    session.on_reconnect(Arc::new(|session| {
        Box::pin(async move {
            let Told { config, background } = told(&session);
            if let Some(config) = config
                && let Err(e) = request(&session, op::PUSH_CONFIG, &config).await
            {
                tracing::info!("registering for offline push again: {e}");
            }
            if let Some(unread_count) = background
                && let Err(e) = request(&session, op::PUSH_BACKGROUND, &BackgroundReq { unread_count }).await
            {
                tracing::info!("telling the server the app is in the background: {e}");
            }
        })
    }));
}

async fn request<Req: Serialize + Sync>(session: &Session, operation: &str, req: &Req) -> Result<()> {
    let _: Value = session.link.current_or_err()?.request(operation, req).await?;
    Ok(())
}

/// The offline push manager of one SDK instance (`V2TIMManager.getOfflinePushManager()`).
#[derive(Clone)]
pub struct OfflinePushManager {
    sessions: Arc<dyn SessionSource>,
}

impl OfflinePushManager {
    /// The offline push manager of the instance whose sessions `sessions` finds.
    pub fn new(sessions: Arc<dyn SessionSource>) -> OfflinePushManager {
        OfflinePushManager { sessions }
    }

    /// Records `change` on the logged-in session (kept for reconnections), then sends it.
    async fn tell(&self, change: impl FnOnce(&mut Told), operation: &'static str, body: Value) -> Result<()> {
        let session = self.sessions.session()?;
        change(&mut session.state::<PushState>().0.lock().expect("push state lock"));
        runtime::run(async move { request(&session, operation, &body).await }).await
    }

    /// `setOfflinePushConfig` (iOS `setAPNS`): registers this device for offline push; call it
    /// after every login. A bad certificate id or token is 6017, before login 6014.
    pub async fn set_offline_push_config(&self, config: OfflinePushConfig) -> Result<()> {
        check_config(&config).map_err(|desc| Error::new(code::INVALID_PARAMETERS, desc))?;
        let body = serde_json::to_value(&config).map_err(|e| Error::invalid(e.to_string()))?;
        self.tell(|t| t.config = Some(config), op::PUSH_CONFIG, body).await
    }

    /// `doBackground`: the app went to the background showing `unread_count` as its badge;
    /// pushes count on from it.
    pub async fn do_background(&self, unread_count: u32) -> Result<()> {
        let body = serde_json::to_value(BackgroundReq { unread_count }).map_err(|e| Error::invalid(e.to_string()))?;
        self.tell(|t| t.background = Some(unread_count), op::PUSH_BACKGROUND, body).await
    }

    /// `doForeground`: the app is in the foreground; no pushes while it is.
    pub async fn do_foreground(&self) -> Result<()> {
        self.tell(|t| t.background = None, op::PUSH_FOREGROUND, serde_json::json!({})).await
    }
}
