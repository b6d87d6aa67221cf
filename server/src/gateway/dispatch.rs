//! The table of operations: which handler serves each, and how the gateway runs it
//! ([`Order`]).

use oxim_proto::{FrameType, InFrame, OutFrame, PROTOCOL_VERSION, code, op};

use super::{Conn, Order, Request, bad_body, sign_in_effects};
use crate::domain::refusal::Refusal;
use crate::handlers::{Guest, auth, conversations, friendship, groups, messaging, offline_push, profiles, signaling};

/// Parses the body, requires a signed-in caller and runs `handler` as `order` says. The body is
/// parsed into a box that the handler's future takes over, so the future (which a write keeps
/// until its commit) holds the request once.
macro_rules! serve {
    ($conn:expr, $frame:expr, $order:expr, $handler:path) => {{
        let id = $frame.id;
        match $frame.body() {
            Err(e) => $conn.refuse(id, &bad_body(e)).await,
            Ok(req) => match $conn.caller() {
                Err(refusal) => $conn.refuse(id, &refusal).await,
                Ok(caller) => {
                    let req: Box<_> = req;
                    let (ctx, number) = $conn.next_ctx();
                    let outbox = $conn.outbox();
                    let request: Request = Box::pin(async move {
                        let outcome = match $handler(&ctx, &caller, *req).await {
                            Ok((res, effects)) => Ok((OutFrame::ok(id, &res).to_json(), effects)),
                            Err(refusal) => Err(refusal),
                        };
                        outbox.finish(id, outcome).await;
                    });
                    $conn.run($order, number, request).await
                }
            },
        }
    }};
}

/// Handles one text frame of `conn`.
pub(super) async fn dispatch(conn: &mut Conn, text: &str) {
    let frame = match InFrame::parse(text) {
        Ok(frame) => frame,
        Err(e) => {
            tracing::debug!(conn = conn.id, "unparsable frame: {e}");
            // A request whose id can still be read gets its answer: the client stops waiting.
            if let Some(id) = readable_request_id(text) {
                let refusal = Refusal::new(code::INVALID_PARAMETERS, format!("malformed request frame: {e}"));
                conn.refuse(id, &refusal).await;
            }
            return;
        }
    };
    if frame.t != FrameType::Request {
        return;
    }
    if frame.v != PROTOCOL_VERSION {
        let refusal = Refusal::new(code::INVALID_PARAMETERS, format!("protocol version {} not supported", frame.v));
        return conn.refuse(frame.id, &refusal).await;
    }
    use Order::{Read, Write};
    match frame.op.as_ref() {
        op::LOGIN => login(conn, &frame).await,
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
        }
        op::MSG_SEND => serve!(conn, frame, Write, messaging::send),
        op::MSG_REVOKE => serve!(conn, frame, Write, messaging::revoke),
        op::MSG_READ => serve!(conn, frame, Write, messaging::read),
        op::MSG_DELETE => serve!(conn, frame, Write, messaging::delete),
        op::MSG_CLEAR => serve!(conn, frame, Write, messaging::clear),
        op::SYNC => serve!(conn, frame, Read, messaging::sync),
        op::MSG_PULL => serve!(conn, frame, Read, messaging::pull),
        op::MSG_HISTORY => serve!(conn, frame, Read, messaging::history),
        op::CONV_UNREAD => serve!(conn, frame, Read, conversations::unread),
        op::CONV_DELETE => serve!(conn, frame, Write, conversations::delete),
        op::CONV_PIN => serve!(conn, frame, Write, conversations::pin),
        op::CONV_C2C_RECV_OPT_SET => serve!(conn, frame, Write, conversations::set_c2c_recv_opt),
        op::CONV_C2C_RECV_OPT_GET => serve!(conn, frame, Read, conversations::get_c2c_recv_opt),
        op::SIGNAL_INVITE => serve!(conn, frame, Write, signaling::invite),
        op::SIGNAL_ACCEPT => serve!(conn, frame, Write, signaling::accept),
        op::SIGNAL_REJECT => serve!(conn, frame, Write, signaling::reject),
        op::SIGNAL_CANCEL => serve!(conn, frame, Write, signaling::cancel),
        op::SIGNAL_GET => serve!(conn, frame, Read, signaling::get),
        op::GROUP_CREATE => serve!(conn, frame, Write, groups::create),
        op::GROUP_JOIN => serve!(conn, frame, Write, groups::join),
        op::GROUP_QUIT => serve!(conn, frame, Write, groups::quit),
        op::GROUP_DISMISS => serve!(conn, frame, Write, groups::dismiss),
        op::GROUP_INFO => serve!(conn, frame, Read, groups::info),
        op::GROUP_JOINED => serve!(conn, frame, Read, groups::joined),
        op::GROUP_SET_INFO => serve!(conn, frame, Write, groups::set_info),
        op::GROUP_MEMBERS => serve!(conn, frame, Read, groups::members),
        op::GROUP_MEMBERS_INFO => serve!(conn, frame, Read, groups::members_info),
        op::GROUP_SET_MEMBER => serve!(conn, frame, Write, groups::set_member),
        op::GROUP_MUTE => serve!(conn, frame, Write, groups::mute),
        op::GROUP_INVITE => serve!(conn, frame, Write, groups::invite),
        op::GROUP_KICK => serve!(conn, frame, Write, groups::kick),
        op::GROUP_SET_ROLE => serve!(conn, frame, Write, groups::set_role),
        op::GROUP_TRANSFER => serve!(conn, frame, Write, groups::transfer),
        op::GROUP_APPLICATIONS => serve!(conn, frame, Read, groups::applications),
        op::GROUP_HANDLE_APPLICATION => serve!(conn, frame, Write, groups::handle_application),
        op::GROUP_APPLICATIONS_READ => serve!(conn, frame, Write, groups::applications_read),
        op::GROUP_RECV_OPT => serve!(conn, frame, Write, groups::recv_opt),
        op::GROUP_ONLINE_COUNT => serve!(conn, frame, Read, groups::online_count),
        op::GROUP_ATTRS_GET => serve!(conn, frame, Read, groups::attrs_get),
        op::GROUP_ATTRS_WRITE => serve!(conn, frame, Write, groups::attrs_write),
        op::PROFILE_GET => serve!(conn, frame, Read, profiles::get),
        op::PROFILE_SET => serve!(conn, frame, Write, profiles::set),
        op::FRIEND_LIST => serve!(conn, frame, Read, friendship::list),
        op::FRIEND_INFO => serve!(conn, frame, Read, friendship::info),
        op::FRIEND_SET_INFO => serve!(conn, frame, Write, friendship::set_info),
        op::FRIEND_ADD => serve!(conn, frame, Write, friendship::add),
        op::FRIEND_DELETE => serve!(conn, frame, Write, friendship::delete),
        op::FRIEND_CHECK => serve!(conn, frame, Read, friendship::check),
        op::FRIEND_APPS => serve!(conn, frame, Read, friendship::applications),
        op::FRIEND_APP_ACCEPT => serve!(conn, frame, Write, friendship::accept),
        op::FRIEND_APP_REFUSE => serve!(conn, frame, Write, friendship::refuse),
        op::FRIEND_APP_DELETE => serve!(conn, frame, Write, friendship::delete_application),
        op::FRIEND_APPS_READ => serve!(conn, frame, Write, friendship::read_applications),
        op::BLACK_ADD => serve!(conn, frame, Write, friendship::block),
        op::BLACK_DELETE => serve!(conn, frame, Write, friendship::unblock),
        op::BLACK_LIST => serve!(conn, frame, Read, friendship::blacklist),
        op::FGROUP_CREATE => serve!(conn, frame, Write, friendship::create_group),
        op::FGROUP_GET => serve!(conn, frame, Read, friendship::groups),
        op::FGROUP_DELETE => serve!(conn, frame, Write, friendship::delete_groups),
        op::FGROUP_RENAME => serve!(conn, frame, Write, friendship::rename_group),
        op::FGROUP_ADD => serve!(conn, frame, Write, friendship::add_to_group),
        op::FGROUP_REMOVE => serve!(conn, frame, Write, friendship::remove_from_group),
        op::PUSH_CONFIG => serve!(conn, frame, Write, offline_push::config),
        op::PUSH_BACKGROUND => serve!(conn, frame, Write, offline_push::background),
        op::PUSH_FOREGROUND => serve!(conn, frame, Write, offline_push::foreground),
        other => {
            let refusal = Refusal::new(code::INVALID_PARAMETERS, format!("unknown operation {other:?}"));
            conn.refuse(frame.id, &refusal).await
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

/// `login` runs to its end here: the connection's next request must see the sign-in.
async fn login(conn: &mut Conn, frame: &InFrame<'_>) {
    let req = match frame.body() {
        Ok(req) => req,
        Err(e) => return conn.refuse(frame.id, &bad_body(e)).await,
    };
    let (ctx, _) = conn.next_ctx();
    match Box::pin(auth::login(&ctx, &Guest, req)).await {
        Ok((res, effects)) => {
            let effects = sign_in_effects(conn, effects);
            super::deliver(&conn.app, effects, Some(conn.id));
            conn.send(OutFrame::ok(frame.id, &res).to_json()).await;
        }
        Err(refusal) => conn.refuse(frame.id, &refusal).await,
    }
}
