//! Signaling requests (`signal.invite`, `signal.accept`, `signal.reject`, `signal.cancel`,
//! `signal.get`) and the delivery of what they do.
//!
//! The server owns every invitation: its state ([`crate::domain::signaling`]), kept in the store, and its
//! deadline ([`timer`]), so a timeout reaches the inviter and the invitees even when the
//! inviter's app is gone, and survives a server restart. Each action is appended to the
//! conversation as a signaling message (or, for online-only invitations, pushed as `signal` and
//! never stored), which the SDKs turn into `V2TIMSignalingListener` callbacks.

pub mod timer;

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::payload::MAX_MSG_BODY_BYTES;
use oxim_proto::signaling::{InviteReq, MAX_INVITEES, SignalGetReq, SignalReq, SignalRes, is_valid_invite_id};
use oxim_proto::{OutFrame, code, push};

use crate::app::App;
use crate::domain::signaling::SignalAct;
use crate::domain::signaling::{Invitation, InvitationState};
use crate::gateway::{Conn, Refusal, now_ms};
use crate::messaging;
use crate::store::{Appended, Queued, Signaled, StoreError};

fn refusal(e: StoreError) -> Refusal {
    match e {
        StoreError::Refused { code, desc } => Refusal::new(code, desc),
        e => {
            tracing::error!("store: {e}");
            Refusal::new(code::SVR_MSG_INTERNAL_ERROR, e.to_string())
        }
    }
}

/// Pushes what a signaling write produced: stored messages as `msg` pushes (like any message),
/// online-only ones as `signal` pushes; never to connection `origin` (it gets the answer).
pub fn deliver(app: &App, appended: &[Appended], origin: Option<u64>) {
    for a in appended {
        if !a.msg.online_only {
            messaging::deliver(app, a, origin.unwrap_or(0));
        } else if !a.duplicate {
            let frame: Utf8Bytes = OutFrame::push(push::SIGNAL, &a.msg).to_json().into();
            for user in &a.recipients {
                app.sessions.deliver(user, &frame, origin);
            }
        }
    }
}

/// Awaits a signaling write in a task: answers with the stored messages, pushes, and hands a
/// new deadline to the timer.
fn finish(conn: &Conn, id: u64, queued: Queued<Signaled>) {
    let (app, out, origin) = (conn.app.clone(), conn.out.clone(), conn.conn_id);
    tokio::spawn(async move {
        match queued.await {
            Ok(done) => {
                let msgs = done.appended.iter().filter(|a| a.msg.seq > 0).map(|a| a.msg.clone()).collect();
                out.ok(id, &SignalRes { msgs }).await;
                deliver(&app, &done.appended, Some(origin));
                schedule(&app, &done.invitation);
            }
            Err(e) => out.refuse(id, &refusal(e)).await,
        }
    });
}

/// Gives an active invitation's deadline to the timer (again: it keeps the earliest it has).
fn schedule(app: &Arc<App>, inv: &Invitation) {
    if inv.state == InvitationState::Active && inv.deadline_ms > 0 {
        app.deadlines.schedule(&inv.invite_id, inv.deadline_ms);
    }
}

fn check_data(data: &str) -> Result<(), Refusal> {
    if data.len() > MAX_MSG_BODY_BYTES / 2 {
        return Err(Refusal::new(
            code::SVR_COMM_BODY_SIZE_LIMIT,
            format!("signaling data is {} bytes, the limit is {}", data.len(), MAX_MSG_BODY_BYTES / 2),
        ));
    }
    Ok(())
}

/// The members of a group invitation's group (`None` for C2C).
async fn members_of(app: &App, group_id: &str) -> Result<Option<Vec<String>>, Refusal> {
    if group_id.is_empty() {
        return Ok(None);
    }
    match app.store.group_members(group_id).await.map_err(refusal)? {
        Some(members) => Ok(Some(members)),
        None => Err(Refusal::new(code::SVR_GROUP_NOT_FOUND, format!("group {group_id} does not exist"))),
    }
}

/// Checks an invitation request; returns the group's members for group invitations.
async fn validate_invite(app: &App, inviter: &str, req: &InviteReq) -> Result<Option<Vec<String>>, Refusal> {
    let bad = |desc: &str| Err(Refusal::new(code::INVALID_PARAMETERS, desc));
    if !is_valid_invite_id(&req.invite_id) {
        return bad("inviteID must be 1-64 letters, digits, '-' or '_'");
    }
    if req.invitees.is_empty() || req.invitees.len() > MAX_INVITEES {
        return bad("invite 1 to 500 users");
    }
    if req.group_id.is_empty() && req.invitees.len() != 1 {
        return bad("a C2C invitation has exactly one invitee");
    }
    let mut seen = HashSet::new();
    for invitee in &req.invitees {
        if !is_valid_user_id(invitee) {
            return bad("an invitee is not a valid userID");
        }
        if invitee == inviter {
            return bad("the inviter cannot invite themselves");
        }
        if !seen.insert(invitee) {
            return bad("an invitee is listed twice");
        }
    }
    check_data(&req.data)?;
    let members = members_of(app, &req.group_id).await?;
    match &members {
        Some(members) => {
            if !members.iter().any(|m| m == inviter) {
                return Err(Refusal::new(code::SIGNALING_NO_PERMISSION, "only group members may invite in a group"));
            }
            if let Some(stranger) = req.invitees.iter().find(|u| !members.contains(u)) {
                return Err(Refusal::new(code::INVALID_PARAMETERS, format!("{stranger} is not a member of the group")));
            }
        }
        None => {
            let invitee = &req.invitees[0];
            if !app.user_exists(invitee).await.map_err(refusal)? {
                return Err(Refusal::new(code::SVR_MSG_INVALID_ID, format!("user {invitee} does not exist")));
            }
        }
    }
    Ok(members)
}

/// Handles `signal.invite`.
pub async fn invite(conn: &mut Conn, id: u64, req: InviteReq) {
    let inviter = match conn.user() {
        Ok(auth) => auth.user.clone(),
        Err(r) => return conn.out.refuse(id, &r).await,
    };
    let members = match validate_invite(&conn.app, &inviter, &req).await {
        Ok(m) => m,
        Err(r) => return conn.out.refuse(id, &r).await,
    };
    let inv = Invitation::new(inviter, req, now_ms());
    let queued = conn.app.store.signal_invite(inv, members);
    finish(conn, id, queued);
}

/// Handles `signal.accept`, `signal.reject` and `signal.cancel`.
pub async fn act(conn: &mut Conn, id: u64, act: SignalAct, req: SignalReq) {
    let user = match conn.user() {
        Ok(auth) => auth.user.clone(),
        Err(r) => return conn.out.refuse(id, &r).await,
    };
    let checked = async {
        if !is_valid_invite_id(&req.action_id) {
            return Err(Refusal::new(code::INVALID_PARAMETERS, "actionID must be 1-64 letters, digits, '-' or '_'"));
        }
        check_data(&req.data)?;
        let inv = conn.app.store.invitation(&req.invite_id).await.map_err(refusal)?.ok_or_else(|| {
            Refusal::new(code::SIGNALING_INVALID_INVITE_ID, format!("no invitation {}", req.invite_id))
        })?;
        members_of(&conn.app, &inv.group_id).await
    };
    let members = match checked.await {
        Ok(m) => m,
        Err(r) => return conn.out.refuse(id, &r).await,
    };
    let queued = conn.app.store.signal_act(&req.invite_id, &user, act, &req.action_id, &req.data, members);
    finish(conn, id, queued);
}

/// Handles `signal.get`: the invitation as issued, for a user it concerns (inviter, invitee or,
/// for group invitations, a member of the group).
pub fn get(conn: &mut Conn, id: u64, req: SignalGetReq) {
    let user = conn.user().map(|a| a.user.clone());
    let (app, out) = (conn.app.clone(), conn.out.clone());
    tokio::spawn(async move {
        let result = async {
            let user = user?;
            let unknown =
                || Refusal::new(code::SIGNALING_INVALID_INVITE_ID, format!("no invitation {}", req.invite_id));
            let inv = app.store.invitation(&req.invite_id).await.map_err(refusal)?.ok_or_else(unknown)?;
            let member = !inv.group_id.is_empty()
                && app.store.group_members(&inv.group_id).await.map_err(refusal)?.is_some_and(|m| m.contains(&user));
            if !inv.involves(&user) && !member {
                return Err(Refusal::new(code::SIGNALING_NO_PERMISSION, "the invitation does not concern this user"));
            }
            Ok(inv.issued_info())
        }
        .await;
        out.answer(id, result).await;
    });
}

/// Times out invitation `invite_id` if it is due (called by the timer): appends the timeout
/// message and pushes it. Returns false if the store failed (the timer retries).
pub async fn expire(app: &Arc<App>, invite_id: &str) -> bool {
    let members = match app.store.invitation(invite_id).await {
        Ok(Some(inv)) if inv.state == InvitationState::Active => match members_of(app, &inv.group_id).await {
            Ok(m) => m,
            // The group is gone: nobody is left to tell; time the invitation out all the same.
            Err(_) => Some(Vec::new()),
        },
        Ok(_) => return true,
        Err(e) => {
            tracing::warn!("signaling timer: {e}");
            return false;
        }
    };
    match app.store.signal_expire(invite_id, members).await {
        Ok(done) => {
            deliver(app, &done.appended, None);
            // Not due yet (the wall clock lagged the timer): try again at the deadline.
            schedule(app, &done.invitation);
            true
        }
        Err(StoreError::Refused { .. }) => true,
        Err(e) => {
            tracing::warn!("signaling timer: {e}");
            false
        }
    }
}
