//! Checkpoints (folding the WAL into the database file, with an fsync) run on a thread of their
//! own, never in the writer: an automatic checkpoint inside a commit stalled that commit, and
//! every message waiting behind it, for the duration of an fsync.

use std::path::Path;
use std::time::Duration;

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
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("oxim-store-checkpoint".into())
            .spawn(move || {
                // Runs until `stop` is sent or dropped.
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_INTERVAL) {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!("WAL checkpoint failed: {e}");
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
