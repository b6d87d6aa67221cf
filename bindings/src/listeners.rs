//! Foreign listeners (UDL callback interfaces) adapted to the core's listener traits.

use oxim_core as core;

use crate::convert::{V2TIMUserFullInfo, V2TIMUserInfo};

/// `V2TIMSDKListener`, implemented by the app.
pub trait V2TIMSDKListener: Send + Sync {
    /// Connecting.
    fn on_connecting(&self);
    /// Connected.
    fn on_connect_success(&self);
    /// Connecting failed.
    fn on_connect_failed(&self, code: i32, error: String);
    /// Kicked by another login.
    fn on_kicked_offline(&self);
    /// UserSig expired.
    fn on_user_sig_expired(&self);
    /// Own profile changed.
    fn on_self_info_updated(&self, info: V2TIMUserFullInfo);
}

/// `V2TIMSimpleMsgListener`, implemented by the app.
pub trait V2TIMSimpleMsgListener: Send + Sync {
    /// C2C text.
    fn on_recv_c2c_text_message(&self, msg_id: String, sender: V2TIMUserInfo, text: String);
    /// C2C custom data.
    fn on_recv_c2c_custom_message(&self, msg_id: String, sender: V2TIMUserInfo, custom_data: Vec<u8>);
}

/// A foreign `V2TIMSDKListener` as a core listener.
pub(crate) struct SdkListenerAdapter(pub Box<dyn V2TIMSDKListener>);

impl core::SdkListener for SdkListenerAdapter {
    fn on_connecting(&self) {
        self.0.on_connecting()
    }
    fn on_connect_success(&self) {
        self.0.on_connect_success()
    }
    fn on_connect_failed(&self, code: i32, error: String) {
        self.0.on_connect_failed(code, error)
    }
    fn on_kicked_offline(&self) {
        self.0.on_kicked_offline()
    }
    fn on_user_sig_expired(&self) {
        self.0.on_user_sig_expired()
    }
    fn on_self_info_updated(&self, info: core::UserInfo) {
        self.0.on_self_info_updated(info.into())
    }
}

/// A foreign `V2TIMSimpleMsgListener` as a core listener.
pub(crate) struct SimpleMsgListenerAdapter(pub Box<dyn V2TIMSimpleMsgListener>);

impl core::SimpleMsgListener for SimpleMsgListenerAdapter {
    fn on_recv_c2c_text_message(&self, msg_id: String, sender: core::UserInfo, text: String) {
        self.0.on_recv_c2c_text_message(msg_id, sender.into(), text)
    }
    fn on_recv_c2c_custom_message(&self, msg_id: String, sender: core::UserInfo, data: Vec<u8>) {
        self.0.on_recv_c2c_custom_message(msg_id, sender.into(), data)
    }
}
