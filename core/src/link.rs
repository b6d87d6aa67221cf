//! The connection supervisor: keeps one connection to the server open for an SDK instance,
//! from `initSDK` to `unInitSDK`.
//!
//! It reconnects after any loss (network, server restart, dead heartbeat) with exponential
//! backoff and jitter. It knows nothing of users or listeners: it drives its [`LinkOwner`]
//! (the client), which logs the user in again before publishing a new connection and reports
//! the state through `onConnecting` / `onConnectSuccess` / `onConnectFailed`.
//!
//! The server closes a socket that does not log in within its login deadline
//! ([`oxim_proto::frame::CLOSE_LOGIN_DEADLINE`]): an app that called `initSDK` and not yet
//! `login`. That is no loss: the supervisor stays disconnected, reporting nothing, until its
//! owner has a user (or a login waits for a connection), then connects at once.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc, watch};

use crate::error::{Error, Result};
use crate::transport::{Push, Transport};

/// The connection currently usable for requests (authenticated when a user is logged in).
pub struct Link {
    current: watch::Sender<Option<Arc<Transport>>>,
    /// Callers of [`Link::wait_until`] waiting now: an idle supervisor connects for them.
    waiting: AtomicUsize,
    /// Wakes an idle supervisor when a caller starts waiting.
    wanted: Notify,
}

impl Default for Link {
    fn default() -> Self {
        Link { current: watch::channel(None).0, waiting: AtomicUsize::new(0), wanted: Notify::new() }
    }
}

/// Counts a caller of [`Link::wait_until`] while it waits.
struct Waiting<'a>(&'a Link);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Link {
    /// The usable connection, if there is one.
    pub fn current(&self) -> Option<Arc<Transport>> {
        self.current.borrow().as_ref().filter(|t| !t.is_closed()).cloned()
    }

    /// The usable connection, or 9508.
    pub fn current_or_err(&self) -> Result<Arc<Transport>> {
        self.current().ok_or_else(|| Error::disconnected("not connected to the server"))
    }

    /// Waits until there is a usable connection, at most until `deadline`.
    pub async fn wait_until(&self, deadline: Instant) -> Result<Arc<Transport>> {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(self);
        self.wanted.notify_waiters();
        let mut rx = self.current.subscribe();
        let wait = rx.wait_for(|t| t.as_ref().is_some_and(|t| !t.is_closed()));
        match tokio::time::timeout_at(deadline.into(), wait).await {
            Ok(Ok(t)) => Ok(t.as_ref().expect("checked by wait_for").clone()),
            Ok(Err(_)) => Err(Error::disconnected("the SDK is shutting down")),
            Err(_) => Err(Error::disconnected("no connection to the server")),
        }
    }

    /// Makes `transport` the usable connection (`None`: there is none).
    pub fn publish(&self, transport: Option<Arc<Transport>>) {
        self.current.send_replace(transport);
    }

    /// Returns once a caller waits for a connection ([`Link::wait_until`]) or `wanted()` says
    /// one is needed (checked now and at each wake-up).
    async fn idle_until_wanted(&self, wanted: impl Fn() -> bool) {
        loop {
            let woken = self.wanted.notified();
            tokio::pin!(woken);
            // Registered before the checks: a waiter arriving after them still wakes us.
            woken.as_mut().enable();
            if self.waiting.load(Ordering::Acquire) > 0 || wanted() {
                return;
            }
            woken.await;
        }
    }
}

/// Exponential backoff with jitter: 0.25 s doubling up to a maximum (16 s by default), each
/// delay drawn from [50 %, 100 %] of the step so that many clients do not reconnect in lockstep
/// after a restart.
pub struct Backoff {
    step: u32,
    max: Duration,
}

impl Backoff {
    const BASE: Duration = Duration::from_millis(250);
    /// The default maximum.
    pub const MAX: Duration = Duration::from_secs(16);

    /// A fresh backoff up to `max`.
    pub fn new(max: Duration) -> Backoff {
        Backoff { step: 0, max }
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let full = Self::BASE.saturating_mul(1 << self.step.min(10)).min(self.max);
        self.step = self.step.saturating_add(1);
        full.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    /// Back to the shortest delay.
    pub fn reset(&mut self) {
        self.step = 0;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Backoff::MAX)
    }
}

/// A connection that lived at least this long resets the backoff: the server was up and let the
/// user in, so losing the connection later is the network's doing, not a server turning
/// clients away.
const STABLE: Duration = Duration::from_secs(2);

/// How the supervisor connects.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// The server's WebSocket URL.
    pub url: String,
    /// Heartbeat interval ([`Transport::connect`]).
    pub heartbeat: Duration,
    /// How long a request may wait for its answer.
    pub request_timeout: Duration,
    /// Longest backoff between attempts.
    pub reconnect_max_delay: Duration,
    /// TLS for `wss://` ([`crate::tls::client_config`]).
    pub tls: Arc<rustls::ClientConfig>,
}

/// The instance a supervisor works for. The supervisor tells it what the connection does and
/// hands it each new connection to authenticate; it holds the owner weakly, so an owner that
/// is dropped ends its supervisor rather than being kept alive by it.
pub trait LinkOwner: Send + Sync + 'static {
    /// Whether a user is logged in (their session needs a connection even when no request waits
    /// for one).
    fn has_user(&self) -> bool;
    /// An attempt to connect starts (`onConnecting`).
    fn on_connecting(&self);
    /// An attempt failed (`onConnectFailed`); the next one follows after a backoff.
    fn on_connect_failed(&self, error: Error);
    /// A new connection is open and not published yet: authenticate it (log the user in again
    /// if one is logged in), publish it with [`Link::publish`], tell the app. An error drops
    /// the connection unpublished; the next attempt follows after a backoff.
    fn on_connected(&self, transport: Arc<Transport>) -> impl Future<Output = Result<()>> + Send;
}

/// The supervisor loop: runs until its owner is gone (or its task is aborted). Pushes of every
/// connection go to `pushes`.
pub async fn supervise<O: LinkOwner>(
    owner: Weak<O>,
    link: Arc<Link>,
    config: LinkConfig,
    pushes: mpsc::UnboundedSender<Push>,
) {
    let mut backoff = Backoff::new(config.reconnect_max_delay);
    loop {
        let Some(o) = owner.upgrade() else { return };
        o.on_connecting();
        let connected =
            Transport::connect_tls(&config.url, &config.tls, config.heartbeat, config.request_timeout, pushes.clone())
                .await;
        let transport = match connected {
            Ok(t) => t,
            Err(e) => {
                tracing::info!("connect failed: {e}");
                o.on_connect_failed(e);
                drop(o);
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        let connected_at = Instant::now();

        // The owner authenticates the connection before publishing it, so no request of a
        // logged-in user ever goes out on an unauthenticated connection.
        let taken = o.on_connected(transport.clone()).await;
        drop(o);
        if let Err(e) = taken {
            tracing::info!("connection not taken: {e}");
            transport.close();
            tokio::time::sleep(backoff.next_delay()).await;
            continue;
        }

        transport.closed().await;
        link.publish(None);
        if transport.closed_for_login_deadline() {
            // Idle (no login in time), not lost: connect again when a login needs it.
            tracing::info!("closed at the server's login deadline: idle until a login");
            let has_user = || owner.upgrade().is_some_and(|o| o.has_user());
            link.idle_until_wanted(has_user).await;
            backoff.reset();
            continue;
        }
        if connected_at.elapsed() >= STABLE {
            backoff.reset();
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::test_peer::{Peer, WAIT, eventually};

    /// Records what the supervisor tells it; refuses the first `refuse` connections.
    struct Owner {
        link: Arc<Link>,
        log: Mutex<Vec<&'static str>>,
        refuse: AtomicUsize,
    }

    impl Owner {
        fn new(refuse: usize) -> Arc<Owner> {
            Arc::new(Owner { link: Arc::new(Link::default()), log: Mutex::new(Vec::new()), refuse: refuse.into() })
        }

        fn count(&self, what: &str) -> usize {
            self.log.lock().unwrap().iter().filter(|l| **l == what).count()
        }
    }

    impl LinkOwner for Owner {
        fn has_user(&self) -> bool {
            false
        }

        fn on_connecting(&self) {
            self.log.lock().unwrap().push("connecting");
        }

        fn on_connect_failed(&self, error: Error) {
            assert_eq!(error.code, oxim_proto::code::SDK_NET_DISCONNECT);
            self.log.lock().unwrap().push("failed");
        }

        async fn on_connected(&self, transport: Arc<Transport>) -> Result<()> {
            if self.refuse.load(Ordering::SeqCst) > 0 {
                self.refuse.fetch_sub(1, Ordering::SeqCst);
                self.log.lock().unwrap().push("refused");
                return Err(Error::disconnected("not now"));
            }
            self.link.publish(Some(transport));
            self.log.lock().unwrap().push("connected");
            Ok(())
        }
    }

    fn config(url: &str) -> LinkConfig {
        LinkConfig {
            url: url.to_owned(),
            heartbeat: Duration::from_secs(20),
            request_timeout: WAIT,
            reconnect_max_delay: Duration::from_millis(40),
            tls: crate::tls::client_config("").unwrap(),
        }
    }

    fn start(owner: &Arc<Owner>, url: &str) -> tokio::task::JoinHandle<()> {
        let (pushes, _) = mpsc::unbounded_channel();
        tokio::spawn(supervise(Arc::downgrade(owner), owner.link.clone(), config(url), pushes))
    }

    #[tokio::test]
    async fn the_supervisor_reconnects_after_a_loss_and_publishes_only_what_its_owner_took() {
        let mut peer = Peer::start(false).await;
        let owner = Owner::new(1);
        let task = start(&owner, &peer.url);
        // The owner refuses the first connection: it is closed, never published.
        let mut refused = peer.accept().await;
        assert!(refused.request().await.is_none(), "a refused connection is closed");
        let first = peer.accept().await;
        eventually("the second connection published", || owner.link.current().is_some()).await;
        let published = owner.link.current().unwrap();
        // The server drops it: unpublished, then a new connection replaces it.
        drop(first);
        let _second = peer.accept().await;
        eventually("a new connection published", || owner.link.current().is_some_and(|t| !Arc::ptr_eq(&t, &published)))
            .await;
        assert!(published.is_closed());
        assert_eq!(owner.count("refused"), 1);
        assert_eq!(owner.count("connected"), 2);
        assert_eq!(owner.count("connecting"), 3, "each attempt is announced");
        task.abort();
    }

    #[tokio::test]
    async fn a_close_at_the_login_deadline_leaves_the_supervisor_idle_until_a_login_waits() {
        let mut peer = Peer::start(false).await;
        let owner = Owner::new(0);
        let task = start(&owner, &peer.url);
        let conn = peer.accept().await;
        eventually("the connection published", || owner.link.current().is_some()).await;
        conn.close_with(oxim_proto::frame::CLOSE_LOGIN_DEADLINE, "login deadline");
        eventually("the connection unpublished", || owner.link.current().is_none()).await;
        // Nobody logs in: no reconnection, nothing reported.
        assert!(peer.no_connection_within(Duration::from_millis(500)).await, "reconnected while idle");
        assert_eq!((owner.count("connecting"), owner.count("failed")), (1, 0));
        // A login waits for a connection: the supervisor connects at once.
        let waiter = tokio::spawn({
            let link = owner.link.clone();
            async move { link.wait_until(Instant::now() + WAIT).await }
        });
        let _again = peer.accept().await;
        assert!(waiter.await.unwrap().is_ok());
        assert_eq!((owner.count("connecting"), owner.count("connected")), (2, 2));
        task.abort();
    }

    #[tokio::test]
    async fn failed_attempts_are_reported_and_retried() {
        // A port nobody listens on.
        let url = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("ws://{}/v1/ws", l.local_addr().unwrap())
        };
        let owner = Owner::new(0);
        let task = start(&owner, &url);
        eventually("three failed attempts", || owner.count("failed") >= 3).await;
        assert!(owner.link.current().is_none());
        task.abort();
    }

    #[tokio::test]
    async fn the_supervisor_ends_when_its_owner_is_gone() {
        let mut peer = Peer::start(false).await;
        let owner = Owner::new(0);
        let link = owner.link.clone();
        let task = start(&owner, &peer.url);
        let conn = peer.accept().await;
        eventually("the connection published", || link.current().is_some()).await;
        // The supervisor does not keep its owner alive, and stops at its next turn.
        drop(owner);
        drop(conn);
        tokio::time::timeout(WAIT, task).await.expect("the supervisor ended").unwrap();
        assert!(link.current().is_none());
        assert!(peer.no_connection_within(Duration::from_millis(300)).await, "no reconnection");
    }

    #[tokio::test]
    async fn waiting_for_a_connection_ends_at_the_deadline_or_when_one_is_published() {
        let link = Arc::new(Link::default());
        let e = link.wait_until(Instant::now() + Duration::from_millis(50)).await.unwrap_err();
        assert_eq!(e.code, oxim_proto::code::SDK_NET_DISCONNECT);
        assert_eq!(link.current_or_err().unwrap_err().code, oxim_proto::code::SDK_NET_DISCONNECT);

        let mut peer = Peer::start(false).await;
        let (pushes, _) = mpsc::unbounded_channel();
        let waiter = tokio::spawn({
            let link = link.clone();
            async move { link.wait_until(Instant::now() + WAIT).await }
        });
        let t = Transport::connect(&peer.url, Duration::from_secs(20), WAIT, pushes).await.unwrap();
        let _conn = peer.accept().await;
        link.publish(Some(t.clone()));
        assert!(Arc::ptr_eq(&waiter.await.unwrap().unwrap(), &t));
        // A closed connection is not usable even while still published.
        t.close();
        assert!(link.current().is_none());
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let mut b = Backoff::default();
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(125) && first <= Duration::from_millis(250), "{first:?}");
        let delays: Vec<_> = (0..20).map(|_| b.next_delay()).collect();
        assert!(delays.iter().all(|d| *d <= Backoff::MAX));
        assert!(delays.last().unwrap() >= &(Backoff::MAX / 2));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(250));
    }
}
