//! Listener traits, with V2TIM's callbacks. Every method has an empty default so an app
//! implements only what it needs. They are called on the SDK's event thread, one at a time,
//! in the order things happened; never with an SDK lock held.

use crate::types::UserInfo;

/// `V2TIMSDKListener`: connection and login state.
pub trait SdkListener: Send + Sync {
    /// Connecting to the server.
    fn on_connecting(&self) {}
    /// Connected (and, when a user is logged in, logged in again).
    fn on_connect_success(&self) {}
    /// A connection attempt failed; the SDK retries by itself.
    fn on_connect_failed(&self, _code: i32, _error: String) {}
    /// Another login of this user on the same platform took over; log in again to take it back.
    fn on_kicked_offline(&self) {}
    /// The UserSig expired; log in again with a new one.
    fn on_user_sig_expired(&self) {}
    /// The logged-in user's profile changed.
    fn on_self_info_updated(&self, _info: UserInfo) {}
}

/// `V2TIMSimpleMsgListener`: text and custom messages only.
pub trait SimpleMsgListener: Send + Sync {
    /// A C2C text message.
    fn on_recv_c2c_text_message(&self, _msg_id: String, _sender: UserInfo, _text: String) {}
    /// A C2C custom message.
    fn on_recv_c2c_custom_message(&self, _msg_id: String, _sender: UserInfo, _data: Vec<u8>) {}
}
