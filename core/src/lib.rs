//! oxim-core: the Oxim SDK engine, with V2TIM's model. It knows nothing of UniFFI; the
//! `oxim-ffi` crate converts its types to the records the UDL declares.
//!
//! Layout (one concern per module):
//! - [`manager`]: `V2TIMManager`, the facade apps call.
//! - [`client`]: one initialised instance: login state, push routing.
//! - [`link`]: the connection supervisor (reconnect with backoff and jitter, re-login).
//! - [`transport`]: one WebSocket: request/response correlation, heartbeat.
//! - [`session`]: a logged-in user's session; [`message`]: the message manager (send, media,
//!   history, revoke, receipts, deletion); [`sync`]: receiving exactly once, in order (seq
//!   cursors, gap filling, revoke notices and user-stream events); [`signaling`]: the signaling
//!   manager (invitations; callbacks derived from signaling messages).
//! - [`conversation`]: the conversation manager (the list, unread counts, drafts, pins).
//! - [`group`]: the group manager (groups, members, applications, attributes) and the group
//!   listener's events.
//! - [`store`]: the per-user SQLite store (one thread, migrations).
//! - [`media`]: file upload and download over HTTP (image, sound, video, file messages).
//! - [`events`]: the single event thread that calls listeners; [`listener`]: their traits.
//! - [`runtime`]: the SDK's own tokio runtime.

pub mod client;
pub mod clock;
pub mod conversation;
pub mod error;
pub mod events;
pub mod group;
pub mod link;
pub mod listener;
pub mod manager;
pub mod media;
pub mod message;
pub mod model;
pub mod publisher;
pub mod runtime;
pub mod session;
pub mod signaling;
pub mod store;
pub mod sync;
pub mod sync_state;
pub mod transport;

#[cfg(test)]
mod test_peer;

pub use conversation::ConversationManager;
pub use error::{Error, Result};
pub use group::GroupManager;
pub use listener::{
    AdvancedMsgListener, ConversationListener, GroupListener, SdkListener, SignalingListener, SimpleMsgListener,
};
pub use manager::Manager;
pub use message::MessageManager;
pub use model::config::*;
pub use model::message::*;
pub use signaling::SignalingManager;

/// The SDK version (`getVersion`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
