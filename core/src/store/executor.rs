//! The process's one store executor: a thread that runs the database work of every store of
//! every SDK instance, one job at a time, in the order the jobs were queued. So a store's jobs
//! run in order (a job queued later sees every earlier one done), and no app thread, event
//! listener or async worker ever waits on disk.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread::ThreadId;

/// A unit of database work.
pub(super) type Task = Box<dyn FnOnce() + Send>;

struct Executor {
    tasks: mpsc::Sender<Task>,
    id: ThreadId,
}

static EXECUTOR: OnceLock<Executor> = OnceLock::new();

fn executor() -> &'static Executor {
    EXECUTOR.get_or_init(|| {
        let (tasks, rx) = mpsc::channel::<Task>();
        let thread = std::thread::Builder::new()
            .name("oxim-store".into())
            .spawn(move || {
                while let Ok(task) = rx.recv() {
                    // One store's failure must not stop the thread every store shares.
                    if catch_unwind(AssertUnwindSafe(task)).is_err() {
                        tracing::error!("a store job panicked; its caller gets an error");
                    }
                }
            })
            .expect("spawn the store thread");
        Executor { tasks, id: thread.thread().id() }
    })
}

/// Queues `task` behind every task queued before it.
pub(super) fn submit(task: Task) {
    // The receiver lives as long as the process: sending cannot fail.
    let _ = executor().tasks.send(task);
}

/// Whether the caller is the executor thread (which must never wait for itself).
pub(super) fn on_executor() -> bool {
    EXECUTOR.get().is_some_and(|e| e.id == std::thread::current().id())
}
