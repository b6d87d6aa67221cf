//! What a message to send is made of, shared by the send path and the send queue: the content
//! checks, the progress callback, and the completion of content from the store.

use std::sync::Arc;

use oxim_proto::message::MAX_ELEM_BYTES;
use oxim_proto::payload::MAX_MSG_BODY_BYTES;

use crate::error::{Error, Result};
use crate::model::message::Elem;

/// Progress of a send, 0–100 (file upload; 100 when the server accepted the message).
pub type Progress = Arc<dyn Fn(u32) + Send + Sync>;

/// Checks content against V2TIM's rules: not empty, text/custom at most 12 KB, any element at
/// most [`MAX_ELEM_BYTES`] serialised.
pub fn check_content(elem: &Elem) -> Result<()> {
    if !elem.is_sendable() {
        return Err(Error::invalid("this element cannot be sent"));
    }
    if elem.is_empty() {
        return Err(Error::invalid("message content is empty"));
    }
    let too_big = |len: usize| {
        Error::new(
            oxim_proto::code::SDK_MSG_BODY_SIZE_LIMIT,
            format!("message body is {len} bytes; the limit is {MAX_MSG_BODY_BYTES}"),
        )
    };
    if elem.body_len() > MAX_MSG_BODY_BYTES {
        return Err(too_big(elem.body_len()));
    }
    let len = serde_json::to_vec(elem).map(|v| v.len()).unwrap_or(usize::MAX);
    if len > MAX_ELEM_BYTES {
        return Err(too_big(len));
    }
    Ok(())
}

/// Completes a message's content from the store before it is checked and sent (a merged
/// message's inner messages); runs in the job that queues the message.
pub type Complete = Box<dyn FnOnce(&rusqlite::Connection, Elem) -> Result<Elem> + Send>;
