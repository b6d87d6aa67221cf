//! A logged-in user's session: the local store, the sync actor and the outgoing messages in
//! flight. It lives from a successful `login` to `logout`, a kick, an expired UserSig or
//! `unInitSDK`, and survives reconnections.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use oxim_proto::payload::WireMessage;

use crate::events::Dispatcher;
use crate::link::Link;
use crate::store::{self, Store};
use crate::sync::{SyncCmd, SyncHandle};

/// The logged-in user's session.
pub struct Session {
    /// The user.
    pub user_id: String,
    /// The user's local store.
    pub store: Arc<Store>,
    /// The connection (shared with the client).
    pub link: Arc<Link>,
    pub(crate) sync: SyncHandle,
    /// Uploads and downloads of message files.
    pub media: crate::media::MediaClient,
    /// How long a send keeps trying before the message is marked failed.
    pub send_timeout: std::time::Duration,
    /// When `deleteMessages` was last called (V2TIM allows once per second).
    pub(crate) last_delete: Mutex<Option<Instant>>,
    /// Ids of outgoing messages currently being delivered, so a resend does not race a send.
    inflight: Mutex<HashSet<String>>,
    /// Rooms joined, attribute versions seen, attribute call rates.
    pub groups: crate::group::GroupState,
    /// The instance's event thread.
    pub events: Arc<Dispatcher>,
    /// Tells the conversation listener about list changes.
    pub conversations: Arc<crate::conversation::Publisher>,
    alive: tokio::sync::watch::Sender<bool>,
}

impl Session {
    /// Starts the session of `user_id` with its opened store; `born_ms` is the server time of
    /// the device's first login ([`store::device_born_ms`]).
    pub fn start(
        user_id: String,
        store: Arc<Store>,
        link: Arc<Link>,
        events: Arc<Dispatcher>,
        born_ms: i64,
        media: crate::media::MediaClient,
        send_timeout: std::time::Duration,
    ) -> Arc<Session> {
        let conversations = Arc::new(crate::conversation::Publisher::default());
        let sync = SyncHandle::start(
            user_id.clone(),
            store.clone(),
            link.clone(),
            events.clone(),
            conversations.clone(),
            born_ms,
        );
        Arc::new(Session {
            user_id,
            store,
            link,
            sync,
            media,
            send_timeout,
            last_delete: Mutex::new(None),
            inflight: Mutex::new(HashSet::new()),
            groups: crate::group::GroupState::default(),
            conversations,
            events,
            alive: tokio::sync::watch::channel(true).0,
        })
    }

    /// Whether the session is still the current one (not logged out, kicked or expired).
    pub fn is_alive(&self) -> bool {
        *self.alive.borrow()
    }

    /// Resolves when the session ends.
    pub async fn ended(&self) {
        let mut rx = self.alive.subscribe();
        let _ = rx.wait_for(|alive| !*alive).await;
    }

    /// The session is (again) authenticated on a connection: catch up with the server and
    /// resend what was not acknowledged.
    pub fn on_connected(self: &Arc<Self>) {
        self.sync.send(SyncCmd::Resync);
        let session = self.clone();
        crate::runtime::spawn(async move {
            crate::group::rejoin_rooms(&session).await;
            if let Err(e) = session.resend_pending().await {
                tracing::info!("resending unsent messages: {e}");
            }
        });
    }

    /// A message pushed by the server.
    pub fn on_push(&self, msg: WireMessage) {
        self.sync.send(SyncCmd::Push(Box::new(msg)));
    }

    /// A signaling action of an online-only invitation pushed by the server.
    pub fn on_signal(&self, msg: WireMessage) {
        self.sync.send(SyncCmd::Signal(Box::new(msg)));
    }

    /// Marks `msg_id` as being delivered; false if it already is.
    pub(crate) fn begin_delivery(&self, msg_id: &str) -> bool {
        self.inflight.lock().expect("inflight lock").insert(msg_id.to_owned())
    }

    /// Marks `msg_id` as no longer being delivered.
    pub(crate) fn end_delivery(&self, msg_id: &str) {
        self.inflight.lock().expect("inflight lock").remove(msg_id);
    }

    /// Resends, oldest first, the messages stored as SENDING that nobody is delivering (left
    /// over from a restart of the app or a disconnection that outlasted their send call).
    async fn resend_pending(self: &Arc<Self>) -> crate::error::Result<()> {
        let me = self.user_id.clone();
        let pending = self.store.call(move |db| store::pending_outgoing(db, &me)).await?;
        for (conv, msg) in pending {
            if !self.is_alive() {
                break;
            }
            if self.begin_delivery(&msg.msg_id) {
                let id = msg.msg_id.clone();
                let result = crate::message::send::deliver(self, conv, msg, None).await;
                self.end_delivery(&id);
                if let Err(e) = result {
                    tracing::info!("resend of {id} failed: {e}");
                }
            }
        }
        Ok(())
    }

    /// Ends the session locally: no more sync, the store is closed once queued work is done.
    pub fn close(&self) {
        self.alive.send_replace(false);
        self.sync.stop();
        let store = self.store.clone();
        // Joining the store thread is blocking work: keep it off the async workers.
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(move || store.close())),
            Err(_) => store.close(),
        }
    }
}
