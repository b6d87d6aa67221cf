//! Invitation deadlines: one task per server sleeps until the earliest deadline and times the
//! invitation out ([`crate::handlers::signaling::expire`]), then delivers what that caused.
//! Deadlines live in the store, so after a restart the task reloads them and times out at once
//! the ones that passed while the server was down.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use super::deliver::deliver;
use crate::app::App;
use crate::handlers::{Ctx, signaling};

/// How long the timer waits before retrying an expiry the store failed.
const RETRY: Duration = Duration::from_secs(1);

/// Starts the timer task of `app` (once; it ends when the server shuts down).
pub fn spawn(app: Arc<App>) {
    let Some(mut rx) = app.deadlines.take_inbox() else { return };
    tokio::spawn(async move {
        let mut due: BinaryHeap<Reverse<(i64, String)>> = BinaryHeap::new();
        let ctx = Ctx::new(app.services.clone());
        match ctx.store.invitation_deadlines().await {
            Ok(list) => due.extend(list.into_iter().map(|(id, at)| Reverse((at, id)))),
            Err(e) => tracing::error!("cannot load invitation deadlines: {e}"),
        }
        let mut shutdown = app.shutdown.clone();
        loop {
            let next = due.peek().map(|Reverse((at, _))| *at);
            let sleep = async {
                match next {
                    Some(at) => tokio::time::sleep(Duration::from_millis((at - ctx.now_ms()).max(0) as u64)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                new = rx.recv() => match new {
                    Some((at, id)) => due.push(Reverse((at, id))),
                    None => return,
                },
                _ = sleep => {
                    let now = ctx.now_ms();
                    while due.peek().is_some_and(|Reverse((at, _))| *at <= now) {
                        let Reverse((_, id)) = due.pop().expect("peeked");
                        match signaling::expire(&ctx, &id).await {
                            Ok(effects) => deliver(&app, effects, None),
                            Err(e) => {
                                tracing::warn!("signaling timer: {e}");
                                due.push(Reverse((now + RETRY.as_millis() as i64, id)));
                            }
                        }
                    }
                },
                _ = shutdown.changed() => return,
            }
        }
    });
}
