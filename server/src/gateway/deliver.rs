//! Carrying out the effects handlers return (all but signing in, which is the connection's).

use axum::extract::ws::Utf8Bytes;
use oxim_proto::OutFrame;

use crate::app::App;
use crate::handlers::{Effect, Effects, PushBody};

/// Carries out `effects` of a request from connection `origin` (`None`: from the server
/// itself, such as the invitation timer): pushes go to the online sessions of their users (each
/// frame serialised once), deadlines to the timer.
pub fn deliver(app: &App, effects: Effects, origin: Option<u64>) {
    for effect in effects {
        match effect {
            Effect::Push(push) => {
                let frame: Utf8Bytes = OutFrame::push(push.event, &push.body).to_json().into();
                let except = if push.to_caller { None } else { origin };
                for user in &push.to {
                    app.sessions.deliver(user, &frame, except);
                }
                // Devices offline or in the background hear of a new message by offline push.
                if let (Some(pusher), PushBody::Msg(msg)) = (&app.pusher, &push.body)
                    && push.event == oxim_proto::push::MSG
                {
                    pusher.after_delivery(msg, &push.to);
                }
            }
            Effect::Deadline { invite_id, at_ms } => app.deadlines.schedule(&invite_id, at_ms),
            Effect::SignIn(_) => tracing::error!("a sign-in is carried out by its connection, not delivered"),
        }
    }
}
