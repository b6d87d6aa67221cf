//! `V2TIMConversationManager`: the conversation list with unread counts, drafts, pins and
//! receive options, and the conversation listener's events.
//!
//! The list lives in the local store (`store::conversations`), recomputed whenever messages,
//! read positions or settings change; pins, deletions and receive options go through the
//! server, which tells the user's other devices. Reads never touch the network.

use std::future::Future;
use std::sync::Arc;

use oxim_proto::op;
use oxim_proto::payload::{C2CRecvOptGetReq, C2CRecvOptReq, C2CRecvOptRes, ConvReq, MAX_RECV_OPT_USERS, PinReq};

use crate::error::{Error, Result};

use crate::model::message::ConvId;
use crate::runtime;
use crate::session::{Session, SessionSource};
use crate::store;
use crate::store::conversations::{self as rows, MAX_PAGE};

pub use crate::model::conversation::{ConvChange, Conversation, ConversationResult, GroupAtInfo, RecvOptInfo, at_type};

fn parse_conv(id: &str) -> Result<ConvId> {
    match ConvId::parse(id) {
        Some(c @ (ConvId::C2C(_) | ConvId::Group(_))) => Ok(c),
        _ => Err(Error::new(
            oxim_proto::code::INVALID_CONVERSATION,
            format!("{id:?} is not a conversation id (c2c_<userID> or group_<groupID>)"),
        )),
    }
}

/// The conversation changes among stored effects.
pub(crate) fn changes_of(effects: &[crate::store::Effect]) -> Vec<(ConvId, ConvChange)> {
    effects
        .iter()
        .filter_map(|e| match e {
            crate::store::Effect::Conversation(c, change) => Some((c.clone(), *change)),
            _ => None,
        })
        .collect()
}

/// Runs `f` on the store, then refreshes `conv` and publishes what changed, in one store job
/// (queued by this call). The caller has its answer once the change is committed; the
/// announcement follows on the store thread (a send's drain reads its queue after it, so it
/// must be short).
pub(crate) fn local_change<R: Send + 'static>(
    session: &Arc<Session>,
    conv: ConvId,
    f: impl FnOnce(&rusqlite::Connection) -> Result<R> + Send + 'static,
) -> impl Future<Output = Result<R>> + Send + 'static {
    let (publisher, events, me) = (session.conversations.clone(), session.events.clone(), session.user_id.clone());
    session.store.call_then(
        move |db| {
            let tx = db.transaction()?;
            rows::ensure_row(&tx, &conv)?;
            let answer = f(&tx)?;
            let change = rows::refresh(&tx, &conv)?;
            if change.is_some() {
                // Told right after this commit, in this same store job: marked in it.
                rows::mark_announced(&tx, std::slice::from_ref(&conv))?;
            }
            tx.commit()?;
            Ok((answer, change.map(|c| (conv, c))))
        },
        move |db, change| {
            if let Some(change) = change
                && let Err(e) = publisher.publish_marked_in(db, &events, &me, vec![change])
            {
                tracing::info!("announcing a conversation change failed: {e}");
            }
        },
    )
}

/// `V2TIMConversationManager`.
#[derive(Clone)]
pub struct ConversationManager {
    sessions: Arc<dyn SessionSource>,
}

impl ConversationManager {
    /// The conversation manager of the instance whose sessions `sessions` finds.
    pub fn new(sessions: Arc<dyn SessionSource>) -> ConversationManager {
        ConversationManager { sessions }
    }

    /// `getConversationList(nextSeq, count)`: a page of the local list (`next_seq` 0 = first
    /// page; at most 100 per page).
    pub async fn conversation_list(&self, next_seq: u64, count: u32) -> Result<ConversationResult> {
        if count == 0 || count > MAX_PAGE {
            return Err(Error::invalid(format!("count must be 1 to {MAX_PAGE}")));
        }
        let session = self.sessions.session()?;
        let me = session.user_id.clone();
        runtime::run(async move {
            let (list, next, finished) =
                session.store.call(move |db| rows::list_page(db, &me, next_seq, count)).await?;
            Ok(ConversationResult { next_seq: next, is_finished: finished, conversation_list: list })
        })
        .await
    }

    /// `getConversation(conversationID)`: 6004 if there is no such conversation in the list.
    pub async fn conversation(&self, conversation_id: String) -> Result<Conversation> {
        let conv = parse_conv(&conversation_id)?;
        let mut found = self.by_ids(vec![conv]).await?;
        found.pop().ok_or_else(|| {
            Error::new(oxim_proto::code::INVALID_CONVERSATION, format!("no conversation {conversation_id}"))
        })
    }

    /// `getConversationListByConversationIds`: the listed ones among `ids` (at most 100).
    pub async fn conversation_list_by_ids(&self, ids: Vec<String>) -> Result<Vec<Conversation>> {
        if ids.is_empty() || ids.len() > MAX_PAGE as usize {
            return Err(Error::invalid(format!("ask for 1 to {MAX_PAGE} conversations")));
        }
        let convs = ids.iter().map(|id| parse_conv(id)).collect::<Result<Vec<_>>>()?;
        self.by_ids(convs).await
    }

    async fn by_ids(&self, convs: Vec<ConvId>) -> Result<Vec<Conversation>> {
        let session = self.sessions.session()?;
        let me = session.user_id.clone();
        runtime::run(async move { session.store.call(move |db| rows::by_ids(db, &me, &convs)).await }).await
    }

    /// `getTotalUnreadMessageCount`: the sum over listed conversations that notify (receive
    /// option 0; V2TIM leaves muted conversations out).
    pub async fn total_unread_message_count(&self) -> Result<u64> {
        let session = self.sessions.session()?;
        runtime::run(async move { session.store.call(|db| rows::total_unread(db)).await }).await
    }

    /// `deleteConversation`: removes the conversation and its messages here and on the server
    /// (the user's other devices follow); it comes back with the next message.
    pub async fn delete_conversation(&self, conversation_id: String) -> Result<()> {
        let conv = parse_conv(&conversation_id)?;
        let session = self.sessions.session()?;
        runtime::run(async move {
            let transport = session.link.current_or_err()?;
            let _: serde_json::Value = transport.request(op::CONV_DELETE, &ConvReq { conv_id: conv.clone() }).await?;
            local_change(&session, conv.clone(), move |db| {
                store::clear_messages(db, &conv, None)?;
                let max: i64 = db
                    .prepare_cached("SELECT max(0, synced_seq) FROM conversation WHERE conv_id = ?1")?
                    .query_row([conv.to_string()], |r| r.get(0))?;
                store::advance_read(db, &conv, max as u64)?;
                rows::unlist(db, &conv)
            })
            .await?;
            // The list lost an entry: the total may have moved.
            session.conversations.publish(&session.store, &session.events, &session.user_id, Vec::new()).await;
            Ok(())
        })
        .await
    }

    /// `setConversationDraft`: a local text draft (empty or `None` removes it); the draft time
    /// orders the list like a message would.
    pub async fn set_conversation_draft(&self, conversation_id: String, draft_text: Option<String>) -> Result<()> {
        let conv = parse_conv(&conversation_id)?;
        let session = self.sessions.session()?;
        let text = draft_text.unwrap_or_default();
        runtime::run(async move {
            let now = crate::clock::unix_ms();
            local_change(&session, conv.clone(), move |db| {
                if !rows::is_listed(db, &conv)? && !text.is_empty() {
                    rows::mark_listed(db, &conv)?;
                }
                rows::set_draft(db, &conv, &text, now)
            })
            .await
        })
        .await
    }

    /// `pinConversation`: pinned conversations come first; synced to the user's devices.
    pub async fn pin_conversation(&self, conversation_id: String, is_pinned: bool) -> Result<()> {
        let conv = parse_conv(&conversation_id)?;
        let session = self.sessions.session()?;
        runtime::run(async move {
            let listed = {
                let c = conv.clone();
                session.store.call(move |db| rows::is_listed(db, &c)).await?
            };
            if !listed {
                return Err(Error::new(oxim_proto::code::INVALID_CONVERSATION, format!("no conversation {conv}")));
            }
            let transport = session.link.current_or_err()?;
            let _: serde_json::Value =
                transport.request(op::CONV_PIN, &PinReq { conv_id: conv.clone(), pinned: is_pinned }).await?;
            local_change(&session, conv.clone(), move |db| rows::set_field(db, &conv, rows::Field::Pinned, &is_pinned))
                .await
        })
        .await
    }

    /// `setC2CReceiveMessageOpt`: for up to 30 peers; 1 receives nothing from them, 2 receives
    /// without offline push.
    pub async fn set_c2c_receive_message_opt(&self, user_ids: Vec<String>, opt: i32) -> Result<()> {
        if user_ids.is_empty() || user_ids.len() > MAX_RECV_OPT_USERS {
            return Err(Error::invalid(format!("name 1 to {MAX_RECV_OPT_USERS} users")));
        }
        if !(0..=2).contains(&opt) {
            return Err(Error::invalid("the receive option must be 0, 1 or 2"));
        }
        let session = self.sessions.session()?;
        runtime::run(async move {
            let transport = session.link.current_or_err()?;
            let req = C2CRecvOptReq { user_ids: user_ids.clone(), opt };
            let _: serde_json::Value = transport.request(op::CONV_C2C_RECV_OPT_SET, &req).await?;
            for user in user_ids {
                let conv = ConvId::C2C(user);
                let key = conv.clone();
                local_change(&session, conv, move |db| rows::set_field(db, &key, rows::Field::RecvOpt, &opt)).await?;
            }
            Ok(())
        })
        .await
    }

    /// `getC2CReceiveMessageOpt`: the options set for up to 30 peers.
    pub async fn c2c_receive_message_opt(&self, user_ids: Vec<String>) -> Result<Vec<RecvOptInfo>> {
        if user_ids.is_empty() || user_ids.len() > MAX_RECV_OPT_USERS {
            return Err(Error::invalid(format!("name 1 to {MAX_RECV_OPT_USERS} users")));
        }
        let session = self.sessions.session()?;
        runtime::run(async move {
            let transport = session.link.current_or_err()?;
            let res: C2CRecvOptRes =
                transport.request(op::CONV_C2C_RECV_OPT_GET, &C2CRecvOptGetReq { user_ids }).await?;
            Ok(res.opts.into_iter().map(Into::into).collect())
        })
        .await
    }
}
