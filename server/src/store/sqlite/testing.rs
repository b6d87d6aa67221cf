//! Helpers for the store's tests.

use oxim_proto::message::Elem;
use oxim_proto::payload::WireMessage;

use super::SqliteStore;
use crate::domain::keys::c2c_target;
use crate::store::{Appended, MessageStore};

/// A text message from `from` to `to`.
pub(super) fn text(id: &str, from: &str, to: &str) -> WireMessage {
    let mut m = WireMessage::new(id, Elem::Text { text: format!("text of {id}") });
    m.sender = from.into();
    m.receiver = to.into();
    m
}

/// Stores a text message from `from` to `to`.
pub(super) async fn send(store: &SqliteStore, id: &str, from: &str, to: &str) -> Appended {
    store.append(c2c_target(from, to), text(id, from, to)).await.unwrap()
}
