//! The process's one store executor: the database work of every store of every SDK instance
//! runs on the SDK runtime's blocking pool ([`crate::runtime`]). Each store has a lane: its jobs
//! run one at a time, in the order they were queued (a job queued later sees every earlier one
//! done). A lane with queued jobs occupies one pool thread until it is empty; the pool keeps as
//! many threads as lanes are busy at once (idle ones end after a while), so a process with a
//! thousand instances does not keep a thousand store threads, and a store whose write waits on
//! the disk holds up only its own lane. No app thread, event listener or async worker ever
//! waits on disk.

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};

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
            let lane = self.clone();
            drop(crate::runtime::handle().spawn_blocking(move || lane.run()));
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

/// Locks `m`, also after a job panicked while holding it (what it guards stays usable: a
/// transaction in progress was rolled back as the panic unwound).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
