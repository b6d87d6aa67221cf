//! The connection supervisor: keeps one connection to the server open for an SDK instance,
//! from `initSDK` to `unInitSDK`.
//!
//! It reconnects after any loss (network, server restart, dead heartbeat) with exponential
//! backoff and jitter, logs the user in again before anyone else may use the new connection,
//! and reports the state through `onConnecting` / `onConnectSuccess` / `onConnectFailed`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::client::{Client, Relogin};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::transport::Transport;

/// The connection currently usable for requests (authenticated when a user is logged in).
pub struct Link {
    current: watch::Sender<Option<Arc<Transport>>>,
}

impl Default for Link {
    fn default() -> Self {
        Link { current: watch::channel(None).0 }
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
        let mut rx = self.current.subscribe();
        let wait = rx.wait_for(|t| t.as_ref().is_some_and(|t| !t.is_closed()));
        match tokio::time::timeout_at(deadline.into(), wait).await {
            Ok(Ok(t)) => Ok(t.as_ref().expect("checked by wait_for").clone()),
            Ok(Err(_)) => Err(Error::disconnected("the SDK is shutting down")),
            Err(_) => Err(Error::disconnected("no connection to the server")),
        }
    }

    pub(crate) fn publish(&self, transport: Option<Arc<Transport>>) {
        self.current.send_replace(transport);
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

/// The supervisor loop; runs until the SDK is uninitialised (its task is aborted).
pub async fn supervise(client: Arc<Client>) {
    let mut backoff = Backoff::new(client.config.reconnect_max_delay);
    loop {
        client.events.emit(Event::Connecting);
        let transport = match Transport::connect(
            &client.ws_url,
            client.config.heartbeat_interval,
            client.config.request_timeout,
            client.pushes.clone(),
        )
        .await
        {
            Ok(t) => t,
            Err(e) => {
                tracing::info!("connect failed: {e}");
                client.events.emit(Event::ConnectFailed { code: e.code, desc: e.desc });
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        let connected_at = Instant::now();

        // Log in again before the connection is published, so no request of a logged-in user
        // ever goes out on an unauthenticated connection.
        match client.relogin_and_publish(&transport).await {
            Err(e) => {
                tracing::info!("re-login failed: {e}");
                transport.close();
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
            Ok(Relogin::NoUser) => client.events.emit(Event::ConnectSuccess),
            Ok(Relogin::Resumed(session)) => {
                client.events.emit(Event::ConnectSuccess);
                session.on_connected();
            }
            Ok(Relogin::Refused(e)) => {
                tracing::info!("re-login refused: {e}");
                client.events.emit(Event::ConnectSuccess);
                client.events.emit(Event::UserSigExpired);
            }
        }

        transport.closed().await;
        client.link.publish(None);
        if connected_at.elapsed() >= STABLE {
            backoff.reset();
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
