//! History pages: local first, gaps filled from the server, never a duplicate or a skipped
//! message between pages.
//!
//! Every conversation this device tracks is complete locally from its *floor* up to its sync
//! cursor. A page is read from the store; when the store runs out before the page is full and
//! the floor is not the start of the conversation, the page below the floor is fetched from the
//! server, stored (as history: nothing is announced) and the floor lowered to what it covered.
//! Pages are ordered by (time, seq, msgID), which for server messages is seq order (the server
//! never lets time go back along a conversation).

use std::sync::Arc;

use oxim_proto::op;
use oxim_proto::payload::{HistoryReq, HistoryRes, PullReq, PullRes};

use crate::error::{Error, Result};
use crate::model::message::{ConvId, Message, WireMessage};
use crate::session::Session;
use crate::store::{self, Anchor};

/// Largest page (`count`) a history call may ask for.
pub const MAX_HISTORY_COUNT: u32 = 100;

/// Where a history call looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The store only.
    Local,
    /// The server only (what it returns is stored too).
    Cloud,
    /// The store, with gaps filled from the server.
    Auto,
}

/// The anchor for `last_msg`: its exact position from the store, or what the message says.
pub async fn anchor_of(session: &Session, last: &Message) -> Result<Anchor> {
    let (me, id) = (session.user_id.clone(), last.msg_id.clone());
    let stored = session.store.call(move |db| store::find_message(db, &me, &id)).await?;
    Ok(match stored {
        Some(m) => Anchor { time_ms: m.time_ms, seq: m.seq, msg_id: m.msg_id },
        None => Anchor { time_ms: last.time_ms, seq: last.seq, msg_id: last.msg_id.clone() },
    })
}

/// The anchor for a seq (`lastMsgSeq`): the stored message at that seq or the nearest one on
/// the far side of it; without one, an anchor only the server can place (seq, no time).
pub async fn anchor_at_seq(session: &Session, conv: &ConvId, seq: u64, older: bool) -> Result<Anchor> {
    let c = conv.clone();
    let near = session.store.call(move |db| store::anchor_near_seq(db, &c, seq, older)).await?;
    Ok(near.unwrap_or(Anchor { time_ms: 0, seq, msg_id: String::new() }))
}

/// A history page of `conv`: `count` messages older (newest first) or newer (oldest first)
/// than `anchor`.
pub async fn page(
    session: &Arc<Session>,
    conv: ConvId,
    count: u32,
    anchor: Option<Anchor>,
    older: bool,
    source: Source,
) -> Result<Vec<Message>> {
    if count == 0 || count > MAX_HISTORY_COUNT {
        return Err(Error::invalid(format!("count must be 1 to {MAX_HISTORY_COUNT}")));
    }
    match source {
        Source::Local => local_page(session, &conv, anchor.as_ref(), older, count).await,
        Source::Cloud => cloud_page(session, &conv, anchor.as_ref(), older, count).await,
        Source::Auto => auto_page(session, &conv, anchor, older, count).await,
    }
}

async fn local_page(
    session: &Session,
    conv: &ConvId,
    anchor: Option<&Anchor>,
    older: bool,
    count: u32,
) -> Result<Vec<Message>> {
    let (me, c, a) = (session.user_id.clone(), conv.clone(), anchor.cloned());
    session.store.call(move |db| store::history_page(db, &me, &c, a.as_ref(), older, count)).await
}

/// Stores server messages as history (nothing announced, no cursor move) and returns them as
/// the store has them (with local state such as revoked or local custom data).
async fn store_history(session: &Session, conv: &ConvId, msgs: Vec<WireMessage>) -> Result<Vec<Message>> {
    let (me, c) = (session.user_id.clone(), conv.clone());
    let ids: Vec<String> = msgs.iter().filter(|m| !m.elem.is_notice()).map(|m| m.msg_id.clone()).collect();
    let (effects, found) = session
        .store
        .call(move |db| {
            let effects = store::store_received(db, &me, &c, &msgs, None, i64::MAX)?.effects;
            Ok((effects, store::find_messages(db, &me, &ids)?))
        })
        .await?;
    let changes = crate::conversation::changes_of(&effects);
    if !changes.is_empty() {
        session.conversations.publish(&session.store, &session.events, &session.user_id, changes).await;
    }
    Ok(found)
}

async fn auto_page(
    session: &Arc<Session>,
    conv: &ConvId,
    anchor: Option<Anchor>,
    older: bool,
    count: u32,
) -> Result<Vec<Message>> {
    let c = conv.clone();
    let floor = session.store.call(move |db| store::floor_seq(db, &c)).await?;
    // Not tracked here, anchored below what is complete locally, or at a seq not stored here:
    // the server decides.
    let below_floor = anchor.as_ref().is_some_and(|a| (a.seq > 0 && a.seq < floor) || a.msg_id.is_empty());
    if floor == 0 || below_floor {
        // Fetch the page from the server into the store, then read it locally, so that messages
        // only this device has (unsent, imported) take their places in it.
        if session.link.current().is_some() {
            cloud_page(session, conv, anchor.as_ref(), older, count).await?;
        }
        return local_page(session, conv, anchor.as_ref(), older, count).await;
    }
    if !older {
        // Newer than an anchor at or above the floor: all of it is local.
        return local_page(session, conv, anchor.as_ref(), older, count).await;
    }
    loop {
        let page = local_page(session, conv, anchor.as_ref(), true, count).await?;
        let c = conv.clone();
        let floor = session.store.call(move |db| store::floor_seq(db, &c)).await?;
        if page.len() as u32 >= count || floor <= 1 || session.link.current().is_none() {
            return Ok(page);
        }
        // Fetch the messages just below the floor, then read the page again.
        let transport = session.link.current_or_err()?;
        let req = HistoryReq { conv_id: conv.clone(), before_seq: floor, limit: count };
        let res: HistoryRes = transport.request(op::MSG_HISTORY, &req).await?;
        store_history(session, conv, res.msgs).await?;
        let new_floor = if res.reached_start { 1 } else { res.covered_from };
        let c = conv.clone();
        session.store.call(move |db| store::lower_floor(db, &c, new_floor)).await?;
    }
}

async fn cloud_page(
    session: &Session,
    conv: &ConvId,
    anchor: Option<&Anchor>,
    older: bool,
    count: u32,
) -> Result<Vec<Message>> {
    let transport = session.link.current_or_err()?;
    if older {
        let before_seq = match anchor {
            Some(a) if a.seq > 0 => a.seq,
            Some(_) => {
                // An unsent or imported anchor: everything the server has is older.
                let c = conv.clone();
                session.store.call(move |db| store::synced_seq(db, &c)).await?.unwrap_or(0) + 1
            }
            None => 0,
        };
        let res: HistoryRes =
            transport.request(op::MSG_HISTORY, &HistoryReq { conv_id: conv.clone(), before_seq, limit: count }).await?;
        store_history(session, conv, res.msgs).await
    } else {
        let after_seq = anchor.map(|a| a.seq).unwrap_or(0);
        let req = PullReq { conv_id: conv.clone(), after_seq, up_to_seq: 0, limit: count };
        let res: PullRes = transport.request(op::MSG_PULL, &req).await?;
        store_history(session, conv, res.msgs).await
    }
}
