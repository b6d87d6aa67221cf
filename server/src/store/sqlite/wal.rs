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

/// The most frames the writer folds into the database itself before a restart. Its pass holds
/// every sender until it ends, fsync of the database included: with what a whole checkpointer
/// pass let pile up (thousands of frames at 10,000 msgs/s) that fsync took 12 ms on average,
/// every quarter of a second (docs/benchmarks.md, "Seventh round"). Past this the checkpointer
/// is asked for another pass instead, which copies it without holding anyone; each pass finds
/// less, as it lasts less.
const CATCH_UP_FRAMES: u32 = 64;

/// How many passes the writer asks for, one after the other, before it folds in what is left
/// itself however much that is (a checkpointer that cannot catch up, or a reader in the way).
const CATCH_UP_PASSES: u32 = 16;

/// The writer also stops asking once the WAL holds this many times its bound, and folds in
/// what is left: past [`WAL_LIMIT`](super::WAL_LIMIT) (four times the default bound) the
/// checkpointer's RESTART would hold the writer far longer. A pass fsyncs what it copied, so
/// while it runs under load about half as many frames are committed as it copied. With the
/// WAL allowed to grow only half its bound again (and 8 passes), at 12,000 msgs/s the writer
/// was left up to 5,000 frames and its fold-ins took 8.0 and 21.0 ms on average in two runs (at
/// most 43 and 62); allowed three times (and 16 passes), 5.6 and 10.2 ms (at most 30 and 53;
/// docs/benchmarks.md, "Ninth round").
const CATCH_UP_GROWTH: u32 = 3;

/// Kept by the writer thread: restarts the WAL between batches once it holds
/// [`Limits::wal_restart`](super::Limits::wal_restart) ([`WAL_RESTART`](super::WAL_RESTART)).
pub(super) struct WalRestart {
    /// Frames in the WAL after the writer's last commit (its WAL hook sets it).
    frames: Arc<AtomicU32>,
    /// That bound in frames.
    restart_frames: u32,
    orders: Sender<Order>,
    passes: Arc<AtomicU64>,
    /// The WAL frame the checkpointer's last pass copied up to.
    reached: Arc<AtomicU32>,
    /// The checkpointer's pass count when the writer asked it for a pass.
    asked_after: Option<u64>,
    /// Passes asked for since the WAL reached its bound.
    asked: u32,
}

impl WalRestart {
    /// Restarts once the WAL holds `restart_frames`; asks for passes through `orders` and sees
    /// them done in `passes`, each having copied up to frame `reached`.
    pub(super) fn new(
        frames: Arc<AtomicU32>,
        restart_frames: u32,
        orders: Sender<Order>,
        passes: Arc<AtomicU64>,
        reached: Arc<AtomicU32>,
    ) -> WalRestart {
        WalRestart { frames, restart_frames, orders, passes, reached, asked_after: None, asked: 0 }
    }

    /// Between two batches (nobody is waiting on a commit of the writer): once the WAL is long
    /// enough, asks the checkpointer for passes until what was committed since its last one is
    /// small ([`CATCH_UP_FRAMES`]), then checkpoints that itself, so the writer's next
    /// transaction starts the WAL over.
    pub(super) fn between_batches(&mut self, conn: &Connection) {
        let frames = self.frames.load(Ordering::Relaxed);
        if frames < self.restart_frames {
            self.asked_after = None;
            self.asked = 0;
            return;
        }
        let passes = self.passes.load(Ordering::Acquire);
        let ask = match self.asked_after {
            None => true,
            Some(asked) if passes == asked => return,
            Some(_) => {
                let left = frames.saturating_sub(self.reached.load(Ordering::Relaxed));
                let grown = frames >= self.restart_frames.saturating_mul(CATCH_UP_GROWTH);
                left > CATCH_UP_FRAMES && self.asked < CATCH_UP_PASSES && !grown
            }
        };
        // A checkpointer that is gone (the store is closing) cannot answer: finish now.
        if ask && self.orders.send(Order::Pass).is_ok() {
            self.asked_after = Some(passes);
            self.asked += 1;
            return;
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
        self.asked = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{Receiver, channel};

    use super::*;

    /// A writer's side over a WAL of 1,000 frames (its bound), with the checkpointer's counters
    /// in the test's hands; the connection is not in WAL mode, so the writer's own pass always
    /// reaches the end.
    fn at_the_bound() -> (WalRestart, Receiver<Order>, Arc<AtomicU64>, Arc<AtomicU32>) {
        let (orders, received) = channel();
        let passes = Arc::new(AtomicU64::new(0));
        let reached = Arc::new(AtomicU32::new(0));
        let restart = WalRestart::new(Arc::new(AtomicU32::new(1_000)), 1_000, orders, passes.clone(), reached.clone());
        (restart, received, passes, reached)
    }

    fn pass_done(passes: &AtomicU64, reached: &AtomicU32, up_to: u32) {
        reached.store(up_to, Ordering::Relaxed);
        passes.fetch_add(1, Ordering::Release);
    }

    #[test]
    fn the_writer_folds_in_only_a_little_itself_and_leaves_the_rest_to_the_checkpointer() {
        let conn = Connection::open_in_memory().unwrap();
        let (mut restart, orders, passes, reached) = at_the_bound();
        restart.between_batches(&conn);
        assert!(matches!(orders.try_recv(), Ok(Order::Pass)), "at the bound the checkpointer is asked for a pass");
        restart.between_batches(&conn);
        assert!(orders.try_recv().is_err(), "nothing more until that pass is done");
        // The pass copied 200 frames: 800 were committed meanwhile, too many to fold in while
        // every sender waits.
        pass_done(&passes, &reached, 200);
        restart.between_batches(&conn);
        assert!(matches!(orders.try_recv(), Ok(Order::Pass)), "another pass is asked for");
        assert_eq!(restart.frames.load(Ordering::Relaxed), 1_000, "the writer did not fold them in itself");
        // The next pass left fewer than CATCH_UP_FRAMES: the writer folds those in itself, and
        // the WAL starts over.
        pass_done(&passes, &reached, 1_000 - CATCH_UP_FRAMES / 2);
        restart.between_batches(&conn);
        assert!(orders.try_recv().is_err());
        assert_eq!(restart.frames.load(Ordering::Relaxed), 0, "the writer folded in the rest");
    }

    #[test]
    fn a_wal_grown_to_its_growth_bound_is_folded_in_by_the_writer() {
        let conn = Connection::open_in_memory().unwrap();
        let (mut restart, orders, passes, reached) = at_the_bound();
        restart.between_batches(&conn);
        assert!(matches!(orders.try_recv(), Ok(Order::Pass)));
        // The pass copied 1,800 frames, but meanwhile the WAL grew on: short of the growth
        // bound, another pass is asked for.
        restart.frames.store(1_000 * CATCH_UP_GROWTH - 1, Ordering::Relaxed);
        pass_done(&passes, &reached, 1_800);
        restart.between_batches(&conn);
        assert!(matches!(orders.try_recv(), Ok(Order::Pass)), "the WAL may still grow");
        // At the growth bound the writer stops asking.
        restart.frames.store(1_000 * CATCH_UP_GROWTH, Ordering::Relaxed);
        pass_done(&passes, &reached, 2_000);
        restart.between_batches(&conn);
        assert!(orders.try_recv().is_err(), "no further pass: the WAL must not grow on");
        assert_eq!(restart.frames.load(Ordering::Relaxed), 0, "the writer folded in the rest");
    }

    #[test]
    fn a_checkpointer_that_never_catches_up_is_asked_a_bounded_number_of_times() {
        let conn = Connection::open_in_memory().unwrap();
        let (mut restart, orders, passes, reached) = at_the_bound();
        for _ in 0..CATCH_UP_PASSES {
            restart.between_batches(&conn);
            assert!(matches!(orders.try_recv(), Ok(Order::Pass)));
            // A reader keeps every pass from copying anything.
            pass_done(&passes, &reached, 0);
        }
        restart.between_batches(&conn);
        assert!(orders.try_recv().is_err(), "no pass is asked for past the bound");
        assert_eq!(restart.frames.load(Ordering::Relaxed), 0, "the writer folded in everything itself");
    }
}
