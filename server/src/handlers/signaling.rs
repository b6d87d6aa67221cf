//! Signaling requests (`signal.invite`, `signal.accept`, `signal.reject`, `signal.cancel`,
//! `signal.get`) and the expiry of invitations.
//!
//! The server owns every invitation: its state ([`crate::domain::signaling`]), kept in the
//! store, and its deadline (an [`Effect::Deadline`] the gateway's timer keeps), so a timeout
//! reaches the inviter and the invitees even when the inviter's app is gone, and survives a
//! server restart. Each action is appended to the conversation as a signaling message (or, for
//! online-only invitations, pushed as `signal` and never stored), which the SDKs turn into
//! `V2TIMSignalingListener` callbacks.

use std::collections::HashSet;

use oxim_proto::ids::is_valid_user_id;
use oxim_proto::payload::MAX_MSG_BODY_BYTES;
use oxim_proto::signaling::{
    InviteReq, MAX_INVITEES, SignalGetReq, SignalReq, SignalRes, SignalingInfo, is_valid_invite_id,
};
use oxim_proto::{code, push};

use super::{Caller, Ctx, Effect, Effects, Push, PushBody, Reply, refusal};
use crate::domain::refusal::Refusal;
use crate::domain::signaling::{Invitation, InvitationState, SignalAct};
use crate::store::{Signaled, StoreError};

/// What a signaling write causes: stored messages pushed as `msg` (like any message), online-only
/// ones as `signal`, never to the requesting connection (it gets the answer); and the deadline
/// of an invitation still open.
fn effects(done: &Signaled) -> Effects {
    let mut effects = Vec::new();
    for a in done.appended.iter().filter(|a| !a.duplicate) {
        let event = if a.msg.online_only { push::SIGNAL } else { push::MSG };
        let push = Push { event, body: PushBody::Msg(a.msg.clone()), to: a.recipients.clone(), to_caller: false };
        effects.push(Effect::Push(push));
    }
    let inv = &done.invitation;
    if inv.state == InvitationState::Active && inv.deadline_ms > 0 {
        effects.push(Effect::Deadline { invite_id: inv.invite_id.clone(), at_ms: inv.deadline_ms });
    }
    effects
}

/// The answer to a signaling write: the stored action messages.
fn answer(done: Signaled) -> Reply<SignalRes> {
    let effects = effects(&done);
    let msgs = done.appended.into_iter().filter(|a| a.msg.seq > 0).map(|a| a.msg).collect();
    Ok((SignalRes { msgs }, effects))
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
async fn members_of(ctx: &Ctx, group_id: &str) -> Result<Option<Vec<String>>, Refusal> {
    if group_id.is_empty() {
        return Ok(None);
    }
    match ctx.store.group_members(group_id).await.map_err(refusal)? {
        Some(members) => Ok(Some(members)),
        None => Err(Refusal::new(code::SVR_GROUP_NOT_FOUND, format!("group {group_id} does not exist"))),
    }
}

/// Checks an invitation request; returns the group's members for group invitations.
async fn validate_invite(ctx: &Ctx, inviter: &str, req: &InviteReq) -> Result<Option<Vec<String>>, Refusal> {
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
    let max = ctx.config.max_signal_timeout.as_secs();
    if u64::from(req.timeout) > max {
        return Err(Refusal::new(code::INVALID_PARAMETERS, format!("the timeout is at most {max} s (0 = none)")));
    }
    let members = members_of(ctx, &req.group_id).await?;
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
            if !ctx.user_exists(invitee).await.map_err(refusal)? {
                return Err(Refusal::new(code::SVR_MSG_INVALID_ID, format!("user {invitee} does not exist")));
            }
        }
    }
    Ok(members)
}

/// Handles `signal.invite`.
pub async fn invite(ctx: &Ctx, caller: &Caller, req: InviteReq) -> Reply<SignalRes> {
    let members = validate_invite(ctx, &caller.user, &req).await?;
    let inv = Invitation::new(caller.user.clone(), req, ctx.now_ms());
    answer(ctx.write(|s| s.signal_invite(inv, members)).await.map_err(refusal)?)
}

/// Handles `signal.accept`, `signal.reject` and `signal.cancel` (`act` says which).
pub async fn act(ctx: &Ctx, caller: &Caller, act: SignalAct, req: SignalReq) -> Reply<SignalRes> {
    if !is_valid_invite_id(&req.action_id) {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "actionID must be 1-64 letters, digits, '-' or '_'"));
    }
    check_data(&req.data)?;
    let inv =
        ctx.store.invitation(&req.invite_id).await.map_err(refusal)?.ok_or_else(|| {
            Refusal::new(code::SIGNALING_INVALID_INVITE_ID, format!("no invitation {}", req.invite_id))
        })?;
    let members = members_of(ctx, &inv.group_id).await?;
    let queued = ctx.write(|s| s.signal_act(&req.invite_id, &caller.user, act, &req.action_id, &req.data, members));
    answer(queued.await.map_err(refusal)?)
}

/// Handles `signal.accept`.
pub async fn accept(ctx: &Ctx, caller: &Caller, req: SignalReq) -> Reply<SignalRes> {
    act(ctx, caller, SignalAct::Accept, req).await
}

/// Handles `signal.reject`.
pub async fn reject(ctx: &Ctx, caller: &Caller, req: SignalReq) -> Reply<SignalRes> {
    act(ctx, caller, SignalAct::Reject, req).await
}

/// Handles `signal.cancel`.
pub async fn cancel(ctx: &Ctx, caller: &Caller, req: SignalReq) -> Reply<SignalRes> {
    act(ctx, caller, SignalAct::Cancel, req).await
}

/// Handles `signal.get`: the invitation as issued, for a user it concerns (inviter, invitee or,
/// for group invitations, a member of the group).
pub async fn get(ctx: &Ctx, caller: &Caller, req: SignalGetReq) -> Reply<SignalingInfo> {
    let unknown = || Refusal::new(code::SIGNALING_INVALID_INVITE_ID, format!("no invitation {}", req.invite_id));
    let inv = ctx.store.invitation(&req.invite_id).await.map_err(refusal)?.ok_or_else(unknown)?;
    let member = !inv.group_id.is_empty()
        && ctx.store.group_members(&inv.group_id).await.map_err(refusal)?.is_some_and(|m| m.contains(&caller.user));
    if !inv.involves(&caller.user) && !member {
        return Err(Refusal::new(code::SIGNALING_NO_PERMISSION, "the invitation does not concern this user"));
    }
    Ok((inv.issued_info(), Vec::new()))
}

/// Times out invitation `invite_id` if it is due (the gateway's timer calls this at its
/// deadline): appends the timeout message. `Err` if the store failed (the timer retries).
pub async fn expire(ctx: &Ctx, invite_id: &str) -> Result<Effects, StoreError> {
    let members = match ctx.store.invitation(invite_id).await? {
        Some(inv) if inv.state == InvitationState::Active => match members_of(ctx, &inv.group_id).await {
            Ok(m) => m,
            // The group is gone: nobody is left to tell; time the invitation out all the same.
            Err(_) => Some(Vec::new()),
        },
        _ => return Ok(Vec::new()),
    };
    match ctx.store.signal_expire(invite_id, members).await {
        // Not due yet (the wall clock lagged the timer): its deadline comes back.
        Ok(done) => Ok(effects(&done)),
        Err(StoreError::Refused { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use oxim_proto::signaling::SignalingAction;

    use super::*;
    use crate::handlers::testing::{Bench, pushes, users};

    fn call(id: &str, invitees: &[&str], timeout: u32, online_only: bool) -> InviteReq {
        InviteReq {
            invite_id: id.into(),
            group_id: String::new(),
            invitees: users(invitees),
            data: "room 7".into(),
            online_only,
            timeout,
            offline_push: None,
        }
    }

    fn answer_req(id: &str, action: &str) -> SignalReq {
        SignalReq { invite_id: id.into(), action_id: action.into(), data: String::new() }
    }

    #[tokio::test]
    async fn a_timeout_beyond_the_maximum_is_refused() {
        let bench = Bench::with_config(|c| c.max_signal_timeout = Duration::from_secs(60)).await;
        bench.users(&["alice", "bob"]).await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        let refused = invite(&ctx, &alice, call("inv1", &["bob"], 61, false)).await.unwrap_err();
        assert_eq!(refused.code, code::INVALID_PARAMETERS);
        assert!(ctx.store.invitation("inv1").await.unwrap().is_none(), "nothing stored");
        invite(&ctx, &alice, call("inv1", &["bob"], 60, false)).await.unwrap();
        invite(&ctx, &alice, call("inv2", &["bob"], 0, false)).await.unwrap();
    }

    #[tokio::test]
    async fn an_invitation_is_stored_pushed_to_the_others_and_its_deadline_handed_on() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        let (res, effects) = invite(&ctx, &alice, call("inv1", &["bob"], 30, false)).await.unwrap();
        assert_eq!(res.msgs.len(), 1);
        assert_eq!(pushes(&effects), [(push::MSG, "inv1#1#bob".to_string(), users(&["alice", "bob"]), false)]);
        let deadline = Effect::Deadline { invite_id: "inv1".into(), at_ms: ctx.now_ms() + 30_000 };
        assert_eq!(effects.last(), Some(&deadline));
        // A retry: the original message, nobody told again, the deadline handed on again.
        let (again, effects) = invite(&ctx, &alice, call("inv1", &["bob"], 30, false)).await.unwrap();
        assert_eq!(again.msgs, res.msgs);
        assert_eq!(effects, [deadline]);
        // Without a timeout there is no deadline; online-only invitations are `signal` pushes.
        let (res, effects) = invite(&ctx, &alice, call("inv2", &["bob"], 0, true)).await.unwrap();
        assert!(res.msgs.is_empty(), "nothing stored");
        assert_eq!(pushes(&effects), [(push::SIGNAL, "inv2#1#bob".to_string(), users(&["alice", "bob"]), false)]);
        assert_eq!(effects.len(), 1);
    }

    #[tokio::test]
    async fn bad_invitations_and_strangers_are_refused() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        let code = |r: Reply<SignalRes>| r.unwrap_err().code;
        assert_eq!(code(invite(&ctx, &alice, call("i", &["nobody"], 0, false)).await), code::SVR_MSG_INVALID_ID);
        assert_eq!(code(invite(&ctx, &alice, call("i", &["alice"], 0, false)).await), code::INVALID_PARAMETERS);
        assert_eq!(code(invite(&ctx, &alice, call("i#", &["bob"], 0, false)).await), code::INVALID_PARAMETERS);
        assert_eq!(code(invite(&ctx, &alice, call("i", &["bob", "carol"], 0, false)).await), code::INVALID_PARAMETERS);
        let mut big = call("i", &["bob"], 0, false);
        big.data = "x".repeat(MAX_MSG_BODY_BYTES);
        assert_eq!(code(invite(&ctx, &alice, big).await), code::SVR_COMM_BODY_SIZE_LIMIT);
        let mut in_group = call("i", &["bob"], 0, false);
        in_group.group_id = "nowhere".into();
        assert_eq!(code(invite(&ctx, &alice, in_group).await), code::SVR_GROUP_NOT_FOUND);
        invite(&ctx, &alice, call("inv", &["bob"], 0, false)).await.unwrap();
        assert_eq!(
            code(accept(&ctx, &Caller::new("carol"), answer_req("inv", "a1")).await),
            code::SIGNALING_NO_PERMISSION
        );
        assert_eq!(
            code(cancel(&ctx, &Caller::new("bob"), answer_req("inv", "c1")).await),
            code::SIGNALING_NO_PERMISSION
        );
        assert_eq!(
            code(accept(&ctx, &Caller::new("bob"), answer_req("nope", "a1")).await),
            code::SIGNALING_INVALID_INVITE_ID
        );
        let stranger = get(&ctx, &Caller::new("carol"), SignalGetReq { invite_id: "inv".into() }).await.unwrap_err();
        assert_eq!(stranger.code, code::SIGNALING_NO_PERMISSION);
        let (issued, _) = get(&ctx, &Caller::new("bob"), SignalGetReq { invite_id: "inv".into() }).await.unwrap();
        assert_eq!((issued.action_type, issued.data.as_str()), (SignalingAction::Invite, "room 7"));
    }

    #[tokio::test]
    async fn answers_end_the_flow_and_the_deadline_times_out_the_rest() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let (ctx, alice, bob) = (bench.ctx(), Caller::new("alice"), Caller::new("bob"));
        invite(&ctx, &alice, call("ring", &["bob"], 30, false)).await.unwrap();
        let due = ctx.now_ms() + 30_000;
        let not_yet = expire(&ctx, "ring").await.unwrap();
        assert_eq!(not_yet, [Effect::Deadline { invite_id: "ring".into(), at_ms: due }], "not due: asked again");
        bench.clock.advance(Duration::from_secs(30));
        let late = accept(&ctx, &bob, answer_req("ring", "a1")).await.unwrap_err();
        assert_eq!(late.code, code::SIGNALING_INVALID_INVITE_ID, "past the deadline, even before the timer ran");
        let effects = expire(&ctx, "ring").await.unwrap();
        assert_eq!(pushes(&effects), [(push::MSG, "ring#5#bob".to_string(), users(&["alice", "bob"]), false)]);
        assert!(!effects.iter().any(|e| matches!(e, Effect::Deadline { .. })), "nothing left to time out");
        assert!(expire(&ctx, "ring").await.unwrap().is_empty(), "times out once");

        invite(&ctx, &alice, call("talk", &["bob"], 30, false)).await.unwrap();
        let (res, effects) = accept(&ctx, &bob, answer_req("talk", "a2")).await.unwrap();
        assert_eq!(res.msgs[0].msg_id, "talk#3#bob");
        assert_eq!(pushes(&effects).len(), 1);
        assert!(!effects.iter().any(|e| matches!(e, Effect::Deadline { .. })), "the flow ended");
    }
}
