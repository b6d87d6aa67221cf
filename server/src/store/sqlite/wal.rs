//! The writer's side of starting the WAL over ([`WalRestart`]); why it exists is in
//! [`checkpoint`](super::checkpoint). Kept apart from the checkpointer so the writer does not
//! import it (the checkpointer opens its connection through the schema, which the writer's
//! modules build on).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::Sender;

use rusqlite::Connection;

/// What the checkpointer is told.
pub(super) enum Order {
    /// Run a pass now (the writer wants to restart the WAL).
    Pass,
    /// End.
    Stop,
}

/// Kept by the writer thread: restarts the WAL between batches once it holds
/// [`Limits::wal_restart`](super::Limits::wal_restart) ([`WAL_RESTART`](super::WAL_RESTART)).
pub(super) struct WalRestart {
    /// Frames in the WAL after the writer's last commit (its WAL hook sets it).
    frames: Arc<AtomicU32>,
    /// That bound in frames.
    restart_frames: u32,
    orders: Sender<Order>,
    passes: Arc<AtomicU64>,
    /// The checkpointer's pass count when the writer asked it for a pass.
    asked_after: Option<u64>,
}

impl WalRestart {
    /// Restarts once the WAL holds `restart_frames`; asks for passes through `orders` and sees
    /// them done in `passes`.
    pub(super) fn new(
        frames: Arc<AtomicU32>,
        restart_frames: u32,
        orders: Sender<Order>,
        passes: Arc<AtomicU64>,
    ) -> WalRestart {
        WalRestart { frames, restart_frames, orders, passes, asked_after: None }
    }

    /// Between two batches (nobody is waiting on a commit of the writer): once the WAL is long
    /// enough, asks the checkpointer for a pass; once that pass is done, checkpoints what was
    /// committed meanwhile, so the writer's next transaction starts the WAL over.
    pub(super) fn between_batches(&mut self, conn: &Connection) {
        if self.frames.load(Ordering::Relaxed) < self.restart_frames {
            self.asked_after = None;
            return;
        }
        let passes = self.passes.load(Ordering::Acquire);
        match self.asked_after {
            None => {
                self.asked_after = Some(passes);
                // A checkpointer that is gone (the store is closing) cannot answer: finish now.
                if self.orders.send(Order::Pass).is_ok() {
                    return;
                }
            }
            Some(asked) if passes == asked => return,
            Some(_) => {}
        }
        // The writer is outside any transaction here, so no frame is added while this runs and
        // it reaches the WAL's end unless a reader still needs older frames (then the next
        // batch tries again). The frames count drops at the next commit, after the restart.
        let started = std::time::Instant::now();
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))) {
            Ok((frames, done)) if done == frames => {
                tracing::debug!(
                    "WAL of {frames} frames folded in for a restart, the writer waited {:?}",
                    started.elapsed()
                );
                self.frames.store(0, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("WAL checkpoint before a restart failed: {e}"),
        }
        self.asked_after = None;
    }
}
