//! Server storage.
//!
//! The server talks to storage only through [`Store`]; [`sqlite::SqliteStore`] is the embedded
//! default (one SQLite file in WAL mode, one writer thread that batches writes into
//! transactions, a small pool of readers). A PostgreSQL store can implement the same trait.

pub mod sqlite;

use async_trait::async_trait;
use oxim_proto::ids::ConvId;
use oxim_proto::payload::{ConvState, WireMessage};

/// A storage failure. The request that hit it fails with a server error code; nothing is
/// half-written because every write is one transaction.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A stored value could not be decoded.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The store is shutting down.
    #[error("store closed")]
    Closed,
    /// The message id is already used by another sender's message.
    #[error("message id {0} belongs to another sender")]
    MsgIdTaken(String),
}

/// Result of storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// A write that is already queued; awaiting it gives its outcome.
pub type Queued<T> = std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<T>> + Send>>;

/// Result of appending a message.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The message as stored (seq and time filled in).
    pub msg: WireMessage,
    /// The message id was already stored: this is the original, nothing new was written.
    pub duplicate: bool,
}

/// What the server needs from storage.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Records that `user_id` exists (called on every login; cheap when it already does).
    async fn register_user(&self, user_id: &str) -> StoreResult<()>;

    /// Whether `user_id` has ever logged in.
    async fn user_exists(&self, user_id: &str) -> StoreResult<bool>;

    /// Stores a C2C message from `msg.sender` to `msg.receiver`: deduplicates on `msg_id`,
    /// assigns the next seq of the conversation and the server time.
    ///
    /// The write is queued by this call, not when the future is first polled, so one
    /// connection's messages are stored in the order it sent them even when it does not wait for
    /// each result before reading its next request.
    fn append_c2c(&self, msg: WireMessage) -> Queued<Appended>;

    /// The conversations of `user_id` that changed after `since`, ascending by version.
    async fn changed_conversations(&self, user_id: &str, since: u64, limit: u32) -> StoreResult<Vec<ConvState>>;

    /// Messages of `user_id`'s conversation `conv` with `after < seq <= up_to` (`up_to` 0 = no
    /// bound), ascending, at most `limit`; and the conversation's highest seq.
    async fn messages_after(
        &self,
        user_id: &str,
        conv: &ConvId,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> StoreResult<(Vec<WireMessage>, u64)>;

    /// Finishes pending writes and closes the database.
    async fn close(&self);
}
