//! Invitation deadlines: one task per server sleeps until the earliest deadline and times the
//! invitation out ([`super::expire`]). Deadlines live in the store, so after a restart the
//! task reloads them and times out at once the ones that passed while the server was down.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::app::App;
use crate::gateway::now_ms;

/// How long the timer waits before retrying an expiry the store failed.
const RETRY: Duration = Duration::from_secs(1);

/// The timer's inbox: deadlines of new invitations.
pub struct Deadlines {
    tx: mpsc::UnboundedSender<(i64, String)>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<(i64, String)>>>,
}

impl Default for Deadlines {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Deadlines { tx, rx: Mutex::new(Some(rx)) }
    }
}

impl Deadlines {
    /// Asks the timer to expire `invite_id` at `deadline_ms` (server Unix ms).
    pub fn schedule(&self, invite_id: &str, deadline_ms: i64) {
        let _ = self.tx.send((deadline_ms, invite_id.to_owned()));
    }
}

/// Starts the timer task of `app` (once; it ends when the server shuts down).
pub fn spawn(app: Arc<App>) {
    let Some(mut rx) = app.deadlines.rx.lock().expect("deadlines lock").take() else { return };
    tokio::spawn(async move {
        let mut due: BinaryHeap<Reverse<(i64, String)>> = BinaryHeap::new();
        match app.store.invitation_deadlines().await {
            Ok(list) => due.extend(list.into_iter().map(|(id, at)| Reverse((at, id)))),
            Err(e) => tracing::error!("cannot load invitation deadlines: {e}"),
        }
        let mut shutdown = app.shutdown.clone();
        loop {
            let next = due.peek().map(|Reverse((at, _))| *at);
            let sleep = async {
                match next {
                    Some(at) => tokio::time::sleep(Duration::from_millis((at - now_ms()).max(0) as u64)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                new = rx.recv() => match new {
                    Some((at, id)) => due.push(Reverse((at, id))),
                    None => return,
                },
                _ = sleep => {
                    let now = now_ms();
                    while due.peek().is_some_and(|Reverse((at, _))| *at <= now) {
                        let Reverse((_, id)) = due.pop().expect("peeked");
                        if !super::expire(&app, &id).await {
                            due.push(Reverse((now + RETRY.as_millis() as i64, id)));
                        }
                    }
                },
                _ = shutdown.changed() => return,
            }
        }
    });
}
