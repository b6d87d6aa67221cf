//! One initialised SDK instance: its connection supervisor, push routing and login state.
//!
//! Login state changes (login, automatic re-login, logout, kick, expiry) are serialised by one
//! async lock, `auth_lock`, which is also held while a new connection is published; so a
//! connection is never used for a logged-in user's requests before it is authenticated.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use oxim_proto::ids::is_valid_user_id;
use oxim_proto::payload::{LoginReq, LoginRes, WireMessage};
use oxim_proto::{code, op, push};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::events::{Dispatcher, Event, Listeners};
use crate::link::{self, Link, LinkConfig, LinkOwner};
use crate::model::config::{LoginStatus, SdkConfig};
use crate::session::Session;
use crate::store::Store;
use crate::transport::{Push, Transport};

/// How long `login` waits for a connection to the server.
const LOGIN_WAIT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Creds {
    user_id: String,
    user_sig: String,
}

struct AuthState {
    status: LoginStatus,
    creds: Option<Creds>,
    session: Option<Arc<Session>>,
    /// Bumped by every logout, so a login that was overtaken by one can tell.
    generation: u64,
}

/// What an automatic re-login on a new connection came to.
enum Relogin {
    /// Nobody is logged in.
    NoUser,
    /// The session continues on the new connection.
    Resumed(Arc<Session>),
    /// The server refused the stored UserSig; the session has ended.
    Refused(Error),
}

/// An initialised SDK instance.
pub struct Client {
    /// The app.
    pub sdk_app_id: u64,
    /// Configuration from `initSDK`.
    pub config: SdkConfig,
    /// WebSocket URL derived from the configured server URL.
    pub ws_url: String,
    /// TLS for the connection and file transfers (trusting the configured authorities).
    pub tls: Arc<rustls::ClientConfig>,
    /// The app's listeners.
    pub listeners: Arc<Listeners>,
    /// The event thread.
    pub events: Arc<Dispatcher>,
    /// The current connection.
    pub link: Arc<Link>,
    /// Where every connection delivers its pushes.
    pub pushes: mpsc::UnboundedSender<Push>,
    auth_lock: tokio::sync::Mutex<()>,
    state: Mutex<AuthState>,
    /// Server clock minus local clock, milliseconds.
    server_offset_ms: AtomicI64,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

pub use crate::clock::unix_ms;

/// The WebSocket URL for a configured server URL: `/v1/ws` is added when there is no path,
/// and `http(s)` becomes `ws(s)`.
pub fn ws_url(server_url: &str) -> Result<String> {
    let url = server_url.trim().trim_end_matches('/');
    let url = if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        url.to_owned()
    };
    let Some(after_scheme) = url.strip_prefix("ws://").or_else(|| url.strip_prefix("wss://")) else {
        return Err(Error::invalid(format!(
            "serverURL must start with ws://, wss://, http:// or https://: {server_url:?}"
        )));
    };
    if after_scheme.is_empty() {
        return Err(Error::invalid("serverURL has no host"));
    }
    Ok(if after_scheme.contains('/') { url } else { format!("{url}/v1/ws") })
}

impl Client {
    /// Starts an instance: the event thread, the connection supervisor and the push router.
    pub fn start(sdk_app_id: u64, config: SdkConfig, listeners: Arc<Listeners>) -> Result<Arc<Client>> {
        if sdk_app_id == 0 {
            return Err(Error::invalid("sdkAppID must not be 0"));
        }
        let ws_url = ws_url(&config.server_url)?;
        let tls = crate::tls::client_config(&config.trusted_ca_pem)?;
        let events = Arc::new(Dispatcher::start(listeners.clone()));
        let (pushes, pushes_rx) = mpsc::unbounded_channel();
        let client = Arc::new(Client {
            sdk_app_id,
            config,
            ws_url,
            tls,
            listeners,
            events,
            link: Arc::new(Link::default()),
            pushes,
            auth_lock: tokio::sync::Mutex::new(()),
            state: Mutex::new(AuthState { status: LoginStatus::Logout, creds: None, session: None, generation: 0 }),
            server_offset_ms: AtomicI64::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        let config = LinkConfig {
            url: client.ws_url.clone(),
            heartbeat: client.config.heartbeat_interval,
            request_timeout: client.config.request_timeout,
            reconnect_max_delay: client.config.reconnect_max_delay,
            tls: client.tls.clone(),
        };
        // The tasks hold the client weakly: dropping the client ends them (see `Drop`).
        let supervisor = crate::runtime::spawn(link::supervise(
            Arc::downgrade(&client),
            client.link.clone(),
            config,
            client.pushes.clone(),
        ));
        let router = crate::runtime::spawn(route_pushes(Arc::downgrade(&client), pushes_rx));
        client.tasks.lock().expect("tasks lock").extend([supervisor, router]);
        Ok(client)
    }

    /// Stops everything: the session (locally), the connection, the reconnect loop, the
    /// instance's event work. Also what dropping the client does.
    pub fn shutdown(&self) {
        for task in self.tasks.lock().expect("tasks lock").drain(..) {
            task.abort();
        }
        if let Some(session) = self.take_session() {
            session.close();
        }
        if let Some(t) = self.link.current() {
            t.close();
        }
        self.link.publish(None);
        self.events.stop();
    }

    /// Login status.
    pub fn status(&self) -> LoginStatus {
        self.state.lock().expect("state lock").status
    }

    /// The logged-in user, if any.
    pub fn login_user(&self) -> Option<String> {
        let st = self.state.lock().expect("state lock");
        (st.status == LoginStatus::Logined).then(|| st.creds.as_ref().map(|c| c.user_id.clone())).flatten()
    }

    /// The session of the logged-in user, or 6014.
    pub fn session(&self) -> Result<Arc<Session>> {
        let st = self.state.lock().expect("state lock");
        match (&st.status, &st.session) {
            (LoginStatus::Logined, Some(s)) => Ok(s.clone()),
            _ => Err(Error::not_logged_in()),
        }
    }

    /// Server time, Unix seconds (local clock corrected by the offset measured at login).
    pub fn server_time(&self) -> i64 {
        (unix_ms() + self.server_offset_ms.load(Ordering::Relaxed)) / 1000
    }

    fn take_session(&self) -> Option<Arc<Session>> {
        let mut st = self.state.lock().expect("state lock");
        st.status = LoginStatus::Logout;
        st.creds = None;
        st.generation += 1;
        st.session.take()
    }

    fn store_path(&self, user_id: &str) -> PathBuf {
        self.config.data_dir.join(self.sdk_app_id.to_string()).join(user_id).join("oxim.db")
    }

    async fn login_request(&self, t: &Transport, creds: &Creds) -> Result<LoginRes> {
        let req = LoginReq {
            sdk_app_id: self.sdk_app_id,
            user_id: creds.user_id.clone(),
            user_sig: creds.user_sig.clone(),
            platform: self.config.platform_name(),
            sdk_version: crate::VERSION.to_owned(),
        };
        let sent_at = unix_ms();
        let res: LoginRes = t.request(op::LOGIN, &req).await?;
        let received_at = unix_ms();
        // The server stamped its clock about half-way through the round trip.
        let local_mid = (sent_at + received_at) / 2;
        self.server_offset_ms.store(res.server_time_ms - local_mid, Ordering::Relaxed);
        Ok(res)
    }

    /// `login`: authenticates `user_id` and starts its session (local store, sync, resend of
    /// unsent messages). Logging in as the logged-in user is a no-op; as another user, the
    /// current one is logged out first.
    pub async fn login(self: &Arc<Self>, user_id: String, user_sig: String) -> Result<()> {
        if !is_valid_user_id(&user_id) {
            return Err(Error::invalid("userID must be 1-32 printable ASCII characters without spaces"));
        }
        if user_sig.is_empty() {
            return Err(Error::invalid("userSig is empty"));
        }
        let switch_user = {
            let mut st = self.state.lock().expect("state lock");
            match st.status {
                LoginStatus::Logining => {
                    return Err(Error::new(code::SDK_OPERATION_IN_PROGRESS, "a login is already in progress"));
                }
                LoginStatus::Logined if st.creds.as_ref().is_some_and(|c| c.user_id == user_id) => return Ok(()),
                LoginStatus::Logined => true,
                LoginStatus::Logout => {
                    st.status = LoginStatus::Logining;
                    false
                }
            }
        };
        if switch_user {
            self.logout().await?;
            self.state.lock().expect("state lock").status = LoginStatus::Logining;
        }
        let result = self.login_inner(Creds { user_id, user_sig }).await;
        if result.is_err() {
            let mut st = self.state.lock().expect("state lock");
            if st.status == LoginStatus::Logining {
                st.status = LoginStatus::Logout;
            }
        }
        result
    }

    async fn login_inner(self: &Arc<Self>, creds: Creds) -> Result<()> {
        let generation = self.state.lock().expect("state lock").generation;
        let path = self.store_path(&creds.user_id);
        let store = Arc::new(
            tokio::task::spawn_blocking(move || Store::open(&path))
                .await
                .map_err(|_| Error::db("opening the store was interrupted"))??,
        );
        let deadline = Instant::now() + LOGIN_WAIT;
        loop {
            let transport = match self.link.wait_until(deadline).await {
                Ok(t) => t,
                Err(e) => {
                    close_store(store);
                    return Err(e);
                }
            };
            let guard = self.auth_lock.lock().await;
            if transport.is_closed() {
                continue;
            }
            match self.login_request(&transport, &creds).await {
                Ok(res) => {
                    let login_ms = res.server_time_ms;
                    let born_ms = match store.call(move |db| crate::store::device_born_ms(db, login_ms)).await {
                        Ok(v) => v,
                        Err(e) => {
                            close_store(store);
                            return Err(e);
                        }
                    };
                    let media = match crate::media::MediaClient::with_tls(
                        &crate::media::http_base_from_ws_url(&self.ws_url),
                        self.sdk_app_id,
                        &creds.user_id,
                        &creds.user_sig,
                        self.tls.clone(),
                    ) {
                        Ok(m) => m,
                        Err(e) => {
                            close_store(store);
                            return Err(e);
                        }
                    };
                    let mut st = self.state.lock().expect("state lock");
                    if st.generation != generation {
                        drop(st);
                        close_store(store);
                        return Err(Error::new(6023, "logout was called before the login finished"));
                    }
                    let session = Session::start(
                        creds.user_id.clone(),
                        store,
                        self.link.clone(),
                        self.events.clone(),
                        born_ms,
                        media,
                        self.config.send_timeout,
                    );
                    // The features' per-session work after each reconnection, in this order:
                    // rooms first, then the messages that wait to be resent, then the push
                    // registration.
                    crate::group::attach(&session);
                    crate::message::attach(&session);
                    crate::message::set_rate_retry_limit(&session, self.config.rate_retry_limit);
                    crate::offline_push::attach(&session);
                    st.status = LoginStatus::Logined;
                    st.creds = Some(creds);
                    st.session = Some(session.clone());
                    drop(st);
                    drop(guard);
                    session.on_connected();
                    return Ok(());
                }
                Err(e) if e.is_network() && Instant::now() < deadline => continue,
                Err(e) => {
                    close_store(store);
                    return Err(e);
                }
            }
        }
    }

    /// `logout`: ends the session on the server (when connected) and locally.
    pub async fn logout(&self) -> Result<()> {
        let _guard = self.auth_lock.lock().await;
        let was_logged_in = self.state.lock().expect("state lock").status == LoginStatus::Logined;
        if was_logged_in && let Some(t) = self.link.current() {
            // Best effort: if the connection is gone the server has dropped the session too.
            let _ = t.request::<_, serde_json::Value>(op::LOGOUT, &serde_json::json!({})).await;
        }
        if let Some(session) = self.take_session() {
            session.close();
        }
        Ok(())
    }

    /// On a new connection: logs the user in again (if one is logged in), then publishes the
    /// connection. Network failures are returned (the connection is not published).
    async fn relogin_and_publish(&self, transport: &Arc<Transport>) -> Result<Relogin> {
        let _guard = self.auth_lock.lock().await;
        let (creds, session) = {
            let st = self.state.lock().expect("state lock");
            if st.status == LoginStatus::Logined { (st.creds.clone(), st.session.clone()) } else { (None, None) }
        };
        let (Some(creds), Some(session)) = (creds, session) else {
            self.link.publish(Some(transport.clone()));
            return Ok(Relogin::NoUser);
        };
        match self.login_request(transport, &creds).await {
            Ok(_) => {
                self.link.publish(Some(transport.clone()));
                Ok(Relogin::Resumed(session))
            }
            Err(e) if code::is_usersig_failure(e.code) => {
                if let Some(session) = self.take_session() {
                    session.close();
                }
                self.link.publish(Some(transport.clone()));
                Ok(Relogin::Refused(e))
            }
            // Network trouble or a transient server error: try again on the next connection.
            Err(e) => Err(if e.is_network() { e } else { Error::disconnected(format!("re-login failed: {e}")) }),
        }
    }

    /// Ends the session because the server says so (kicked, UserSig expired) and tells the app.
    async fn end_session_by_server(&self, event: Event) {
        let _guard = self.auth_lock.lock().await;
        if self.status() != LoginStatus::Logined {
            return;
        }
        if let Some(session) = self.take_session() {
            session.close();
        }
        self.events.emit(event);
    }
}

impl LinkOwner for Client {
    fn has_user(&self) -> bool {
        self.status() == LoginStatus::Logined
    }

    fn on_connecting(&self) {
        self.events.emit(Event::Connecting);
    }

    fn on_connect_failed(&self, error: Error) {
        self.events.emit(Event::ConnectFailed { code: error.code, desc: error.desc });
    }

    async fn on_connected(&self, transport: Arc<Transport>) -> Result<()> {
        match self.relogin_and_publish(&transport).await? {
            Relogin::NoUser => self.events.emit(Event::ConnectSuccess),
            Relogin::Resumed(session) => {
                self.events.emit(Event::ConnectSuccess);
                session.on_connected();
            }
            Relogin::Refused(e) => {
                tracing::info!("re-login refused: {e}");
                self.events.emit(Event::ConnectSuccess);
                self.events.emit(Event::UserSigExpired);
            }
        }
        Ok(())
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn close_store(store: Arc<Store>) {
    // Queued behind the store's work; the next open of the file waits for it.
    drop(store.close_in_background());
}

/// Routes server pushes to the logged-in session.
async fn route_pushes(client: Weak<Client>, mut rx: mpsc::UnboundedReceiver<Push>) {
    while let Some(push) = rx.recv().await {
        let Some(client) = client.upgrade() else { return };
        match push.event.as_str() {
            push::MSG => match serde_json::from_str::<WireMessage>(&push.body) {
                Ok(msg) => {
                    if let Ok(session) = client.session() {
                        session.on_push(msg);
                    }
                }
                Err(e) => tracing::warn!("malformed message push: {e}"),
            },
            push::GROUP_ATTRS => match serde_json::from_str::<oxim_proto::group::GroupAttrs>(&push.body) {
                Ok(attrs) => {
                    if let Ok(session) = client.session() {
                        crate::group::on_attrs_push(&session, attrs);
                    }
                }
                Err(e) => tracing::warn!("malformed group attributes push: {e}"),
            },
            push::SIGNAL => match serde_json::from_str::<WireMessage>(&push.body) {
                Ok(msg) => {
                    if let Ok(session) = client.session() {
                        session.on_signal(msg);
                    }
                }
                Err(e) => tracing::warn!("malformed signal push: {e}"),
            },
            push::KICKED => client.end_session_by_server(Event::KickedOffline).await,
            push::USERSIG_EXPIRED => client.end_session_by_server(Event::UserSigExpired).await,
            other => tracing::debug!("push {other} ignored"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_become_websocket_urls() {
        assert_eq!(ws_url("ws://127.0.0.1:8080").unwrap(), "ws://127.0.0.1:8080/v1/ws");
        assert_eq!(ws_url("http://h:1/").unwrap(), "ws://h:1/v1/ws");
        assert_eq!(ws_url("https://im.example.com").unwrap(), "wss://im.example.com/v1/ws");
        assert_eq!(ws_url("wss://h/custom/ws").unwrap(), "wss://h/custom/ws");
        assert_eq!(ws_url("ftp://h").unwrap_err().code, 6017);
        assert_eq!(ws_url("ws://").unwrap_err().code, 6017);
    }
}
