//! Applying what the server delivered: messages, revoke notices and user-stream events are
//! stored (deduplicated by msgID) and their effects applied in one transaction with the cursor
//! move. The returned [`Effect`]s are what the app is then told, in order; the deliveries
//! that make callbacks are recorded in the same transaction as not yet told
//! ([`super::announce`]), so a restart between storing and telling tells them then.

use rusqlite::{Connection, params};

use super::conversations::{self, Field};
use super::cursor::{set_synced_seq, start_conversation};
use super::messages::{clear_messages, delete_messages, mark_revoked};
use super::read::{advance_peer_read, advance_read};
use super::signaling::record_invitation;
use crate::error::Result;
use crate::model::conversation::ConvChange;
use crate::model::friendship::FriendshipEvent;
use crate::model::group::{GroupEvent, GroupTips, from_tips, from_user_event, info_change};
use crate::model::message::{
    ConvId, Elem, ElemType, Message, MessageReceipt, MessageStatus, SignalingInfo, WireMessage,
};
use crate::model::profile::UserFullInfo;
use oxim_proto::message::UserEvent;
use oxim_proto::signaling::signaling_of;

/// Something the app must hear about after a delivery was stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A message new to this device (and newer than the device).
    NewMessage(Box<Message>),
    /// A message this device has was revoked by its sender.
    Revoked(String),
    /// The peer read my C2C messages.
    Receipt(MessageReceipt),
    /// My read position of a conversation moved (read on another device).
    ReadChanged(ConvId),
    /// Messages of a conversation were deleted or cleared (on another device).
    MessagesRemoved(ConvId),
    /// A group listener callback (from a group tip or one of the user's group events).
    Group(GroupEvent),
    /// The user's profile changed (`onSelfInfoUpdated`).
    SelfInfo(Box<UserFullInfo>),
    /// A relationship change (a `V2TIMFriendshipListener` callback).
    Friendship(FriendshipEvent),
    /// A conversation of the list changed (or entered it).
    Conversation(ConvId, ConvChange),
    /// A signaling message new to this device (after its [`Effect::NewMessage`]); which
    /// `V2TIMSignalingListener` callback it makes, if any, is decided by the sync actor.
    Signal {
        /// The action.
        info: Box<SignalingInfo>,
        /// Who acted (the message's sender).
        from: String,
    },
}

/// What storing a delivery came to.
#[derive(Debug, Default)]
pub struct Stored {
    /// What the app must hear of, in order.
    pub effects: Vec<Effect>,
    /// The last position recorded in the not-yet-told announcements (`None`: nothing to tell
    /// but conversation changes and signaling): once the app heard the effects, everything up
    /// to here is told ([`super::announce::told_up_to`]).
    pub announced: Option<i64>,
}

impl Effect {
    /// Whether the effect makes a listener callback by itself (conversation changes and
    /// signaling actions are decided elsewhere; read moves and removals make none).
    pub fn is_told(&self) -> bool {
        matches!(self, Effect::NewMessage(_) | Effect::Revoked(_) | Effect::Receipt(_) | Effect::Group(_))
    }
}

/// The effects a stored delivery makes when it is told again after a restart (it was stored
/// and recorded as not yet told): the message as stored now, a revoke, a receipt, a group
/// callback. Signaling callbacks are not told again (an invitation that old has timed out).
pub fn replay_effects(me: &str, wire: &WireMessage, status: MessageStatus) -> Vec<Effect> {
    match &wire.elem {
        Elem::Revoke { msg_id } => vec![Effect::Revoked(msg_id.clone())],
        Elem::Event { event: UserEvent::PeerRead { conv_id, seq, time_ms } } => {
            vec![Effect::Receipt(MessageReceipt {
                user_id: conv_id.target().to_owned(),
                timestamp: time_ms / 1000,
                seq: *seq,
            })]
        }
        Elem::Event { event } => from_user_event(event).map(Effect::Group).into_iter().collect(),
        elem => {
            let mut effects = vec![Effect::NewMessage(Box::new(Message::from_wire(wire, me, status)))];
            if let Elem::GroupTips { tips } = elem
                && let Some(event) = from_tips(&wire.group_id, tips)
            {
                effects.push(Effect::Group(event));
            }
            effects
        }
    }
}

/// Stores `msgs` of `conv` and applies them. With `range = Some((after, cursor))` this is a
/// delivery in seq order: the conversation is tracked from `after` and its cursor moves to
/// `cursor`. With `None` it is history: nothing about the cursor changes.
///
/// Messages are announced only if they are new to the store and the server accepted them at or
/// after `news_since_ms` (older ones are history this device roamed). A message that is our own
/// outgoing copy (same msgID, still SENDING or FAILED) becomes sent instead.
pub fn store_received(
    conn: &mut Connection,
    me: &str,
    conv: &ConvId,
    msgs: &[WireMessage],
    range: Option<(u64, u64)>,
    news_since_ms: i64,
) -> Result<Stored> {
    let tx = conn.transaction()?;
    let mut effects = Vec::new();
    let mut announced = None;
    // Conversations whose list entry may have changed.
    let mut touched: Vec<ConvId> = vec![conv.clone()];
    conversations::ensure_row(&tx, conv)?;
    {
        let conv_text = conv.to_string();
        let mut insert = tx.prepare_cached(
            "INSERT INTO message (msg_id, conv_id, seq, sender, time_ms, status, is_self, elem_type, wire, notice, at_flags)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (msg_id) DO NOTHING",
        )?;
        let mut settle = tx.prepare_cached(
            "UPDATE message SET seq = ?2, time_ms = ?3, status = ?4, wire = ?5, error_code = 0, error_desc = ''
             WHERE msg_id = ?1 AND status IN (1, 3)",
        )?;
        for wire in msgs {
            let told_before = effects.len();
            let news = wire.time_ms >= news_since_ms;
            let status = if wire.revoked { MessageStatus::LocalRevoked } else { MessageStatus::SendSucc };
            let json = serde_json::to_string(wire).expect("message serialisation");
            let inserted = insert.execute(params![
                wire.msg_id,
                conv_text,
                wire.seq as i64,
                wire.sender,
                wire.time_ms,
                status as i32,
                wire.sender == me,
                ElemType::of(&wire.elem) as i32,
                json,
                wire.elem.is_notice(),
                conversations::at_flags(&wire.at_users, me),
            ])? == 1;
            if inserted && !wire.elem.is_notice() {
                conversations::mark_listed(&tx, conv)?;
            }
            match &wire.elem {
                Elem::Revoke { msg_id } => {
                    if inserted && !message_exists(&tx, msg_id)? {
                        // The revoked message lies in the part this device did not download.
                        conversations::invalidate_gap(&tx, conv)?;
                    }
                    if inserted && mark_revoked(&tx, msg_id)? && news {
                        effects.push(Effect::Revoked(msg_id.clone()));
                    }
                }
                Elem::Event { event } => {
                    if inserted {
                        apply_event(&tx, event, news, &mut effects, &mut touched)?;
                    }
                }
                _ if inserted => {
                    if let Elem::GroupTips { tips } = &wire.elem {
                        apply_group_profile(&tx, conv, tips)?;
                    }
                    // A message revoked before this device saw it is history, not news.
                    if news && !wire.revoked {
                        effects.push(Effect::NewMessage(Box::new(Message::from_wire(wire, me, status))));
                        if let Elem::GroupTips { tips } = &wire.elem
                            && let Some(event) = from_tips(&wire.group_id, tips)
                        {
                            effects.push(Effect::Group(event));
                        }
                    }
                    if let Some(info) = signaling_of(wire) {
                        record_invitation(&tx, &info)?;
                        if news {
                            effects.push(Effect::Signal { info: Box::new(info), from: wire.sender.clone() });
                        }
                    }
                }
                _ => {
                    if settle.execute(params![wire.msg_id, wire.seq as i64, wire.time_ms, status as i32, json])? > 0 {
                        super::send_queue::dequeue(&tx, &wire.msg_id)?;
                    }
                }
            }
            if effects[told_before..].iter().any(Effect::is_told) {
                announced = Some(record_announcement(&tx, &wire.msg_id)?);
            }
        }
    }
    if let Some((after, cursor)) = range {
        start_conversation(&tx, conv, after)?;
        set_synced_seq(&tx, conv, cursor)?;
    }
    for c in touched {
        if let Some(change) = conversations::refresh(&tx, &c)? {
            effects.push(Effect::Conversation(c, change));
        }
    }
    tx.commit()?;
    Ok(Stored { effects, announced })
}

fn message_exists(tx: &Connection, msg_id: &str) -> Result<bool> {
    Ok(tx.prepare_cached("SELECT 1 FROM message WHERE msg_id = ?1")?.exists([msg_id])?)
}

/// A group's name or avatar changed: its conversation shows the new one.
fn apply_group_profile(tx: &Connection, conv: &ConvId, tips: &GroupTips) -> Result<()> {
    for change in &tips.group_changes {
        match change.kind {
            info_change::NAME => conversations::set_field(tx, conv, Field::ShowName, &change.value)?,
            info_change::FACE => conversations::set_field(tx, conv, Field::FaceUrl, &change.value)?,
            _ => {}
        }
    }
    Ok(())
}

fn apply_event(
    tx: &Connection,
    event: &UserEvent,
    news: bool,
    effects: &mut Vec<Effect>,
    touched: &mut Vec<ConvId>,
) -> Result<()> {
    match event {
        UserEvent::Read { conv_id, .. }
        | UserEvent::Deleted { conv_id, .. }
        | UserEvent::Cleared { conv_id, .. }
        | UserEvent::ConvDeleted { conv_id, .. }
        | UserEvent::ConvPinned { conv_id, .. }
        | UserEvent::ConvRecvOpt { conv_id, .. } => {
            conversations::ensure_row(tx, conv_id)?;
            touched.push(conv_id.clone());
        }
        _ => {}
    }
    match event {
        UserEvent::Read { conv_id, seq } => {
            if advance_read(tx, conv_id, *seq)? {
                effects.push(Effect::ReadChanged(conv_id.clone()));
            }
        }
        UserEvent::PeerRead { conv_id, seq, time_ms } => {
            if advance_peer_read(tx, conv_id, *seq, *time_ms)? && news {
                effects.push(Effect::Receipt(MessageReceipt {
                    user_id: conv_id.target().to_owned(),
                    timestamp: time_ms / 1000,
                    seq: *seq,
                }));
            }
        }
        UserEvent::Deleted { conv_id, msg_ids } => {
            let removed = delete_messages(tx, conv_id, msg_ids)?;
            if removed < msg_ids.len() || conversations::in_gap(tx, conv_id)? {
                // Some lie in the part this device did not download: count it again.
                conversations::invalidate_gap(tx, conv_id)?;
            }
            if removed > 0 {
                effects.push(Effect::MessagesRemoved(conv_id.clone()));
            }
        }
        UserEvent::Cleared { conv_id, seq } => {
            let removed = clear_messages(tx, conv_id, Some(*seq))?;
            let read = advance_read(tx, conv_id, *seq)?;
            if removed > 0 || read {
                effects.push(Effect::MessagesRemoved(conv_id.clone()));
            }
        }
        UserEvent::ConvDeleted { conv_id, seq } => {
            clear_messages(tx, conv_id, Some(*seq))?;
            advance_read(tx, conv_id, *seq)?;
            // A message newer than the deletion (it may arrive first) keeps it in the list.
            if !conversations::has_messages_after(tx, conv_id, *seq)? {
                conversations::unlist(tx, conv_id)?;
            }
            effects.push(Effect::MessagesRemoved(conv_id.clone()));
        }
        UserEvent::ConvPinned { conv_id, pinned } => conversations::set_field(tx, conv_id, Field::Pinned, pinned)?,
        UserEvent::ConvRecvOpt { conv_id, opt } => conversations::set_field(tx, conv_id, Field::RecvOpt, opt)?,
        UserEvent::SelfInfoUpdated { profile } => {
            if news {
                effects.push(Effect::SelfInfo(Box::new(profile.clone().into())));
            }
        }
        other => {
            if !news {
            } else if let Some(event) = FriendshipEvent::from_user_event(other) {
                effects.push(Effect::Friendship(event));
            } else if let Some(event) = from_user_event(other) {
                effects.push(Effect::Group(event));
            }
        }
    }
    Ok(())
}

/// Records that the delivery `msg_id` (just stored) is to be told (the `announce` table, read by the next session if nobody acknowledges it); returns its position.
fn record_announcement(conn: &Connection, msg_id: &str) -> Result<i64> {
    conn.prepare_cached("INSERT INTO announce (msg_id) VALUES (?1)")?.execute([msg_id])?;
    Ok(conn.last_insert_rowid())
}
