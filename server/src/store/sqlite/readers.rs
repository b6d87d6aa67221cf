//! Reads run on a small pool of read-only connections (WAL lets them run beside the writer),
//! each on a blocking thread of the runtime.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::SqliteStore;
use super::schema::SETTINGS;
use crate::store::{StoreError, StoreResult};

/// Idle read connections kept for reuse.
const IDLE_READERS: usize = 8;

/// The read connections of one store.
pub(super) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    /// A pool for the database at `path` (connections are opened when first needed).
    pub(super) fn new(path: PathBuf) -> ReaderPool {
        ReaderPool { path, idle: Mutex::new(Vec::new()) }
    }

    fn take(&self) -> StoreResult<Connection> {
        if let Some(conn) = self.idle.lock().expect("reader pool lock").pop() {
            return Ok(conn);
        }
        Ok(oxim_sqlite::open_reader(&self.path, &SETTINGS)?)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().expect("reader pool lock");
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

impl SqliteStore {
    /// Runs `f` on a read connection, on a blocking thread.
    pub(super) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let pool: Arc<ReaderPool> = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = f(&conn);
            pool.give_back(conn);
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}
