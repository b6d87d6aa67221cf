//! Checkpoints (folding the WAL into the database file, with an fsync) run on a thread of their
//! own, never in the writer: an automatic checkpoint inside a commit stalled that commit, and
//! every message waiting behind it, for the duration of an fsync.
//!
//! A PASSIVE checkpoint never waits, so a reader that stays on an old snapshot can keep it from
//! reaching the WAL's end and the WAL grows. Once it holds more than [`WAL_LIMIT`] the
//! checkpointer runs a RESTART checkpoint instead, which waits for such readers (and holds new
//! writes back meanwhile), so the writer starts the WAL over; `journal_size_limit` then cuts
//! the file back.

use std::path::Path;
use std::time::Duration;

use super::WAL_LIMIT;
use super::schema::open;
use crate::store::{StoreError, StoreResult};

/// How often the checkpointer folds the WAL into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// The thread that checkpoints the WAL (PASSIVE: it never blocks the writer or readers).
pub(super) struct Checkpointer {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> StoreResult<Checkpointer> {
        let conn = open(path)?;
        conn.pragma_update(None, "journal_size_limit", WAL_LIMIT as i64)?;
        let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("oxim-store-checkpoint".into())
            .spawn(move || {
                // Runs until `stop` is sent or dropped.
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_INTERVAL) {
                    // (busy, frames in the WAL, frames checkpointed)
                    let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                    });
                    match passive {
                        Ok((_, frames, done)) if done < frames && (frames * page_size) as u64 > WAL_LIMIT => {
                            tracing::info!("the WAL holds {frames} frames: waiting for readers to fold it in");
                            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())) {
                                tracing::warn!("WAL checkpoint (RESTART) failed: {e}");
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!("WAL checkpoint failed: {e}"),
                    }
                }
            })
            .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop, thread })
    }

    pub(super) fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
