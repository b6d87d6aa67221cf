//! The table of operations: which handler serves each, and how the gateway runs it
//! ([`Order`]).

use oxim_proto::frame::NoBody;
use oxim_proto::{FrameType, InFrame, OutFrame, PROTOCOL_VERSION, code, op};

use super::limits::Slot;
use super::{Busy, Conn, Order, Request, bad_body};
use crate::domain::refusal::Refusal;
use crate::handlers::{Guest, auth, conversations, friendship, groups, messaging, offline_push, profiles, signaling};

/// Parses the body, requires a signed-in caller and runs `handler` as `order` says. The body is
/// parsed into a box that the handler's future takes over, so the future (which a write keeps
/// until its commit) holds the request once. The future holds `$slot` until it has answered.
macro_rules! serve {
    ($conn:expr, $frame:expr, $slot:expr, $order:expr, $handler:path) => {{
        let id = $frame.id;
        match $frame.body() {
            Err(e) => {
                $conn.refuse(id, &bad_body(e)).await;
                None
            }
            Ok(req) => match $conn.caller() {
                Err(refusal) => {
                    $conn.refuse(id, &refusal).await;
                    None
                }
                Ok(caller) => {
                    let req: Box<_> = req;
                    let (ctx, number) = $conn.next_ctx();
                    let outbox = $conn.outbox();
                    let slot = $slot;
                    let request: Request = Box::pin(async move {
                        let outcome = match $handler(&ctx, &caller, *req).await {
                            Ok((res, effects)) => Ok((OutFrame::ok(id, &res).to_json(), effects)),
                            Err(refusal) => Err(refusal),
                        };
                        outbox.finish(id, outcome).await;
                        drop(slot);
                    });
                    $conn.run($order, number, request)
                }
            },
        }
    }};
}

/// Handles one text frame of `conn`; a request it runs holds `slot` until answered. Returns the
/// request the connection's next request must wait for, if any.
pub(super) async fn dispatch(conn: &mut Conn, text: &str, slot: Slot) -> Option<Busy> {
    let frame = match InFrame::parse(text) {
        Ok(frame) => frame,
        Err(e) => {
            tracing::debug!(conn = conn.id, "unparsable frame: {e}");
            // A request whose id can still be read gets its answer: the client stops waiting.
            if let Some(id) = readable_request_id(text) {
                let refusal = Refusal::new(code::INVALID_PARAMETERS, format!("malformed request frame: {e}"));
                conn.refuse(id, &refusal).await;
            }
            return None;
        }
    };
    if frame.t != FrameType::Request {
        return None;
    }
    if frame.v != PROTOCOL_VERSION {
        let refusal = Refusal::new(code::INVALID_PARAMETERS, format!("protocol version {} not supported", frame.v));
        conn.refuse(frame.id, &refusal).await;
        return None;
    }
    use Order::{Read, Write};
    match frame.op.as_ref() {
        op::LOGIN => login(conn, &frame, slot).await,
        op::LOGOUT => {
            // A device that logs out gets no offline push (V2TIM): forgotten before the answer.
            if let Ok(caller) = conn.caller() {
                let (ctx, _) = conn.next_ctx();
                if let Err(refusal) = offline_push::forget_device(&ctx, &caller).await {
                    tracing::warn!(user = %caller.user, "forgetting the push device at logout: {}", refusal.desc);
                }
            }
            conn.sign_out();
            conn.send(OutFrame::ok(frame.id, &serde_json::json!({})).to_json()).await;
            None
        }
        op::MSG_SEND => serve!(conn, frame, slot, Write, messaging::send),
        op::MSG_REVOKE => serve!(conn, frame, slot, Write, messaging::revoke),
        op::MSG_READ => serve!(conn, frame, slot, Write, messaging::read),
        op::MSG_DELETE => serve!(conn, frame, slot, Write, messaging::delete),
        op::MSG_CLEAR => serve!(conn, frame, slot, Write, messaging::clear),
        op::SYNC => serve!(conn, frame, slot, Read, messaging::sync),
        op::MSG_PULL => serve!(conn, frame, slot, Read, messaging::pull),
        op::MSG_HISTORY => serve!(conn, frame, slot, Read, messaging::history),
        op::CONV_UNREAD => serve!(conn, frame, slot, Read, conversations::unread),
        op::CONV_DELETE => serve!(conn, frame, slot, Write, conversations::delete),
        op::CONV_PIN => serve!(conn, frame, slot, Write, conversations::pin),
        op::CONV_C2C_RECV_OPT_SET => serve!(conn, frame, slot, Write, conversations::set_c2c_recv_opt),
        op::CONV_C2C_RECV_OPT_GET => serve!(conn, frame, slot, Read, conversations::get_c2c_recv_opt),
        op::SIGNAL_INVITE => serve!(conn, frame, slot, Write, signaling::invite),
        op::SIGNAL_ACCEPT => serve!(conn, frame, slot, Write, signaling::accept),
        op::SIGNAL_REJECT => serve!(conn, frame, slot, Write, signaling::reject),
        op::SIGNAL_CANCEL => serve!(conn, frame, slot, Write, signaling::cancel),
        op::SIGNAL_GET => serve!(conn, frame, slot, Read, signaling::get),
        op::GROUP_CREATE => serve!(conn, frame, slot, Write, groups::create),
        op::GROUP_JOIN => serve!(conn, frame, slot, Write, groups::join),
        op::GROUP_QUIT => serve!(conn, frame, slot, Write, groups::quit),
        op::GROUP_DISMISS => serve!(conn, frame, slot, Write, groups::dismiss),
        op::GROUP_INFO => serve!(conn, frame, slot, Read, groups::info),
        op::GROUP_JOINED => serve!(conn, frame, slot, Read, groups::joined),
        op::GROUP_SET_INFO => serve!(conn, frame, slot, Write, groups::set_info),
        op::GROUP_MEMBERS => serve!(conn, frame, slot, Read, groups::members),
        op::GROUP_MEMBERS_INFO => serve!(conn, frame, slot, Read, groups::members_info),
        op::GROUP_SET_MEMBER => serve!(conn, frame, slot, Write, groups::set_member),
        op::GROUP_MUTE => serve!(conn, frame, slot, Write, groups::mute),
        op::GROUP_INVITE => serve!(conn, frame, slot, Write, groups::invite),
        op::GROUP_KICK => serve!(conn, frame, slot, Write, groups::kick),
        op::GROUP_SET_ROLE => serve!(conn, frame, slot, Write, groups::set_role),
        op::GROUP_TRANSFER => serve!(conn, frame, slot, Write, groups::transfer),
        op::GROUP_APPLICATIONS => serve!(conn, frame, slot, Read, groups::applications),
        op::GROUP_HANDLE_APPLICATION => serve!(conn, frame, slot, Write, groups::handle_application),
        op::GROUP_APPLICATIONS_READ => serve!(conn, frame, slot, Write, groups::applications_read),
        op::GROUP_RECV_OPT => serve!(conn, frame, slot, Write, groups::recv_opt),
        op::GROUP_ONLINE_COUNT => serve!(conn, frame, slot, Read, groups::online_count),
        op::GROUP_ATTRS_GET => serve!(conn, frame, slot, Read, groups::attrs_get),
        op::GROUP_ATTRS_WRITE => serve!(conn, frame, slot, Write, groups::attrs_write),
        op::PROFILE_GET => serve!(conn, frame, slot, Read, profiles::get),
        op::PROFILE_SET => serve!(conn, frame, slot, Write, profiles::set),
        op::FRIEND_LIST => serve!(conn, frame, slot, Read, friendship::list),
        op::FRIEND_INFO => serve!(conn, frame, slot, Read, friendship::info),
        op::FRIEND_SET_INFO => serve!(conn, frame, slot, Write, friendship::set_info),
        op::FRIEND_ADD => serve!(conn, frame, slot, Write, friendship::add),
        op::FRIEND_DELETE => serve!(conn, frame, slot, Write, friendship::delete),
        op::FRIEND_CHECK => serve!(conn, frame, slot, Read, friendship::check),
        op::FRIEND_APPS => serve!(conn, frame, slot, Read, friendship::applications),
        op::FRIEND_APP_ACCEPT => serve!(conn, frame, slot, Write, friendship::accept),
        op::FRIEND_APP_REFUSE => serve!(conn, frame, slot, Write, friendship::refuse),
        op::FRIEND_APP_DELETE => serve!(conn, frame, slot, Write, friendship::delete_application),
        op::FRIEND_APPS_READ => serve!(conn, frame, slot, Write, friendship::read_applications),
        op::BLACK_ADD => serve!(conn, frame, slot, Write, friendship::block),
        op::BLACK_DELETE => serve!(conn, frame, slot, Write, friendship::unblock),
        op::BLACK_LIST => serve!(conn, frame, slot, Read, friendship::blacklist),
        op::FGROUP_CREATE => serve!(conn, frame, slot, Write, friendship::create_group),
        op::FGROUP_GET => serve!(conn, frame, slot, Read, friendship::groups),
        op::FGROUP_DELETE => serve!(conn, frame, slot, Write, friendship::delete_groups),
        op::FGROUP_RENAME => serve!(conn, frame, slot, Write, friendship::rename_group),
        op::FGROUP_ADD => serve!(conn, frame, slot, Write, friendship::add_to_group),
        op::FGROUP_REMOVE => serve!(conn, frame, slot, Write, friendship::remove_from_group),
        op::PUSH_CONFIG => serve!(conn, frame, slot, Write, offline_push::config),
        op::PUSH_BACKGROUND => serve!(conn, frame, slot, Write, offline_push::background),
        op::PUSH_FOREGROUND => serve!(conn, frame, slot, Write, offline_push::foreground),
        other => {
            let refusal = Refusal::new(code::INVALID_PARAMETERS, format!("unknown operation {other:?}"));
            conn.refuse(frame.id, &refusal).await;
            None
        }
    }
}

/// The id of a frame that is not a valid request but looks like one (an object with a numeric
/// `id`, and `t` absent or `"req"`).
fn readable_request_id(text: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Loose {
        t: Option<serde_json::Value>,
        id: Option<serde_json::Value>,
    }
    let loose: Loose = serde_json::from_str(text).ok()?;
    let is_request = loose.t.as_ref().is_none_or(|t| t == "req");
    loose.id.and_then(|id| id.as_u64()).filter(|id| is_request && *id > 0)
}

/// `login` runs to its end before the connection's next request (which must see the sign-in);
/// the reader loop carries out its sign-in. It holds `slot` until then.
async fn login(conn: &mut Conn, frame: &InFrame<'_>, slot: Slot) -> Option<Busy> {
    let req = match frame.body() {
        Ok(req) => req,
        Err(e) => {
            conn.refuse(frame.id, &bad_body(e)).await;
            return None;
        }
    };
    let (ctx, _) = conn.next_ctx();
    let id = frame.id;
    Some(Busy::Login(Box::pin(async move {
        let _slot = slot;
        match auth::login(&ctx, &Guest, req).await {
            Ok((res, effects)) => (OutFrame::ok(id, &res).to_json(), effects),
            Err(refusal) => (OutFrame::<NoBody>::error(id, refusal.code, &refusal.desc).to_json(), Vec::new()),
        }
    })))
}
