//! The SDK's model: the types its API takes and returns and its listeners receive, with
//! V2TIM's names and numeric values. The bottom level: it imports nothing else of the crate.
//!
//! Its types are the SDK's own. The protocol's *content* types (what a message carries:
//! [`Elem`](message::Elem) and its parts, signaling payloads, conversation ids) are shared with
//! the server on purpose and re-exported; request and response payloads never are (the group
//! records convert from and to them in [`group`]).

pub mod config;
pub mod conversation;
pub mod event;
pub mod friendship;
pub mod group;
pub mod message;
pub mod profile;
