//! The process's one store executor: the database work of every store of every SDK instance
//! runs on the executor's own threads. Each store has a lane: its jobs run one at a time, in
//! the order they were queued (a job queued later sees every earlier one done). A lane with
//! queued jobs occupies one executor thread until it is empty; the executor keeps as many
//! threads as lanes are busy at once (idle ones end after [`IDLE_KEEP`]), so a process with a
//! thousand instances does not keep a thousand store threads, and a store whose write waits on
//! the disk holds up only its own lane. No app thread, event listener or async worker ever
//! waits on disk.
//!
//! The threads are the executor's own, not the async runtime's blocking pool: code on that pool
//! may wait for a lane (opening a store waits for the previous store of its file to close), and
//! a pool full of such waiters, with the lanes queued behind them, would never move again.

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// A unit of database work.
pub(super) type Task = Box<dyn FnOnce() + Send>;

thread_local! {
    static IN_LANE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the caller is running a store job (and so must never wait for a store job).
pub(super) fn on_executor() -> bool {
    IN_LANE.with(Cell::get)
}

/// One store's jobs, in order.
#[derive(Default)]
pub(super) struct Lane {
    state: Mutex<LaneState>,
}

#[derive(Default)]
struct LaneState {
    tasks: VecDeque<Task>,
    /// Handed to the pool, or running: a lane runs on one thread at a time, so its jobs run
    /// one at a time, in order.
    scheduled: bool,
}

impl Lane {
    /// Queues `task` behind the lane's earlier tasks.
    pub(super) fn submit(self: &Arc<Self>, task: Task) {
        let mut st = lock(&self.state);
        st.tasks.push_back(task);
        if !st.scheduled {
            st.scheduled = true;
            drop(st);
            POOL.schedule(self.clone());
        }
    }

    /// Runs the lane's jobs until it is empty.
    fn run(self: Arc<Self>) {
        IN_LANE.with(|on| on.set(true));
        loop {
            let task = {
                let mut st = lock(&self.state);
                match st.tasks.pop_front() {
                    Some(t) => t,
                    None => {
                        st.scheduled = false;
                        break;
                    }
                }
            };
            // One store's failure must not take a pool thread down with it.
            if catch_unwind(AssertUnwindSafe(task)).is_err() {
                tracing::error!("a store job panicked; its caller gets an error");
            }
        }
        IN_LANE.with(|on| on.set(false));
    }
}

/// How long an executor thread without work waits for more before it ends.
const IDLE_KEEP: Duration = Duration::from_secs(10);

/// The executor's threads and the lanes waiting for one.
struct Pool {
    state: Mutex<PoolState>,
    /// Signalled when a lane is queued for an idle thread.
    work: Condvar,
}

struct PoolState {
    /// Lanes with jobs, waiting for a thread.
    ready: VecDeque<Arc<Lane>>,
    /// Threads waiting for a lane.
    idle: usize,
}

static POOL: Pool = Pool { state: Mutex::new(PoolState { ready: VecDeque::new(), idle: 0 }), work: Condvar::new() };

impl Pool {
    /// Hands `lane` to an idle thread, or to a new one when every thread is busy.
    fn schedule(&'static self, lane: Arc<Lane>) {
        let mut st = lock(&self.state);
        st.ready.push_back(lane);
        if st.ready.len() <= st.idle {
            self.work.notify_one();
            return;
        }
        drop(st);
        let spawned = std::thread::Builder::new().name("oxim-store".into()).spawn(move || self.work_loop());
        if let Err(e) = spawned {
            // The lane stays queued: a thread that finishes its lane takes it.
            tracing::error!("cannot start a store thread: {e}");
        }
    }

    /// Runs queued lanes until none came for [`IDLE_KEEP`].
    fn work_loop(&self) {
        let mut st = lock(&self.state);
        loop {
            if let Some(lane) = st.ready.pop_front() {
                drop(st);
                lane.run();
                st = lock(&self.state);
                continue;
            }
            st.idle += 1;
            let (next, waited) = self.work.wait_timeout(st, IDLE_KEEP).unwrap_or_else(|e| e.into_inner());
            st = next;
            st.idle -= 1;
            if waited.timed_out() && st.ready.is_empty() {
                return;
            }
        }
    }
}

/// Locks `m`, also after a job panicked while holding it (what it guards stays usable: a
/// transaction in progress was rolled back as the panic unwound).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
