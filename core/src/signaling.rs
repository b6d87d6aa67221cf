//! `V2TIMSignalingManager`: invitations (calls, "raise your hand") on top of messages.
//!
//! The server owns every invitation: its state (who accepted, rejected, timed out; cancelled or
//! ended) and its deadline, so a timeout happens even when the inviter's app is gone. Each
//! action is a message the server appends to the conversation (the C2C conversation of inviter
//! and invitee, or the group's), carrying V2TIM's signaling payload as a custom element: it is
//! delivered, synced and kept in history like any message, and the sync actor turns it into
//! `V2TIMSignalingListener` callbacks ([`crate::sync`]). Online-only invitations are pushed and
//! never stored. The acting device stores the messages its action appended as its own (they
//! come back in the answer) and hears no callback for them.
//!
//! Requests carry ids made here (the invitation id, an action id per call) and are retried with
//! the same ids through reconnects until `send_timeout`, so an action happens once.

use std::sync::Arc;
use std::time::Instant;

use oxim_proto::ids::is_valid_user_id;
use oxim_proto::op;
use oxim_proto::payload::MAX_MSG_BODY_BYTES;
use oxim_proto::signaling::{InviteReq, MAX_INVITEES, SignalGetReq, SignalReq, SignalRes, is_valid_invite_id};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::events::{ListenerId, Listeners};
use crate::listener::SignalingListener;
use crate::message::new_msg_id;
use crate::model::message::{Message, OfflinePushInfo, SignalingAction, SignalingInfo};
use crate::runtime;
use crate::session::{Session, SessionSource};
use crate::store;
use crate::sync::SyncCmd;

/// The signaling manager of one SDK instance (`V2TIMManager.getSignalingManager()`).
#[derive(Clone)]
pub struct SignalingManager {
    sessions: Arc<dyn SessionSource>,
    listeners: Arc<Listeners>,
}

fn check_data(data: &str) -> Result<()> {
    if data.len() > MAX_MSG_BODY_BYTES {
        return Err(Error::new(
            oxim_proto::code::SDK_MSG_BODY_SIZE_LIMIT,
            format!("data is {} bytes; the limit is {MAX_MSG_BODY_BYTES}", data.len()),
        ));
    }
    Ok(())
}

fn check_timeout(timeout: i32) -> Result<u32> {
    u32::try_from(timeout).map_err(|_| Error::invalid("timeout must be 0 (never) or a number of seconds"))
}

fn check_invite_id(invite_id: &str) -> Result<()> {
    if !is_valid_invite_id(invite_id) {
        return Err(Error::invalid("inviteID is empty or malformed"));
    }
    Ok(())
}

impl SignalingManager {
    /// The signaling manager of the instance whose sessions `sessions` finds and whose
    /// listeners are `listeners`.
    pub fn new(sessions: Arc<dyn SessionSource>, listeners: Arc<Listeners>) -> SignalingManager {
        SignalingManager { sessions, listeners }
    }

    /// A new invitation id, for [`SignalingManager::invite_with_id`] (V2TIM's callback forms
    /// return the id before the invitation is sent).
    pub fn new_invite_id() -> String {
        new_msg_id()
    }

    /// `invite`: invites `invitee` (C2C); returns the invitation id. `timeout` in seconds (0 =
    /// never); `offline_push_info` travels with the invitation (its `desc` is the push text).
    pub async fn invite(
        &self,
        invitee: String,
        data: String,
        online_user_only: bool,
        offline_push_info: Option<OfflinePushInfo>,
        timeout: i32,
    ) -> Result<String> {
        self.invite_with_id(Self::new_invite_id(), invitee, data, online_user_only, offline_push_info, timeout).await
    }

    /// `invite` under an id made by [`SignalingManager::new_invite_id`].
    pub async fn invite_with_id(
        &self,
        invite_id: String,
        invitee: String,
        data: String,
        online_user_only: bool,
        offline_push_info: Option<OfflinePushInfo>,
        timeout: i32,
    ) -> Result<String> {
        check_invite_id(&invite_id)?;
        if !is_valid_user_id(&invitee) {
            return Err(Error::invalid("invitee must be a valid userID"));
        }
        let req = InviteReq {
            invite_id,
            group_id: String::new(),
            invitees: vec![invitee],
            data,
            online_only: online_user_only,
            timeout: check_timeout(timeout)?,
            offline_push: offline_push_info,
        };
        self.start(req).await
    }

    /// `inviteInGroup`: invites members of `group_id` (every invitee must be a member; the
    /// whole group hears of it); returns the invitation id.
    pub async fn invite_in_group(
        &self,
        group_id: String,
        invitee_list: Vec<String>,
        data: String,
        online_user_only: bool,
        timeout: i32,
    ) -> Result<String> {
        self.invite_in_group_with_id(Self::new_invite_id(), group_id, invitee_list, data, online_user_only, timeout)
            .await
    }

    /// `inviteInGroup` under an id made by [`SignalingManager::new_invite_id`].
    pub async fn invite_in_group_with_id(
        &self,
        invite_id: String,
        group_id: String,
        invitee_list: Vec<String>,
        data: String,
        online_user_only: bool,
        timeout: i32,
    ) -> Result<String> {
        check_invite_id(&invite_id)?;
        if group_id.is_empty() {
            return Err(Error::invalid("groupID is empty"));
        }
        if invitee_list.is_empty() || invitee_list.len() > MAX_INVITEES {
            return Err(Error::invalid(format!("invite 1 to {MAX_INVITEES} members")));
        }
        if invitee_list.iter().any(|u| !is_valid_user_id(u)) {
            return Err(Error::invalid("every invitee must be a valid userID"));
        }
        let req = InviteReq {
            invite_id,
            group_id,
            invitees: invitee_list,
            data,
            online_only: online_user_only,
            timeout: check_timeout(timeout)?,
            offline_push: None,
        };
        self.start(req).await
    }

    async fn start(&self, req: InviteReq) -> Result<String> {
        check_data(&req.data)?;
        let session = self.sessions.session()?;
        runtime::run(async move {
            if req.invitees.iter().any(|u| *u == session.user_id) {
                return Err(Error::invalid("the inviter cannot invite themselves"));
            }
            perform(&session, op::SIGNAL_INVITE, &req).await?;
            let info = SignalingInfo {
                invite_id: req.invite_id.clone(),
                inviter: session.user_id.clone(),
                invitee_list: req.invitees,
                group_id: req.group_id,
                data: req.data,
                timeout: req.timeout,
                action_type: SignalingAction::Invite,
            };
            session.store.call(move |db| store::record_invitation(db, &info)).await?;
            Ok(req.invite_id)
        })
        .await
    }

    /// `cancel`: the inviter cancels an invitation someone has not answered yet.
    pub async fn cancel(&self, invite_id: String, data: String) -> Result<()> {
        self.act(op::SIGNAL_CANCEL, invite_id, data).await
    }

    /// `accept`: an invitee accepts (before the timeout and a cancel).
    pub async fn accept(&self, invite_id: String, data: String) -> Result<()> {
        self.act(op::SIGNAL_ACCEPT, invite_id, data).await
    }

    /// `reject`: an invitee rejects (before the timeout and a cancel).
    pub async fn reject(&self, invite_id: String, data: String) -> Result<()> {
        self.act(op::SIGNAL_REJECT, invite_id, data).await
    }

    async fn act(&self, op: &'static str, invite_id: String, data: String) -> Result<()> {
        check_invite_id(&invite_id)?;
        check_data(&data)?;
        let session = self.sessions.session()?;
        let req = SignalReq { invite_id, action_id: new_msg_id(), data };
        runtime::run(async move { perform(&session, op, &req).await }).await
    }

    /// `getSignalingInfo`: the signaling action a message carries; `None` for other messages.
    pub fn get_signaling_info(&self, msg: &Message) -> Option<SignalingInfo> {
        SignalingInfo::from_elem(&msg.elem)
    }

    /// `addInvitedSignaling`: makes an invitation learned elsewhere (say, from an offline push)
    /// known to this device. The server confirms that it exists (8010) and concerns the user
    /// (8011); an invitation this device already knows is refused with 8012. Answering it
    /// (`accept`/`reject`) works either way: the server knows it.
    pub async fn add_invited_signaling(&self, info: SignalingInfo) -> Result<()> {
        check_invite_id(&info.invite_id)?;
        let session = self.sessions.session()?;
        runtime::run(async move {
            let id = info.invite_id.clone();
            if session.store.call(move |db| store::knows_invitation(db, &id)).await? {
                return Err(Error::new(
                    oxim_proto::code::SIGNALING_ALREADY_EXISTS,
                    format!("invitation {} is already known", info.invite_id),
                ));
            }
            let transport = session.link.current_or_err()?;
            let issued: SignalingInfo =
                transport.request(op::SIGNAL_GET, &SignalGetReq { invite_id: info.invite_id.clone() }).await?;
            session.store.call(move |db| store::record_invitation(db, &issued)).await
        })
        .await
    }

    /// `addSignalingListener`; the id removes it again (`Manager::remove_listener`).
    pub fn add_signaling_listener(&self, listener: Arc<dyn SignalingListener>) -> ListenerId {
        self.listeners.add_signaling(listener)
    }
}

/// Sends a state-changing signaling request, retrying with the same ids on network trouble
/// until the session's send timeout, then stores the messages the action appended as this
/// device's own (not announced) and moves the conversations' cursors over them.
async fn perform<Req: Serialize>(session: &Arc<Session>, op: &str, req: &Req) -> Result<()> {
    let deadline = Instant::now() + session.send_timeout;
    let res: SignalRes = loop {
        let transport = tokio::select! {
            t = session.link.wait_until(deadline) => t?,
            _ = session.ended() => {
                return Err(Error::new(oxim_proto::code::SDK_COMM_INTERRUPT, "the session ended"));
            }
        };
        match transport.request::<_, SignalRes>(op, req).await {
            Ok(res) => break res,
            // The answer was lost or never came: ask again; the server recognises the ids.
            Err(e) if e.is_network() && Instant::now() < deadline => continue,
            Err(e) => return Err(e),
        }
    };
    for msg in res.msgs {
        let (me, conv, seq) = (session.user_id.clone(), msg.conv_id_for(&session.user_id), msg.seq);
        let key = conv.clone();
        let effects = session
            .store
            .call(move |db| Ok(store::store_received(db, &me, &key, &[msg], None, i64::MAX)?.effects))
            .await?;
        let changes = crate::conversation::changes_of(&effects);
        session.conversations.publish(&session.store, &session.events, &session.user_id, changes).await;
        session.sync.send(SyncCmd::Sent { conv, seq });
    }
    Ok(())
}
