//! Conversation requests (`conv.*`): unread counts of ranges, deleting and pinning a
//! conversation, C2C receive options. Changes become events in the user's own stream, so every
//! device of the user applies them exactly once.

use oxim_proto::code;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::payload::{
    C2CRecvOptGetReq, C2CRecvOptReq, C2CRecvOptRes, ConvReq, MAX_PAGE, MAX_RECV_OPT_USERS, PinReq, UnreadReq, UnreadRes,
};

use super::{Caller, Ctx, Reply, appended_pushes, check_conv, refusal};
use crate::domain::refusal::Refusal;

/// Handles `conv.unread`.
pub async fn unread(ctx: &Ctx, caller: &Caller, req: UnreadReq) -> Reply<UnreadRes> {
    if req.ranges.is_empty() || req.ranges.len() > MAX_PAGE as usize {
        return Err(Refusal::new(code::INVALID_PARAMETERS, format!("ask for 1 to {MAX_PAGE} ranges")));
    }
    for r in &req.ranges {
        check_conv(&r.conv_id)?;
    }
    let counts = ctx.store.unread_counts(&caller.user, req.ranges).await.map_err(refusal)?;
    Ok((UnreadRes { counts }, Vec::new()))
}

/// Handles `conv.delete`.
pub async fn delete(ctx: &Ctx, caller: &Caller, req: ConvReq) -> Reply<serde_json::Value> {
    check_conv(&req.conv_id)?;
    let written = ctx.write(|s| s.delete_conversation(&caller.user, &req.conv_id)).await.map_err(refusal)?;
    Ok((serde_json::json!({}), appended_pushes(written.appended, false)))
}

/// Handles `conv.pin`.
pub async fn pin(ctx: &Ctx, caller: &Caller, req: PinReq) -> Reply<serde_json::Value> {
    check_conv(&req.conv_id)?;
    let written = ctx.write(|s| s.pin_conversation(&caller.user, &req.conv_id, req.pinned)).await.map_err(refusal)?;
    Ok((serde_json::json!({}), appended_pushes(written.appended, false)))
}

fn check_peers(peers: &[String]) -> Result<(), Refusal> {
    if peers.is_empty() || peers.len() > MAX_RECV_OPT_USERS {
        return Err(Refusal::new(code::INVALID_PARAMETERS, format!("name 1 to {MAX_RECV_OPT_USERS} users")));
    }
    if let Some(bad) = peers.iter().find(|p| !is_valid_user_id(p)) {
        return Err(Refusal::new(code::INVALID_PARAMETERS, format!("{bad:?} is not a valid userID")));
    }
    Ok(())
}

/// Handles `conv.c2c_recv_opt.set`.
pub async fn set_c2c_recv_opt(ctx: &Ctx, caller: &Caller, req: C2CRecvOptReq) -> Reply<serde_json::Value> {
    check_peers(&req.user_ids)?;
    if !(0..=2).contains(&req.opt) {
        return Err(Refusal::new(code::INVALID_PARAMETERS, "the receive option must be 0, 1 or 2"));
    }
    let written = ctx.write(|s| s.set_c2c_recv_opt(&caller.user, req.user_ids, req.opt)).await.map_err(refusal)?;
    Ok((serde_json::json!({}), appended_pushes(written.appended, false)))
}

/// Handles `conv.c2c_recv_opt.get`.
pub async fn get_c2c_recv_opt(ctx: &Ctx, caller: &Caller, req: C2CRecvOptGetReq) -> Reply<C2CRecvOptRes> {
    check_peers(&req.user_ids)?;
    let opts = ctx.store.c2c_recv_opts(&caller.user, req.user_ids).await.map_err(refusal)?;
    Ok((C2CRecvOptRes { opts }, Vec::new()))
}

#[cfg(test)]
mod tests {
    use oxim_proto::ids::ConvId;
    use oxim_proto::message::Elem;
    use oxim_proto::payload::{SendMsgReq, SeqRange, WireMessage};

    use super::*;
    use crate::handlers::messaging;
    use crate::handlers::testing::{Bench, pushes, users};

    async fn chat(bench: &Bench) {
        bench.users(&["alice", "bob"]).await;
        let mut msg = WireMessage::new("m1", Elem::Text { text: "hi".into() });
        msg.receiver = "bob".into();
        messaging::send(&bench.ctx(), &Caller::new("alice"), SendMsgReq { msg }).await.unwrap();
    }

    #[tokio::test]
    async fn pins_and_deletions_are_told_to_the_users_other_devices_once() {
        let bench = Bench::new().await;
        chat(&bench).await;
        let (ctx, bob) = (bench.ctx(), Caller::new("bob"));
        let alice = ConvId::C2C("alice".into());
        let (_, effects) = pin(&ctx, &bob, PinReq { conv_id: alice.clone(), pinned: true }).await.unwrap();
        assert_eq!(pushes(&effects).len(), 1);
        assert_eq!(pushes(&effects)[0].2, users(&["bob"]));
        let (_, effects) = pin(&ctx, &bob, PinReq { conv_id: alice.clone(), pinned: true }).await.unwrap();
        assert!(effects.is_empty(), "already pinned: nothing to tell");
        let unknown = pin(&ctx, &bob, PinReq { conv_id: ConvId::C2C("carol".into()), pinned: true }).await;
        assert_eq!(unknown.unwrap_err().code, code::INVALID_CONVERSATION);
        let (_, effects) = delete(&ctx, &bob, ConvReq { conv_id: alice.clone() }).await.unwrap();
        assert_eq!(pushes(&effects)[0].2, users(&["bob"]));
        assert_eq!(
            delete(&ctx, &bob, ConvReq { conv_id: ConvId::System }).await.unwrap_err().code,
            code::INVALID_CONVERSATION
        );
    }

    #[tokio::test]
    async fn unread_counts_and_receive_options_check_their_input() {
        let bench = Bench::new().await;
        chat(&bench).await;
        let (ctx, bob) = (bench.ctx(), Caller::new("bob"));
        let range =
            |after, up_to| SeqRange { conv_id: ConvId::C2C("alice".into()), after_seq: after, up_to_seq: up_to };
        let (res, effects) = unread(&ctx, &bob, UnreadReq { ranges: vec![range(0, 1), range(1, 1)] }).await.unwrap();
        assert_eq!((res.counts, effects.len()), (vec![1, 0], 0));
        assert_eq!(unread(&ctx, &bob, UnreadReq { ranges: vec![] }).await.unwrap_err().code, code::INVALID_PARAMETERS);
        let set = |users: Vec<String>, opt| C2CRecvOptReq { user_ids: users, opt };
        assert_eq!(set_c2c_recv_opt(&ctx, &bob, set(vec!["alice".into()], 3)).await.unwrap_err().code, 6017);
        assert_eq!(set_c2c_recv_opt(&ctx, &bob, set(vec![], 1)).await.unwrap_err().code, 6017);
        assert_eq!(set_c2c_recv_opt(&ctx, &bob, set(vec!["a b".into()], 1)).await.unwrap_err().code, 6017);
        let (_, effects) = set_c2c_recv_opt(&ctx, &bob, set(vec!["alice".into()], 1)).await.unwrap();
        assert_eq!(pushes(&effects)[0].2, users(&["bob"]));
        let (opts, _) =
            get_c2c_recv_opt(&ctx, &bob, C2CRecvOptGetReq { user_ids: vec!["alice".into()] }).await.unwrap();
        assert_eq!(opts.opts[0].opt, 1);
    }
}
