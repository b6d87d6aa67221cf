//! oxim-server: the self-hostable server the Oxim SDK talks to.
//!
//! [`Server::start`] binds, opens the store and serves until [`ServerHandle::shutdown`] (or,
//! from the binary, SIGINT/SIGTERM). Tests start it in-process on an ephemeral loopback port.
//!
//! The crate is a stack of levels; each imports only from the levels below it
//! (`server/levels.toml`, checked by `scripts/check-levels.py`):
//!
//! 1. [`domain`] (pure rules: refusals, clock, storage keys, group rules and decisions,
//!    signaling machine, AVChatRoom rooms and rate) and [`usersig`] (UserSig signing and
//!    verification);
//! 2. [`config`]: settings from defaults, TOML, environment, flags;
//! 3. [`store`]: the storage traits and their SQLite implementation;
//! 4. [`handlers`]: the requests, one shape `(ctx, caller, req) -> Result<(response, effects),
//!    Refusal>`;
//! 5. [`gateway`] (connections: ordering, spawning, limits, delivery of effects), [`app`],
//!    [`http`] (`/healthz`, `/v1/ws`) and [`media`] (`/v1/files`).

pub mod app;
pub mod config;
pub mod domain;
pub mod gateway;
pub mod handlers;
pub mod http;
pub mod media;
pub mod store;
pub mod tls;
pub mod usersig;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

pub use config::ServerConfig;

use crate::app::App;
use crate::domain::clock::{Clock, SystemClock};
use crate::gateway::sessions::{Control, Sessions};
use crate::handlers::Services;
use crate::store::sqlite::SqliteStore;

/// A running server.
pub struct ServerHandle {
    addr: SocketAddr,
    /// Serving TLS.
    tls: bool,
    app: Arc<App>,
    store: Arc<SqliteStore>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts servers.
pub struct Server;

impl Server {
    /// Opens the data directory, binds `config.listen` and starts serving in the background.
    /// Refuses the published development secret key on any but a loopback address.
    pub async fn start(config: ServerConfig) -> Result<ServerHandle, String> {
        config.check_secret_for_listen()?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let options = store::sqlite::Options {
            member_limits: config.member_limits,
            clock: clock.clone(),
            durability: config.durability,
            ..Default::default()
        };
        let store = SqliteStore::open_with(&config.data_dir, options).map_err(|e| format!("cannot open store: {e}"))?;
        let blobs = crate::media::FsBlobStore::open(&config.data_dir)
            .map_err(|e| format!("cannot open the file store: {e}"))?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let tls = match config.tls.clone() {
            Some(files) => Some(tls::acceptor(files, shutdown_rx.clone())?),
            None => None,
        };
        let serves_tls = tls.is_some();
        let sessions = Arc::new(Sessions::default());
        let blobs: Arc<dyn crate::media::BlobStore> = Arc::new(blobs);
        let owners = Arc::new(http::BlobOwners(blobs.clone()));
        let store = Arc::new(store);
        let services = Arc::new(Services::new(config, store.clone(), clock, sessions.clone()).with_file_owners(owners));
        services.load_blacklists().await.map_err(|e| e.to_string())?;
        let pusher = gateway::offline_push::pusher(&services.config.push, services.store.clone(), sessions.clone())?;
        let app = Arc::new(App::new(services, sessions, shutdown_rx.clone()).with_pusher(pusher));
        gateway::timer::spawn(app.clone());

        // Every connection task holds a clone of `alive`; when all are dropped, all have ended.
        let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
        let router = http::router(app.clone(), alive_tx, blobs);
        let task_app = app.clone();
        let task = tokio::spawn(async move {
            let mut stop = shutdown_rx;
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            let served = match tls {
                Some(acceptor) => match tls::TlsListener::new(listener, acceptor) {
                    Ok(listener) => axum::serve(listener, router).with_graceful_shutdown(stopped).await,
                    Err(e) => Err(e),
                },
                None => {
                    // No Nagle delay: a push or answer that follows another before the client's
                    // (delayed) ACK would otherwise wait up to 40 ms.
                    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
                        let _ = tcp.set_nodelay(true);
                    });
                    axum::serve(listener, router).with_graceful_shutdown(stopped).await
                }
            };
            if let Err(e) = served {
                tracing::error!("server stopped: {e}");
            }
            // The router (and its `alive` sender) is gone; wait for the WebSocket tasks.
            let _ = alive_rx.recv().await;
            task_app.services.store.close().await;
        });
        Ok(ServerHandle { addr, tls: serves_tls, app, store, shutdown: shutdown_tx, task })
    }
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The WebSocket URL clients connect to (`ws://addr/v1/ws`; `wss://` with TLS).
    pub fn ws_url(&self) -> String {
        format!("{}://{}/v1/ws", if self.tls { "wss" } else { "ws" }, self.addr)
    }

    /// The HTTP base URL (`http://addr`; `https://` with TLS).
    pub fn http_url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// Issues a UserSig for `user` with this server's key, valid for `expire_secs`.
    pub fn user_sig(&self, user: &str, expire_secs: i64) -> String {
        let services = &self.app.services;
        services.sigs.sign(user, services.now_ms() / 1000, expire_secs)
    }

    /// Number of authenticated sessions right now.
    pub fn online_sessions(&self) -> usize {
        self.app.sessions.count()
    }

    /// WebSocket connections open right now, logged in or not.
    pub fn open_connections(&self) -> usize {
        self.app.open_conns()
    }

    /// Whether `user` has a session.
    pub fn is_online(&self, user: &str) -> bool {
        self.app.sessions.is_online(user)
    }

    /// The devices of `users` registered for offline push, with their app state. For operators
    /// and for tests.
    pub async fn push_devices(&self, users: &[&str]) -> Result<Vec<store::PushDevice>, String> {
        let users = users.iter().map(|u| u.to_string()).collect();
        self.app.services.store.push_devices(users).await.map_err(|e| e.to_string())
    }

    /// Closes every connection of `user` without a close handshake, as a network loss would;
    /// returns how many there were. For operators and for tests of reconnection.
    pub fn disconnect_user(&self, user: &str) -> usize {
        self.app.sessions.control_user(user, Control::Disconnect)
    }

    /// Logins begun since the start (counted once past the UserSig check, whether they then
    /// succeed or not). For tests that act while a login runs.
    pub fn logins_begun(&self) -> u64 {
        self.app.services.device_logins.begun()
    }

    /// Messages refused for the per-user message rate (-10113) since the start.
    pub fn msgs_refused_for_rate(&self) -> u64 {
        self.app.send_rates.refused()
    }

    /// The most requests one connection has had in flight at once since the start (at most
    /// [`gateway::limits::MAX_IN_FLIGHT`]). For tests of the cap.
    pub fn peak_requests_in_flight(&self) -> usize {
        self.app.peak_in_flight.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Holds the store's writer until the returned guard drops: writes wait, as behind a slow
    /// disk. For tests of what a waiting request must not block.
    pub fn hold_writes(&self) -> store::sqlite::HeldWrites {
        self.store.hold_writes()
    }

    /// Stops accepting, closes every connection with "going away", finishes pending writes and
    /// closes the store.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server stops (after [`ServerHandle::shutdown`] from elsewhere, or a
    /// fatal error).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// A sender that triggers shutdown, for signal handlers.
    pub fn shutdown_trigger(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}
