//! A logged-in user's session: the local store, the sync actor, the event dispatcher and the
//! conversation publisher, plus what the feature managers keep per session. It lives from a
//! successful `login` to `logout`, a kick, an expired UserSig or `unInitSDK`, and survives
//! reconnections.
//!
//! The session knows no feature: features keep their per-session state in it
//! ([`Session::state`]) and register what they do after each (re)connection
//! ([`Session::on_reconnect`]); the session runs those hooks in registration order after it
//! has asked the sync actor to catch up.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use oxim_proto::payload::WireMessage;

use crate::error::Result;
use crate::events::Dispatcher;
use crate::link::Link;
use crate::media::MediaClient;
use crate::publisher::Publisher;
use crate::store::Store;
use crate::sync::{SyncCmd, SyncHandle};

/// Work a feature does on a session after each (re)connection (joining rooms again, resending).
pub type ReconnectHook = Arc<dyn Fn(Arc<Session>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Where feature managers find the instance's current session: 6013 before `initSDK`, 6014
/// before `login` (implemented by the `Manager` facade, which owns the login state).
pub trait SessionSource: Send + Sync {
    /// The logged-in session.
    fn session(&self) -> Result<Arc<Session>>;
}

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
    pub media: MediaClient,
    /// How long a send keeps trying before the message is marked failed.
    pub send_timeout: std::time::Duration,
    /// The instance's event dispatcher.
    pub events: Arc<Dispatcher>,
    /// Tells the conversation listener about list changes.
    pub conversations: Arc<Publisher>,
    alive: tokio::sync::watch::Sender<bool>,
    hooks: Mutex<Vec<ReconnectHook>>,
    state: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Session {
    /// Starts the session of `user_id` with its opened store; `born_ms` is the server time of
    /// the device's first login ([`crate::store::device_born_ms`]).
    pub fn start(
        user_id: String,
        store: Arc<Store>,
        link: Arc<Link>,
        events: Arc<Dispatcher>,
        born_ms: i64,
        media: MediaClient,
        send_timeout: std::time::Duration,
    ) -> Arc<Session> {
        let conversations = Arc::new(Publisher::default());
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
            conversations,
            events,
            alive: tokio::sync::watch::channel(true).0,
            hooks: Mutex::new(Vec::new()),
            state: Mutex::new(HashMap::new()),
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

    /// A feature's state in this session, made with `T::default()` on first use.
    pub fn state<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut state = self.state.lock().expect("session state lock");
        let entry = state.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default()));
        entry.clone().downcast::<T>().expect("state stored under its own type")
    }

    /// Registers work to do after each (re)connection, after the sync actor was asked to
    /// catch up; hooks run one after the other, in registration order.
    pub fn on_reconnect(&self, hook: ReconnectHook) {
        self.hooks.lock().expect("session hooks lock").push(hook);
    }

    /// The session is (again) authenticated on a connection: catch up with the server, then
    /// run the features' hooks.
    pub fn on_connected(self: &Arc<Self>) {
        self.sync.send(SyncCmd::Resync);
        let hooks = self.hooks.lock().expect("session hooks lock").clone();
        let session = self.clone();
        crate::runtime::spawn(async move {
            for hook in hooks {
                if !session.is_alive() {
                    break;
                }
                hook(session.clone()).await;
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

    /// Ends the session locally: no more sync; the store closes once the work queued on it is
    /// done and the events that work emitted were delivered (their delivery is recorded in the
    /// store: what the app was told).
    pub fn close(&self) {
        self.alive.send_replace(false);
        self.sync.stop();
        let (store, events) = (self.store.clone(), self.events.clone());
        self.store.spawn(move |_| {
            // Queued behind the store's work, waited for by nobody (the next open of the
            // file waits for it).
            events.after_delivered(move || drop(store.close_in_background()));
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::events::Listeners;
    use crate::test_peer::{Peer, WAIT, eventually};
    use crate::transport::Transport;

    async fn session(dir: &std::path::Path, link: Arc<Link>) -> Arc<Session> {
        let store = Arc::new(Store::open(&dir.join("oxim.db")).unwrap());
        let events = Arc::new(Dispatcher::start(Arc::new(Listeners::default())));
        let media = MediaClient::new("http://127.0.0.1:1", 1, "me", "sig").unwrap();
        Session::start("me".into(), store, link, events, 0, media, Duration::from_secs(1))
    }

    #[tokio::test]
    async fn after_each_connection_the_session_catches_up_then_runs_the_hooks_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut peer = Peer::start(false).await;
        let link = Arc::new(Link::default());
        let (pushes, _) = tokio::sync::mpsc::unbounded_channel();
        link.publish(Some(Transport::connect(&peer.url, Duration::from_secs(20), WAIT, pushes).await.unwrap()));
        let mut conn = peer.accept().await;
        let s = session(dir.path(), link).await;
        let log = Arc::new(Mutex::new(Vec::new()));
        for name in ["rooms", "resend"] {
            let log = log.clone();
            s.on_reconnect(Arc::new(move |_| {
                let log = log.clone();
                Box::pin(async move {
                    // A hook that takes a while does not let the next one start early.
                    if name == "rooms" {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    log.lock().unwrap().push(name);
                })
            }));
        }
        s.on_connected();
        assert_eq!(conn.request().await.unwrap().op, oxim_proto::op::SYNC, "the sync actor catches up");
        eventually("the hooks", || log.lock().unwrap().len() == 2).await;
        s.on_connected();
        eventually("the hooks again", || log.lock().unwrap().len() == 4).await;
        assert_eq!(*log.lock().unwrap(), ["rooms", "resend", "rooms", "resend"]);
        s.close();
        assert!(!s.is_alive());
        tokio::time::timeout(WAIT, s.ended()).await.expect("ended resolves once closed");
    }

    #[derive(Default)]
    struct Counter(AtomicUsize);
    #[derive(Default)]
    struct Other(AtomicUsize);

    #[tokio::test]
    async fn each_feature_state_is_one_per_session() {
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path(), Arc::new(Link::default())).await;
        s.state::<Counter>().0.fetch_add(1, Ordering::SeqCst);
        s.state::<Counter>().0.fetch_add(1, Ordering::SeqCst);
        assert_eq!(s.state::<Counter>().0.load(Ordering::SeqCst), 2);
        assert_eq!(s.state::<Other>().0.load(Ordering::SeqCst), 0);
        let dir2 = tempfile::tempdir().unwrap();
        let s2 = session(dir2.path(), Arc::new(Link::default())).await;
        assert_eq!(s2.state::<Counter>().0.load(Ordering::SeqCst), 0);
        s.close();
        s2.close();
    }
}
