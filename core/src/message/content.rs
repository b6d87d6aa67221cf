//! What a message to send is made of, shared by the send path and the send queue: the content
//! checks, the progress callback, and the completion of content from the store.

use std::sync::Arc;

use oxim_proto::check::Side;

use crate::error::{Error, Result};
use crate::model::message::Elem;

/// Progress of a send, 0–100 (file upload; 100 when the server accepted the message).
pub type Progress = Arc<dyn Fn(u32) + Send + Sync>;

/// Checks content against V2TIM's rules (`oxim_proto::check`, the same checks the server runs):
/// sendable by apps, not empty, not a signaling payload, text/custom at most 12 KB, any element
/// at most 512 KiB serialised, at most 300 merged messages. The size limit is
/// reported as the SDK reports it (8001, `ERR_SDK_MSG_BODY_SIZE_LIMIT`).
pub fn check_content(elem: &Elem) -> Result<()> {
    oxim_proto::check::check_content(elem).map_err(|p| Error::new(p.code(Side::Sdk), p.to_string()))
}

/// Completes a message's content from the store before it is checked and sent (a merged
/// message's inner messages); runs in the job that queues the message.
pub type Complete = Box<dyn FnOnce(&rusqlite::Connection, Elem) -> Result<Elem> + Send>;
