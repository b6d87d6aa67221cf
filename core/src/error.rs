//! The SDK's one error type: a V2TIM error code and a description.

use oxim_proto::code;

/// A failed call: `code` is V2TIM's numeric error code (see `oxim_proto::code` and
/// `docs/compat.md`), `desc` says what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {desc}")]
pub struct Error {
    /// V2TIM error code.
    pub code: i32,
    /// Description.
    pub desc: String,
}

impl Error {
    /// An error with `code` and `desc`.
    pub fn new(code: i32, desc: impl Into<String>) -> Error {
        Error { code, desc: desc.into() }
    }

    /// 6017: invalid parameter.
    pub fn invalid(desc: impl Into<String>) -> Error {
        Error::new(code::INVALID_PARAMETERS, desc)
    }

    /// 6014: the call needs a logged-in user.
    pub fn not_logged_in() -> Error {
        Error::new(code::SDK_NOT_LOGGED_IN, "not logged in")
    }

    /// 6013: the call needs `initSDK` first.
    pub fn not_initialized() -> Error {
        Error::new(code::SDK_NOT_INITIALIZED, "initSDK has not been called")
    }

    /// 9508: no connection to the server.
    pub fn disconnected(desc: impl Into<String>) -> Error {
        Error::new(code::SDK_NET_DISCONNECT, desc)
    }

    /// 6019: the local database failed.
    pub fn db(e: impl std::fmt::Display) -> Error {
        Error::new(code::DB_OPERATION_FAILED, format!("local database: {e}"))
    }

    /// Whether retrying the same request on a new connection may succeed (the request never got
    /// an answer from the server).
    pub fn is_network(&self) -> bool {
        matches!(self.code, code::SDK_NET_DISCONNECT | code::SDK_NET_WAIT_ACK_TIMEOUT | code::SDK_NET_CONN_TIMEOUT)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::db(e)
    }
}

/// Result of SDK calls.
pub type Result<T> = std::result::Result<T, Error>;

/// V2TIM's error codes (re-exported from the protocol crate for the bindings).
pub use oxim_proto::code as codes;
