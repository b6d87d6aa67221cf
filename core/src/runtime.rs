//! The SDK's own tokio runtime, shared by every SDK instance in the process.
//!
//! Public async methods run their work here ([`run`]), so the caller's executor (Kotlin
//! coroutines, Swift tasks, Python asyncio, another tokio runtime) only waits for the result and
//! never needs a Rust runtime of its own.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::{Error, Result};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The shared runtime (two worker threads: an IM client is I/O bound).
pub fn handle() -> &'static Handle {
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("oxim-rt")
                .enable_all()
                .build()
                .expect("the SDK runtime")
        })
        .handle()
}

/// Runs `fut` on the SDK runtime and waits for it from any executor.
pub async fn run<T: Send + 'static>(fut: impl Future<Output = Result<T>> + Send + 'static) -> Result<T> {
    match handle().spawn(fut).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(Error::new(oxim_proto::code::SDK_INTERNAL_ERROR, "internal SDK error")),
        Err(_) => Err(Error::new(oxim_proto::code::SDK_COMM_INTERRUPT, "the operation was interrupted")),
    }
}

/// Spawns a background task on the SDK runtime.
pub fn spawn<F: Future<Output = ()> + Send + 'static>(fut: F) -> tokio::task::JoinHandle<()> {
    handle().spawn(fut)
}
