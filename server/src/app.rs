//! State shared by every connection of one running server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::watch;

use crate::gateway::deadlines::Deadlines;
use crate::gateway::limits::SendRates;
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
    /// WebSocket connections open now.
    open_conns: AtomicUsize,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// The most requests one connection has had in flight at once
    /// ([`MAX_IN_FLIGHT`](crate::gateway::limits::MAX_IN_FLIGHT) at most).
    pub peak_in_flight: AtomicUsize,
    /// Sends offline pushes, if a push provider is configured.
    pub pusher: Option<Arc<Pusher>>,
    /// Each signed-in user's message bucket.
    pub send_rates: SendRates,
}

impl App {
    /// Builds the state over `services`, whose presence must be `sessions`.
    pub fn new(services: Arc<Services>, sessions: Arc<Sessions>, shutdown: watch::Receiver<bool>) -> App {
        App {
            services,
            sessions,
            deadlines: Deadlines::default(),
            next_conn: AtomicU64::new(1),
            open_conns: AtomicUsize::new(0),
            shutdown,
            peak_in_flight: AtomicUsize::new(0),
            pusher: None,
            send_rates: SendRates::default(),
        }
    }

    /// This app, sending offline pushes through `pusher`.
    pub fn with_pusher(mut self, pusher: Option<Arc<Pusher>>) -> App {
        self.pusher = pusher;
        self
    }

    /// Counts a new WebSocket connection in, unless `max` are open already; the connection is
    /// counted out when the returned guard drops.
    pub fn open_conn(self: &Arc<Self>, max: usize) -> Option<OpenConn> {
        let admitted =
            self.open_conns.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1));
        admitted.ok().map(|_| OpenConn(self.clone()))
    }

    /// WebSocket connections open now.
    pub fn open_conns(&self) -> usize {
        self.open_conns.load(Ordering::Acquire)
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}

/// An open WebSocket connection, counted while it lives ([`App::open_conn`]).
pub struct OpenConn(Arc<App>);

impl Drop for OpenConn {
    fn drop(&mut self) {
        self.0.open_conns.fetch_sub(1, Ordering::AcqRel);
    }
}
