//! oxim-core: the Oxim SDK engine, with V2TIM's model. It knows nothing of UniFFI; the
//! `oxim-ffi` crate converts its types to the records the UDL declares.
//!
//! Levels, bottom up (`core/levels.toml`; a module imports only from its own level or below):
//! - model: [`model`] (the SDK's own types), [`error`], [`listener`] (the listener traits),
//!   [`clock`], [`runtime`] (the SDK's own tokio runtime).
//! - store: [`store`], the per-user SQLite store (one thread per process, migrations).
//! - sync state: [`sync_state`], the sync rules as pure functions.
//! - network: [`transport`] (one WebSocket: request/response correlation, heartbeat),
//!   [`link`] (the connection supervisor, driving a [`link::LinkOwner`]), [`media`] (file upload
//!   and download over HTTP), [`tls`] (the TLS client configuration both use).
//! - session: [`session`] (a logged-in user's session, reconnect hooks, feature state),
//!   [`sync`] (the sync actor: receiving exactly once, in order), [`events`] (the one event
//!   thread that calls every instance's listeners), [`publisher`] (conversation-list events).
//! - features: [`message`], [`conversation`], [`group`], [`signaling`]: the V2TIM managers,
//!   which find the session through a [`session::SessionSource`]; [`profile`]: profiles;
//!   [`friendship`]: friends, applications, the blacklist, friend groups; [`offline_push`]: the
//!   device's push registration and app state.
//! - facade: [`client`] (one initialised instance: login state, push routing) and [`manager`]
//!   (`V2TIMManager`, the facade apps call).

pub mod client;
pub mod clock;
pub mod conversation;
pub mod error;
pub mod events;
pub mod friendship;
pub mod group;
pub mod link;
pub mod listener;
pub mod manager;
pub mod media;
pub mod message;
pub mod model;
pub mod offline_push;
pub mod profile;
pub mod publisher;
pub mod runtime;
pub mod session;
pub mod signaling;
pub mod store;
pub mod sync;
pub mod sync_state;
pub mod tls;
pub mod transport;

#[cfg(test)]
mod test_peer;

pub use conversation::ConversationManager;
pub use error::{Error, Result};
pub use friendship::FriendshipManager;
pub use group::GroupManager;
pub use listener::{
    AdvancedMsgListener, ConversationListener, FriendshipListener, GroupListener, SdkListener, SignalingListener,
    SimpleMsgListener,
};
pub use manager::Manager;
pub use message::MessageManager;
pub use model::config::*;
pub use model::message::*;
pub use model::profile::{UserFullInfo, UserInfoChange};
pub use offline_push::{OfflinePushConfig, OfflinePushManager};
pub use signaling::SignalingManager;

/// The SDK version (`getVersion`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
