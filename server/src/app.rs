//! State shared by every connection of one running server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

use crate::gateway::deadlines::Deadlines;
use crate::gateway::offline_push::Pusher;
use crate::gateway::sessions::Sessions;
use crate::handlers::Services;

/// The server's shared state: what handlers use, and what only the gateway knows.
pub struct App {
    /// What every handler may use (store, configuration, rooms, clock, ...).
    pub services: Arc<Services>,
    /// Online sessions.
    pub sessions: Arc<Sessions>,
    /// Invitation deadlines, for the signaling timer.
    pub deadlines: Deadlines,
    next_conn: AtomicU64,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// Sends offline pushes, if a push provider is configured.
    pub pusher: Option<Arc<Pusher>>,
}

impl App {
    /// Builds the state over `services`, whose presence must be `sessions`.
    pub fn new(services: Arc<Services>, sessions: Arc<Sessions>, shutdown: watch::Receiver<bool>) -> App {
        App {
            services,
            sessions,
            deadlines: Deadlines::default(),
            next_conn: AtomicU64::new(1),
            shutdown,
            pusher: None,
        }
    }

    /// This app, sending offline pushes through `pusher`.
    pub fn with_pusher(mut self, pusher: Option<Arc<Pusher>>) -> App {
        self.pusher = pusher;
        self
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}
