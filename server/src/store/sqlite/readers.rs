//! Reads run on a small pool of read-only connections (WAL lets them run beside the writer),
//! each on a blocking thread of the runtime. At most [`MAX_READERS`] run at once; further reads
//! wait (asynchronously) for a turn, so a flood of reads opens neither a connection nor a thread
//! per read.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::SqliteStore;
use super::schema::SETTINGS;
use crate::store::{StoreError, StoreResult};

/// Reads running at once (each holds a connection and a blocking thread); also the most
/// connections kept idle for reuse.
pub(super) const MAX_READERS: usize = 8;

/// The read connections of one store.
pub(super) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// One permit per read running.
    running: tokio::sync::Semaphore,
}

impl ReaderPool {
    /// A pool for the database at `path` (connections are opened when first needed).
    pub(super) fn new(path: PathBuf) -> ReaderPool {
        ReaderPool { path, idle: Mutex::new(Vec::new()), running: tokio::sync::Semaphore::new(MAX_READERS) }
    }

    fn take(&self) -> StoreResult<Connection> {
        if let Some(conn) = self.idle.lock().expect("reader pool lock").pop() {
            return Ok(conn);
        }
        Ok(oxim_sqlite::open_reader(&self.path, &SETTINGS)?)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().expect("reader pool lock");
        if idle.len() < MAX_READERS {
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
        let turn = pool.running.acquire().await.map_err(|_| StoreError::Closed)?;
        let reader = pool.clone();
        let result = tokio::task::spawn_blocking(move || {
            let conn = reader.take()?;
            let result = f(&conn);
            reader.give_back(conn);
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?;
        drop(turn);
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_of_reads_runs_a_few_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut reads = Vec::new();
        for _ in 0..64 {
            let (store, running, most) = (store.clone(), running.clone(), most.clone());
            reads.push(tokio::spawn(async move {
                store
                    .read(move |c| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        let one: i64 = c.query_row("SELECT 1", [], |r| r.get(0))?;
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(one)
                    })
                    .await
            }));
        }
        for read in reads {
            assert_eq!(read.await.unwrap().unwrap(), 1);
        }
        let most = most.load(Ordering::SeqCst);
        assert!(most <= MAX_READERS, "{most} reads ran at once");
        assert!(store.readers.idle.lock().unwrap().len() <= MAX_READERS, "connections kept");
    }
}
