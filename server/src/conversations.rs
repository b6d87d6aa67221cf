//! Conversation requests (`conv.*`): unread counts of ranges, deleting and pinning a
//! conversation, C2C receive options. Changes become events in the user's own stream, so every
//! device of the user applies them exactly once.

use oxim_proto::code;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::payload::{
    C2CRecvOptGetReq, C2CRecvOptReq, C2CRecvOptRes, ConvReq, MAX_PAGE, MAX_RECV_OPT_USERS, PinReq, UnreadReq, UnreadRes,
};

use crate::gateway::{Conn, Refusal};
use crate::messaging::{answer_read, check_conv, finish, refusal, user_or_refuse};
use crate::store::Written;

/// Handles `conv.unread`.
pub fn unread(conn: &mut Conn, id: u64, req: UnreadReq) {
    answer_read(conn, id, move |app, user| async move {
        if req.ranges.is_empty() || req.ranges.len() > MAX_PAGE as usize {
            return Err(Refusal::new(code::INVALID_PARAMETERS, format!("ask for 1 to {MAX_PAGE} ranges")));
        }
        for r in &req.ranges {
            check_conv(&r.conv_id)?;
        }
        let counts = app.store.unread_counts(&user, req.ranges).await.map_err(refusal)?;
        Ok(UnreadRes { counts })
    });
}

/// Handles `conv.delete`.
pub async fn delete(conn: &mut Conn, id: u64, req: ConvReq) {
    let Some(user) = user_or_refuse(conn, id).await else { return };
    if let Err(r) = check_conv(&req.conv_id) {
        return conn.out.refuse(id, &r).await;
    }
    let queued = conn.app.store.delete_conversation(&user, &req.conv_id);
    finish(conn, id, queued, |_: &Written| serde_json::json!({}));
}

/// Handles `conv.pin`.
pub async fn pin(conn: &mut Conn, id: u64, req: PinReq) {
    let Some(user) = user_or_refuse(conn, id).await else { return };
    if let Err(r) = check_conv(&req.conv_id) {
        return conn.out.refuse(id, &r).await;
    }
    let queued = conn.app.store.pin_conversation(&user, &req.conv_id, req.pinned);
    finish(conn, id, queued, |_: &Written| serde_json::json!({}));
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
pub async fn set_c2c_recv_opt(conn: &mut Conn, id: u64, req: C2CRecvOptReq) {
    let Some(user) = user_or_refuse(conn, id).await else { return };
    let checked = check_peers(&req.user_ids).and_then(|_| {
        if (0..=2).contains(&req.opt) {
            Ok(())
        } else {
            Err(Refusal::new(code::INVALID_PARAMETERS, "the receive option must be 0, 1 or 2"))
        }
    });
    if let Err(r) = checked {
        return conn.out.refuse(id, &r).await;
    }
    let queued = conn.app.store.set_c2c_recv_opt(&user, req.user_ids, req.opt);
    finish(conn, id, queued, |_: &Written| serde_json::json!({}));
}

/// Handles `conv.c2c_recv_opt.get`.
pub fn get_c2c_recv_opt(conn: &mut Conn, id: u64, req: C2CRecvOptGetReq) {
    answer_read(conn, id, move |app, user| async move {
        check_peers(&req.user_ids)?;
        let opts = app.store.c2c_recv_opts(&user, req.user_ids).await.map_err(refusal)?;
        Ok(C2CRecvOptRes { opts })
    });
}
