//! oxim-server: the self-hostable server the Oxim SDK talks to.
//!
//! [`Server::start`] binds, opens the store and serves until [`ServerHandle::shutdown`] (or,
//! from the binary, SIGINT/SIGTERM). Tests start it in-process on an ephemeral loopback port.
//!
//! - [`config`]: settings from defaults, TOML, environment, flags.
//! - [`usersig`]: TLSSigAPIv2 UserSig verification and signing.
//! - [`store`]: the storage trait and its SQLite implementation.
//! - [`gateway`]: one WebSocket connection; [`auth`], [`messaging`], [`conversations`] and [`signaling`]: its
//!   requests (signaling also owns the invitation timer).
//! - [`groups`]: group requests, the group-type rules, AVChatRoom rooms (online membership).
//! - [`sessions`]: who is online, and delivery to them.
//! - [`http`]: the HTTP routes (`/healthz`, `/v1/ws`).
//! - [`media`]: file upload and download (`/v1/files`), image variants, blob storage.

pub mod app;
pub mod auth;
pub mod config;
pub mod conversations;
pub mod domain;
pub mod gateway;
pub mod groups;
pub mod http;
pub mod media;
pub mod messaging;
pub mod sessions;
pub mod signaling;
pub mod store;
pub mod usersig;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

pub use config::ServerConfig;

use crate::app::App;
use crate::sessions::Control;
use crate::store::sqlite::SqliteStore;

/// A running server.
pub struct ServerHandle {
    addr: SocketAddr,
    app: Arc<App>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts servers.
pub struct Server;

impl Server {
    /// Opens the data directory, binds `config.listen` and starts serving in the background.
    pub async fn start(config: ServerConfig) -> Result<ServerHandle, String> {
        let store = SqliteStore::open_with(
            &config.data_dir,
            store::sqlite::Options { member_limits: config.member_limits, ..Default::default() },
        )
        .map_err(|e| format!("cannot open store: {e}"))?;
        let blobs = crate::media::FsBlobStore::open(&config.data_dir)
            .map_err(|e| format!("cannot open the file store: {e}"))?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let app = Arc::new(App::new(config, Arc::new(store), shutdown_rx.clone()));
        signaling::timer::spawn(app.clone());

        // Every connection task holds a clone of `alive`; when all are dropped, all have ended.
        let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
        let router = http::router(app.clone(), alive_tx, Arc::new(blobs));
        let task_app = app.clone();
        let task = tokio::spawn(async move {
            let mut stop = shutdown_rx;
            // No Nagle delay: a push or answer that follows another before the client's
            // (delayed) ACK would otherwise wait up to 40 ms.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
                let _ = tcp.set_nodelay(true);
            });
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!("server stopped: {e}");
            }
            // The router (and its `alive` sender) is gone; wait for the WebSocket tasks.
            let _ = alive_rx.recv().await;
            task_app.store.close().await;
        });
        Ok(ServerHandle { addr, app, shutdown: shutdown_tx, task })
    }
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The WebSocket URL clients connect to (`ws://addr/v1/ws`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/ws", self.addr)
    }

    /// The HTTP base URL (`http://addr`).
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Issues a UserSig for `user` with this server's key, valid for `expire_secs`.
    pub fn user_sig(&self, user: &str, expire_secs: i64) -> String {
        self.app.sigs.sign(user, gateway::now_ms() / 1000, expire_secs)
    }

    /// Number of authenticated sessions right now.
    pub fn online_sessions(&self) -> usize {
        self.app.sessions.count()
    }

    /// Closes every connection of `user` without a close handshake, as a network loss would;
    /// returns how many there were. For operators and for tests of reconnection.
    pub fn disconnect_user(&self, user: &str) -> usize {
        self.app.sessions.control_user(user, Control::Disconnect)
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
