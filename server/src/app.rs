//! State shared by every connection of one running server.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

use crate::config::ServerConfig;
use crate::domain::rooms::Rooms;
use crate::sessions::Sessions;
use crate::signaling::timer::Deadlines;
use crate::store::{Store, StoreResult};
use crate::usersig::UserSigKey;

/// The server's shared state.
pub struct App {
    /// Configuration it was started with.
    pub config: ServerConfig,
    /// Persistent storage.
    pub store: Arc<dyn Store>,
    /// UserSig verification for the served app.
    pub sigs: UserSigKey,
    /// Online sessions.
    pub sessions: Sessions,
    /// AVChatRoom membership (online only).
    pub rooms: Rooms,
    /// Invitation deadlines, for the signaling timer.
    pub deadlines: Deadlines,
    /// Users known to exist (a cache in front of the store; users are never deleted).
    known_users: RwLock<HashSet<String>>,
    next_conn: AtomicU64,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

impl App {
    /// Builds the state.
    pub fn new(config: ServerConfig, store: Arc<dyn Store>, shutdown: watch::Receiver<bool>) -> App {
        let sigs = UserSigKey::new(config.sdk_app_id, config.secret_key.clone());
        App {
            config,
            store,
            sigs,
            sessions: Sessions::default(),
            rooms: Rooms::default(),
            deadlines: Deadlines::default(),
            known_users: RwLock::new(HashSet::new()),
            next_conn: AtomicU64::new(1),
            shutdown,
        }
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Records that `user` exists.
    pub async fn register_user(&self, user: &str) -> StoreResult<()> {
        if self.known_users.read().expect("users lock").contains(user) {
            return Ok(());
        }
        self.store.register_user(user).await?;
        self.known_users.write().expect("users lock").insert(user.to_owned());
        Ok(())
    }

    /// Whether `user` exists (has logged in at least once).
    pub async fn user_exists(&self, user: &str) -> StoreResult<bool> {
        if self.known_users.read().expect("users lock").contains(user) {
            return Ok(true);
        }
        let exists = self.store.user_exists(user).await?;
        if exists {
            self.known_users.write().expect("users lock").insert(user.to_owned());
        }
        Ok(exists)
    }
}
