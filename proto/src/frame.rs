//! The frame envelope.
//!
//! Every WebSocket text message is one JSON object:
//!
//! ```json
//! {"v":1,"t":"req","id":7,"op":"msg.send","body":{...}}
//! {"v":1,"t":"res","id":7,"code":0,"desc":"","body":{...}}
//! {"v":1,"t":"push","op":"msg","body":{...}}
//! ```
//!
//! `body` is kept as raw JSON while the envelope is parsed, so a frame is decoded once, into the
//! typed payload its `op` names.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Version of the frame format. A peer that receives another version closes the connection.
pub const PROTOCOL_VERSION: u32 = 1;

/// WebSocket close code of a socket that did not log in within the server's login deadline. Not
/// a failure: the SDK stays disconnected, quietly, until the app logs in.
pub const CLOSE_LOGIN_DEADLINE: u16 = 4002;

/// What a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameType {
    /// A client request, answered by exactly one response with the same `id`.
    #[serde(rename = "req")]
    Request,
    /// The answer to a request.
    #[serde(rename = "res")]
    Response,
    /// A server-initiated event.
    #[serde(rename = "push")]
    Push,
}

/// A frame as received: the body stays unparsed until the receiver knows its type.
#[derive(Debug, Deserialize)]
pub struct InFrame<'a> {
    /// Frame format version, [`PROTOCOL_VERSION`].
    pub v: u32,
    /// Request, response or push.
    pub t: FrameType,
    /// Request id, echoed by the response. 0 on pushes.
    #[serde(default)]
    pub id: u64,
    /// Operation (requests) or event name (pushes).
    #[serde(default, borrow)]
    pub op: std::borrow::Cow<'a, str>,
    /// Response code: 0 on success, otherwise a V2TIM error code ([`crate::code`]).
    #[serde(default)]
    pub code: i32,
    /// Human-readable description of a non-zero `code`.
    #[serde(default)]
    pub desc: String,
    /// The payload.
    #[serde(default, borrow)]
    pub body: Option<&'a RawValue>,
}

impl<'a> InFrame<'a> {
    /// Parses one text frame.
    pub fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Decodes the body as `T`; a missing body decodes from `{}` so that bodies whose fields all
    /// have defaults may be omitted.
    pub fn body<T: Deserialize<'a>>(&self) -> Result<T, serde_json::Error> {
        match self.body {
            Some(raw) => serde_json::from_str(raw.get()),
            None => serde_json::from_str("{}"),
        }
    }
}

/// A frame to send, borrowing its body.
#[derive(Debug, Serialize)]
pub struct OutFrame<'a, B: Serialize> {
    v: u32,
    t: FrameType,
    #[serde(skip_serializing_if = "is_zero")]
    id: u64,
    #[serde(skip_serializing_if = "str::is_empty")]
    op: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<i32>,
    #[serde(skip_serializing_if = "str::is_empty")]
    desc: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a B>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Placeholder body type for frames without a body.
pub type NoBody = ();

impl<'a, B: Serialize> OutFrame<'a, B> {
    /// A request.
    pub fn request(id: u64, op: &'a str, body: &'a B) -> Self {
        OutFrame { v: PROTOCOL_VERSION, t: FrameType::Request, id, op, code: None, desc: "", body: Some(body) }
    }

    /// A successful response.
    pub fn ok(id: u64, body: &'a B) -> Self {
        OutFrame { v: PROTOCOL_VERSION, t: FrameType::Response, id, op: "", code: Some(0), desc: "", body: Some(body) }
    }

    /// A push.
    pub fn push(op: &'a str, body: &'a B) -> Self {
        OutFrame { v: PROTOCOL_VERSION, t: FrameType::Push, id: 0, op, code: None, desc: "", body: Some(body) }
    }

    /// Serialises the frame.
    pub fn to_json(&self) -> String {
        // Serialising plain data structs into a String cannot fail.
        serde_json::to_string(self).expect("frame serialisation")
    }
}

impl<'a> OutFrame<'a, NoBody> {
    /// A failed response.
    pub fn error(id: u64, code: i32, desc: &'a str) -> Self {
        OutFrame { v: PROTOCOL_VERSION, t: FrameType::Response, id, op: "", code: Some(code), desc, body: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::SendMsgRes;

    #[test]
    fn response_round_trip_keeps_body_typed() {
        let res = SendMsgRes { seq: 42, time_ms: 1_700_000_000_123 };
        let json = OutFrame::ok(7, &res).to_json();
        assert_eq!(json, r#"{"v":1,"t":"res","id":7,"code":0,"body":{"seq":42,"time_ms":1700000000123}}"#);
        let frame = InFrame::parse(&json).unwrap();
        assert_eq!(frame.t, FrameType::Response);
        assert_eq!(frame.id, 7);
        assert_eq!(frame.body::<SendMsgRes>().unwrap(), res);
    }

    #[test]
    fn error_response_has_code_and_desc_but_no_body() {
        let json = OutFrame::error(3, 6017, "bad").to_json();
        let frame = InFrame::parse(&json).unwrap();
        assert_eq!((frame.code, frame.desc.as_str()), (6017, "bad"));
        assert!(frame.body.is_none());
    }

    #[test]
    fn push_has_no_id() {
        let json = OutFrame::push("kicked", &crate::payload::KickedPush { platform: "ios".into() }).to_json();
        assert_eq!(json, r#"{"v":1,"t":"push","op":"kicked","body":{"platform":"ios"}}"#);
    }
}
