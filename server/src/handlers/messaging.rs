//! Message requests: send, revoke, read, delete, clear (writes: whatever they append is pushed
//! to its recipients' other sessions); sync, pull, history (reads).

use oxim_proto::check::{Side, check_message};
use oxim_proto::code;
use oxim_proto::ids::{ConvId, is_valid_user_id};
use oxim_proto::payload::{
    ClearReq, ClearRes, DeleteReq, HistoryReq, HistoryRes, MAX_DELETE, MAX_PAGE, PullReq, PullRes, ReadReq, ReadRes,
    RevokeReq, RevokeRes, SendMsgReq, SendMsgRes, SyncReq, SyncRes, WireMessage,
};

use super::{Caller, Ctx, Effect, Reply, appended_pushes, check_conv, groups, refusal};
use crate::domain::friendship::{Pair, SendVerdict, c2c_send};
use crate::domain::keys::{c2c_target, target_of};
use crate::domain::refusal::Refusal;

/// Checks a message before anything is stored: the shared content checks, then (C2C) that the
/// receiver exists. A group's existence, membership and mutes are checked where it goes.
async fn validate(ctx: &Ctx, msg: &WireMessage) -> Result<(), Refusal> {
    check_message(msg).map_err(|p| Refusal::new(p.code(Side::Server), p.to_string()))?;
    if !msg.group_id.is_empty() {
        return Ok(());
    }
    if !is_valid_user_id(&msg.receiver) {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "receiver is not a valid userID"));
    }
    if !ctx.user_exists(&msg.receiver).await.map_err(refusal)? {
        return Err(Refusal::new(code::SVR_MSG_INVALID_ID, format!("user {} does not exist", msg.receiver)));
    }
    Ok(())
}

/// A message carries only files its sender may read (uploaded them, or received them): a file
/// id learnt elsewhere cannot be forwarded to gain access to the file.
async fn check_files(ctx: &Ctx, user: &str, elem: &oxim_proto::message::Elem) -> Result<(), Refusal> {
    for uuid in elem.file_uuids() {
        if !ctx.may_read_file(user, &uuid).await.map_err(refusal)? {
            return Err(Refusal::new(code::FILE_TRANS_AUTH_FAILED, format!("you may not send file {uuid}")));
        }
    }
    Ok(())
}

/// Handles `msg.send`: validates, stores (C2C or group) and pushes the message to the other
/// online sessions of its recipients; online-only messages and AVChatRoom messages are pushed
/// and never stored.
///
/// Written as a function returning an `async move` block rather than an `async fn`: an async fn
/// keeps its by-value arguments twice in its future (rust-lang/rust#62958), and the gateway
/// keeps this future until the commit, one per message in flight; the message alone is 500
/// bytes. The group path (larger) is boxed for the same reason.
#[allow(clippy::manual_async_fn)]
pub fn send<'a>(
    ctx: &'a Ctx,
    caller: &'a Caller,
    mut req: SendMsgReq,
) -> impl Future<Output = Reply<SendMsgRes>> + Send + 'a {
    async move {
        // Worked on in place: a local copy would take another 500 bytes of the future.
        req.msg.sender = caller.user.clone();
        req.msg.seq = 0;
        req.msg.revoked = false;
        // A sender's local file paths never leave the server (nor should they have reached it).
        req.msg.elem = req.msg.elem.without_local_paths();
        validate(ctx, &req.msg).await?;
        if req.msg.elem.has_files() {
            // Boxed: most messages carry no file, and the future of every send in flight would
            // otherwise hold this check's state.
            Box::pin(check_files(ctx, &caller.user, &req.msg.elem)).await?;
        }
        if !req.msg.group_id.is_empty() {
            return Box::pin(groups::send(ctx, caller, req.msg)).await;
        }
        // The user's message rate (an AVChatRoom has its own rule instead, in groups::send).
        let ordered = (!req.msg.online_only).then_some((req.msg.receiver.as_str(), req.msg.msg_id.as_str()));
        caller.take_send_token(ctx.now_ms(), ordered)?;
        let options = ctx.config.friendship.send;
        let peer_blocks = ctx.blacklists.blocks(&req.msg.receiver, &req.msg.sender);
        let verdict = if options.only_friends {
            // Boxed: the store read stays out of the future of every send when the option is off.
            Box::pin(c2c_verdict(ctx, &req.msg.sender, &req.msg.receiver, peer_blocks)).await?
        } else {
            c2c_send(&Pair { peer_blocks, ..Pair::default() }, options)
        };
        match verdict {
            SendVerdict::Deliver => {}
            // The receiver blocks the sender and the server does not say so: the send looks
            // successful (no seq: nothing was stored) and nothing arrives.
            SendVerdict::Drop => return Ok((SendMsgRes { seq: 0, time_ms: ctx.now_ms() }, Vec::new())),
            SendVerdict::Refuse(code) => {
                let why = if code == code::SVR_MSG_BOTH_NOT_FRIEND {
                    "only friends may send each other messages"
                } else {
                    "the receiver has blocked you"
                };
                return Err(Refusal::new(code, why));
            }
        }
        if req.msg.online_only {
            // Never stored, no seq: delivered to whoever is online right now.
            let mut msg = req.msg;
            msg.time_ms = ctx.now_ms();
            let res = SendMsgRes { seq: 0, time_ms: msg.time_ms };
            let to = vec![msg.receiver.clone(), msg.sender.clone()];
            return Ok((res, vec![Effect::msg(msg, to, false)]));
        }
        let target = c2c_target(&req.msg.sender, &req.msg.receiver);
        let appended = ctx.write(|s| s.append(target, req.msg)).await.map_err(refusal)?;
        let res = SendMsgRes { seq: appended.msg.seq, time_ms: appended.msg.time_ms };
        Ok((res, appended_pushes([appended], false)))
    }
}

/// What the relationship between the two users lets a C2C message do with the "only friends"
/// option on (it costs a store read; the blacklist comes from memory).
async fn c2c_verdict(ctx: &Ctx, sender: &str, receiver: &str, peer_blocks: bool) -> Result<SendVerdict, Refusal> {
    let pair = Pair { peer_blocks, ..ctx.store.c2c_pair(sender, receiver).await.map_err(refusal)? };
    Ok(c2c_send(&pair, ctx.config.friendship.send))
}

/// Handles `msg.revoke`.
pub async fn revoke(ctx: &Ctx, caller: &Caller, req: RevokeReq) -> Reply<RevokeRes> {
    check_conv(&req.conv_id)?;
    let mut target = target_of(&caller.user, &req.conv_id);
    if let ConvId::Group(g) = &req.conv_id {
        // The notice goes to every member online.
        match ctx.store.group_members(g).await.map_err(refusal)? {
            Some(members) => target.members = members.into_iter().map(|m| (m, req.conv_id.clone())).collect(),
            None => return Err(Refusal::new(code::SVR_GROUP_NOT_FOUND, format!("group {g} has no stored messages"))),
        }
    }
    let window_ms = ctx.config.revoke_window.as_millis() as i64;
    let written = ctx.write(|s| s.revoke(&caller.user, target, &req.msg_id, window_ms)).await.map_err(refusal)?;
    Ok((RevokeRes { seq: written.seq }, appended_pushes(written.appended, false)))
}

/// Whether `conv` is an AVChatRoom `user` is in: its messages are never stored, so there is
/// nothing to read, clear or delete (and no stored membership to check).
fn in_room(ctx: &Ctx, user: &str, conv: &ConvId) -> bool {
    matches!(conv, ConvId::Group(g) if ctx.rooms.is_member(g, user))
}

/// Handles `msg.read`.
pub async fn read(ctx: &Ctx, caller: &Caller, req: ReadReq) -> Reply<ReadRes> {
    check_conv(&req.conv_id)?;
    if in_room(ctx, &caller.user, &req.conv_id) {
        return Ok((ReadRes { read_seq: 0 }, Vec::new()));
    }
    let written = ctx.write(|s| s.mark_read(&caller.user, &req.conv_id, req.seq)).await.map_err(refusal)?;
    Ok((ReadRes { read_seq: written.seq }, appended_pushes(written.appended, false)))
}

/// Handles `msg.delete`.
pub async fn delete(ctx: &Ctx, caller: &Caller, req: DeleteReq) -> Reply<serde_json::Value> {
    check_conv(&req.conv_id)?;
    if req.msg_ids.is_empty() || req.msg_ids.len() > MAX_DELETE {
        return Err(Refusal::new(code::INVALID_PARAMETERS, format!("delete 1 to {MAX_DELETE} messages at a time")));
    }
    if in_room(ctx, &caller.user, &req.conv_id) {
        return Ok((serde_json::json!({}), Vec::new()));
    }
    let written = ctx.write(|s| s.delete_for_user(&caller.user, &req.conv_id, req.msg_ids)).await.map_err(refusal)?;
    Ok((serde_json::json!({}), appended_pushes(written.appended, false)))
}

/// Handles `msg.clear`.
pub async fn clear(ctx: &Ctx, caller: &Caller, req: ClearReq) -> Reply<ClearRes> {
    check_conv(&req.conv_id)?;
    if in_room(ctx, &caller.user, &req.conv_id) {
        return Ok((ClearRes { seq: 0 }, Vec::new()));
    }
    let written = ctx.write(|s| s.clear_for_user(&caller.user, &req.conv_id)).await.map_err(refusal)?;
    Ok((ClearRes { seq: written.seq }, appended_pushes(written.appended, false)))
}

/// Handles `sync`: the user's conversations changed since the client's version.
pub async fn sync(ctx: &Ctx, caller: &Caller, req: SyncReq) -> Reply<SyncRes> {
    let limit = req.limit.clamp(1, MAX_PAGE);
    let convs = ctx.store.changed_conversations(&caller.user, req.since, limit).await.map_err(refusal)?;
    let has_more = convs.len() as u32 == limit;
    let version = convs.last().map_or(req.since, |c| c.version);
    Ok((SyncRes { convs, version, has_more }, Vec::new()))
}

/// Handles `msg.pull`: a range of one of the user's streams, oldest first. The user's own
/// stream (`@self`) is pulled like any conversation.
pub async fn pull(ctx: &Ctx, caller: &Caller, req: PullReq) -> Reply<PullRes> {
    let limit = req.limit.clamp(1, MAX_PAGE);
    let (msgs, max_seq) = ctx
        .store
        .messages_after(&caller.user, &req.conv_id, req.after_seq, req.up_to_seq, limit)
        .await
        .map_err(refusal)?;
    let bound = if req.up_to_seq == 0 { max_seq } else { req.up_to_seq.min(max_seq) };
    // A short page covers everything up to the bound; a full one up to its last message.
    let covered_seq = if (msgs.len() as u32) < limit { bound } else { msgs.last().map_or(bound, |m| m.seq) };
    Ok((PullRes { msgs, max_seq, covered_seq: covered_seq.max(req.after_seq) }, Vec::new()))
}

/// Handles `msg.history`: older messages of a conversation, newest first.
pub async fn history(ctx: &Ctx, caller: &Caller, req: HistoryReq) -> Reply<HistoryRes> {
    check_conv(&req.conv_id)?;
    let limit = req.limit.clamp(1, MAX_PAGE);
    let page = ctx.store.history(&caller.user, &req.conv_id, req.before_seq, limit).await.map_err(refusal)?;
    let res = HistoryRes { msgs: page.msgs, covered_from: page.covered_from, reached_start: page.reached_start };
    Ok((res, Vec::new()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use oxim_proto::message::{Elem, UserEvent};
    use oxim_proto::payload::MAX_MSG_BODY_BYTES;
    use oxim_proto::push;

    use super::*;
    use crate::handlers::testing::{Bench, pushes, users};
    use crate::handlers::{Effect, Scope};

    fn text(id: &str, to: &str, body: &str) -> SendMsgReq {
        let mut msg = WireMessage::new(id, Elem::Text { text: body.into() });
        msg.receiver = to.into();
        SendMsgReq { msg }
    }

    fn c2c(peer: &str) -> ConvId {
        ConvId::C2C(peer.into())
    }

    #[tokio::test]
    async fn a_stored_send_is_pushed_to_both_users_other_sessions_and_a_resend_to_nobody() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        let (res, effects) = send(&ctx, &alice, text("m1", "bob", "hi")).await.unwrap();
        assert_eq!((res.seq, res.time_ms), (1, ctx.now_ms()));
        assert_eq!(pushes(&effects), [(push::MSG, "m1".to_string(), users(&["alice", "bob"]), false)]);
        let Effect::Push(p) = &effects[0] else { unreachable!() };
        let crate::handlers::PushBody::Msg(msg) = &p.body else { unreachable!() };
        assert_eq!((msg.sender.as_str(), msg.seq), ("alice", 1), "the sender is the caller, whatever the client said");
        // A retry after a lost answer: the original comes back, nobody is told twice.
        let (again, effects) = send(&ctx, &alice, text("m1", "bob", "hi")).await.unwrap();
        assert_eq!(again, res);
        assert!(effects.is_empty());
        // The same id from someone else is refused.
        bench.users(&["mallory"]).await;
        let stolen = send(&ctx, &Caller::new("mallory"), text("m1", "bob", "x")).await.unwrap_err();
        assert_eq!(stolen.code, code::INVALID_PARAMETERS);
    }

    /// The gateway keeps a send's future until its commit, one per message in flight: it must
    /// hold the message once (an `async fn` would hold it twice) and stay within the sizes the
    /// allocator serves from its per-thread cache (1 KiB), as it did before the rewrite.
    #[tokio::test]
    async fn a_send_in_flight_stays_small() {
        let bench = Bench::new().await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        let size = std::mem::size_of_val(&send(&ctx, &alice, text("m1", "bob", "hi")));
        let msg = std::mem::size_of::<WireMessage>();
        assert!(size < 2 * msg && size < 1024, "a send future is {size} bytes (a message is {msg})");
    }

    #[tokio::test]
    async fn bad_messages_are_refused_before_anything_is_stored() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        let code = |r: Reply<SendMsgRes>| r.unwrap_err().code;
        assert_eq!(code(send(&ctx, &alice, text("m1", "nobody", "hi")).await), code::SVR_MSG_INVALID_ID);
        assert_eq!(code(send(&ctx, &alice, text("m1", "bad user", "hi")).await), code::INVALID_PARAMETERS);
        assert_eq!(code(send(&ctx, &alice, text("m#1", "bob", "hi")).await), code::INVALID_PARAMETERS);
        assert_eq!(code(send(&ctx, &alice, text("m1", "bob", "")).await), code::INVALID_PARAMETERS);
        let big = "x".repeat(MAX_MSG_BODY_BYTES + 1);
        assert_eq!(code(send(&ctx, &alice, text("m1", "bob", &big)).await), code::SVR_COMM_BODY_SIZE_LIMIT);
        let mut to_group = text("m1", "", "hi");
        to_group.msg.group_id = "nowhere".into();
        assert_eq!(code(send(&ctx, &alice, to_group).await), code::SVR_GROUP_NOT_FOUND);
        let (msgs, max) = ctx.store.messages_after("alice", &c2c("bob"), 0, 0, 10).await.unwrap();
        assert!(msgs.is_empty() && max == 0, "nothing was stored");
    }

    #[tokio::test]
    async fn online_only_messages_are_pushed_and_never_stored() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let ctx = bench.ctx();
        let mut req = text("typing-1", "bob", "…");
        req.msg.online_only = true;
        let (res, effects) = send(&ctx, &Caller::new("alice"), req).await.unwrap();
        assert_eq!(res.seq, 0);
        assert_eq!(pushes(&effects), [(push::MSG, "typing-1".to_string(), users(&["bob", "alice"]), false)]);
        assert_eq!(ctx.store.messages_after("bob", &c2c("alice"), 0, 0, 10).await.unwrap().1, 0);
    }

    #[tokio::test]
    async fn a_write_passes_its_turn_when_queued_and_a_refused_one_does_not() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let scope = Scope::new(bench.services.clone());
        let ctx = Ctx::in_scope(scope.clone(), 2);
        send(&ctx, &Caller::new("alice"), text("m1", "nobody", "hi")).await.unwrap_err();
        assert!(!scope.passed(2), "refused before queueing anything");
        send(&ctx, &Caller::new("alice"), text("m1", "bob", "hi")).await.unwrap();
        assert!(scope.passed(2) && scope.passed(1), "a later turn passed covers the earlier ones");
        assert!(!scope.passed(3));
    }

    /// Run in the connection loop, a send stops right after queueing its write (the gateway
    /// then hands it to a task of its own); run elsewhere, it waits for the commit.
    #[tokio::test]
    async fn run_inline_a_send_stops_once_queued_and_finishes_elsewhere() {
        use std::future::Future;
        use std::task::{Context, Waker};
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let scope = Scope::new(bench.services.clone());
        let ctx = Ctx::in_scope(scope.clone(), 1);
        let alice = Caller::new("alice");
        let mut fut = Box::pin(send(&ctx, &alice, text("m1", "bob", "hi")));
        scope.run_inline(1);
        // Nothing to wait for before the write (the receiver is known): one poll queues it.
        assert!(fut.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        assert!(scope.passed(1));
        assert!(fut.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending(), "still inline: no wait");
        scope.run_elsewhere();
        let (res, _) = fut.await.unwrap();
        assert_eq!(res.seq, 1);
    }

    #[tokio::test]
    async fn revoke_tells_both_sides_within_the_window_only() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let (ctx, alice) = (bench.ctx(), Caller::new("alice"));
        send(&ctx, &alice, text("m1", "bob", "oops")).await.unwrap();
        send(&ctx, &alice, text("m2", "bob", "fine")).await.unwrap();
        let (res, effects) =
            revoke(&ctx, &alice, RevokeReq { conv_id: c2c("bob"), msg_id: "m1".into() }).await.unwrap();
        assert_eq!(res.seq, 3);
        assert_eq!(pushes(&effects)[0].2, users(&["alice", "bob"]));
        let bobs = revoke(&ctx, &Caller::new("bob"), RevokeReq { conv_id: c2c("alice"), msg_id: "m2".into() }).await;
        assert_eq!(bobs.unwrap_err().code, code::SVR_REVOKE_MSG_DENY);
        bench.clock.advance(ctx.config.revoke_window + Duration::from_millis(1));
        let late = revoke(&ctx, &alice, RevokeReq { conv_id: c2c("bob"), msg_id: "m2".into() }).await;
        assert_eq!(late.unwrap_err().code, code::SVR_MSG_REVOKE_TIME_LIMIT);
        let system = revoke(&ctx, &alice, RevokeReq { conv_id: ConvId::System, msg_id: "m2".into() }).await;
        assert_eq!(system.unwrap_err().code, code::INVALID_CONVERSATION);
    }

    #[tokio::test]
    async fn reading_tells_the_readers_devices_and_the_peer() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let ctx = bench.ctx();
        send(&ctx, &Caller::new("alice"), text("m1", "bob", "hi")).await.unwrap();
        let (res, effects) = read(&ctx, &Caller::new("bob"), ReadReq { conv_id: c2c("alice"), seq: 0 }).await.unwrap();
        assert_eq!(res.read_seq, 1);
        let to: Vec<Vec<String>> = pushes(&effects).into_iter().map(|p| p.2).collect();
        assert_eq!(to, [users(&["bob"]), users(&["alice"])], "bob's stream event, alice's receipt");
        let Effect::Push(receipt) = &effects[1] else { unreachable!() };
        let crate::handlers::PushBody::Msg(m) = &receipt.body else { unreachable!() };
        assert!(matches!(&m.elem, Elem::Event { event: UserEvent::PeerRead { seq: 1, .. } }));
        // Reading again changes nothing and tells nobody.
        let (_, effects) = read(&ctx, &Caller::new("bob"), ReadReq { conv_id: c2c("alice"), seq: 1 }).await.unwrap();
        assert!(effects.is_empty());
    }

    #[tokio::test]
    async fn delete_and_clear_are_the_users_own_and_checked() {
        let bench = Bench::new().await;
        bench.users(&["alice", "bob"]).await;
        let (ctx, bob) = (bench.ctx(), Caller::new("bob"));
        send(&ctx, &Caller::new("alice"), text("m1", "bob", "a")).await.unwrap();
        send(&ctx, &Caller::new("alice"), text("m2", "bob", "b")).await.unwrap();
        let none = delete(&ctx, &bob, DeleteReq { conv_id: c2c("alice"), msg_ids: vec![] }).await;
        assert_eq!(none.unwrap_err().code, code::INVALID_PARAMETERS);
        let (_, effects) =
            delete(&ctx, &bob, DeleteReq { conv_id: c2c("alice"), msg_ids: vec!["m1".into()] }).await.unwrap();
        assert_eq!(pushes(&effects)[0].2, users(&["bob"]), "only bob's devices hear of it");
        let (page, _) =
            pull(&ctx, &bob, PullReq { conv_id: c2c("alice"), after_seq: 0, up_to_seq: 0, limit: 10 }).await.unwrap();
        assert_eq!(page.msgs.iter().map(|m| m.msg_id.as_str()).collect::<Vec<_>>(), ["m2"]);
        assert_eq!((page.max_seq, page.covered_seq), (2, 2));
        let (cleared, _) = clear(&ctx, &bob, ClearReq { conv_id: c2c("alice") }).await.unwrap();
        assert_eq!(cleared.seq, 2);
        let (older, effects) =
            history(&ctx, &bob, HistoryReq { conv_id: c2c("alice"), before_seq: 0, limit: 10 }).await.unwrap();
        assert!(older.msgs.is_empty() && older.reached_start && effects.is_empty());
        let (alices, _) =
            history(&ctx, &Caller::new("alice"), HistoryReq { conv_id: c2c("bob"), before_seq: 0, limit: 10 })
                .await
                .unwrap();
        assert_eq!(alices.msgs.len(), 2, "alice keeps hers");
        let (synced, _) = sync(&ctx, &bob, SyncReq { since: 0, limit: 100 }).await.unwrap();
        assert!(synced.convs.iter().any(|c| c.conv_id == c2c("alice")) && !synced.has_more);
    }
}
