//! Foreign listeners (UDL callback interfaces) adapted to the core's listener traits.

use oxim_core as core;

use crate::convert::{V2TIMMessage, V2TIMMessageReceipt, V2TIMUserFullInfo, V2TIMUserInfo};
use crate::group_manager::V2TIMGroupMemberInfo;

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
    /// Group text.
    fn on_recv_group_text_message(&self, msg_id: String, group_id: String, sender: V2TIMGroupMemberInfo, text: String);
    /// Group custom data.
    fn on_recv_group_custom_message(
        &self,
        msg_id: String,
        group_id: String,
        sender: V2TIMGroupMemberInfo,
        custom_data: Vec<u8>,
    );
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
    fn on_recv_group_text_message(
        &self,
        msg_id: String,
        group_id: String,
        sender: core::group::GroupMemberInfo,
        text: String,
    ) {
        self.0.on_recv_group_text_message(msg_id, group_id, sender.into(), text)
    }
    fn on_recv_group_custom_message(
        &self,
        msg_id: String,
        group_id: String,
        sender: core::group::GroupMemberInfo,
        data: Vec<u8>,
    ) {
        self.0.on_recv_group_custom_message(msg_id, group_id, sender.into(), data)
    }
}

/// `V2TIMAdvancedMsgListener`, implemented by the app.
pub trait V2TIMAdvancedMsgListener: Send + Sync {
    /// A new message.
    fn on_recv_new_message(&self, msg: V2TIMMessage);
    /// Several new messages in one crossing (the bindings' listener classes call
    /// `on_recv_new_message` for each).
    fn on_recv_new_messages(&self, msg_list: Vec<V2TIMMessage>);
    /// C2C read receipts.
    fn on_recv_c2c_read_receipt(&self, receipt_list: Vec<V2TIMMessageReceipt>);
    /// A revoked message.
    fn on_recv_message_revoked(&self, msg_id: String);
}

/// Upload progress of a send.
pub trait V2TIMSendCallback: Send + Sync {
    /// 0-100.
    fn on_progress(&self, progress: i32);
}

/// Download progress.
pub trait V2TIMDownloadCallback: Send + Sync {
    /// Bytes so far and in all.
    fn on_progress(&self, current_size: i64, total_size: i64);
}

/// A foreign `V2TIMAdvancedMsgListener` as a core listener.
pub(crate) struct AdvancedMsgListenerAdapter(pub Box<dyn V2TIMAdvancedMsgListener>);

impl core::AdvancedMsgListener for AdvancedMsgListenerAdapter {
    fn on_recv_new_message(&self, msg: core::Message) {
        self.0.on_recv_new_message(msg.into())
    }
    fn on_recv_new_messages(&self, msgs: Vec<core::Message>) {
        self.0.on_recv_new_messages(msgs.into_iter().map(Into::into).collect())
    }
    fn on_recv_c2c_read_receipt(&self, receipts: Vec<core::MessageReceipt>) {
        self.0.on_recv_c2c_read_receipt(receipts.into_iter().map(Into::into).collect())
    }
    fn on_recv_message_revoked(&self, msg_id: String) {
        self.0.on_recv_message_revoked(msg_id)
    }
}

/// `V2TIMSignalingListener`, implemented by the app.
pub trait V2TIMSignalingListener: Send + Sync {
    /// A new invitation.
    fn on_receive_new_invitation(
        &self,
        invite_id: String,
        inviter: String,
        group_id: String,
        invitee_list: Vec<String>,
        data: String,
    );
    /// An invitee accepted.
    fn on_invitee_accepted(&self, invite_id: String, invitee: String, data: String);
    /// An invitee rejected.
    fn on_invitee_rejected(&self, invite_id: String, invitee: String, data: String);
    /// The inviter cancelled.
    fn on_invitation_cancelled(&self, invite_id: String, inviter: String, data: String);
    /// Invitees did not answer in time.
    fn on_invitation_timeout(&self, invite_id: String, invitee_list: Vec<String>);
}

/// A foreign `V2TIMSignalingListener` as a core listener.
pub(crate) struct SignalingListenerAdapter(pub Box<dyn V2TIMSignalingListener>);

impl core::SignalingListener for SignalingListenerAdapter {
    fn on_receive_new_invitation(
        &self,
        invite_id: String,
        inviter: String,
        group_id: String,
        invitee_list: Vec<String>,
        data: String,
    ) {
        self.0.on_receive_new_invitation(invite_id, inviter, group_id, invitee_list, data)
    }
    fn on_invitee_accepted(&self, invite_id: String, invitee: String, data: String) {
        self.0.on_invitee_accepted(invite_id, invitee, data)
    }
    fn on_invitee_rejected(&self, invite_id: String, invitee: String, data: String) {
        self.0.on_invitee_rejected(invite_id, invitee, data)
    }
    fn on_invitation_cancelled(&self, invite_id: String, inviter: String, data: String) {
        self.0.on_invitation_cancelled(invite_id, inviter, data)
    }
    fn on_invitation_timeout(&self, invite_id: String, invitee_list: Vec<String>) {
        self.0.on_invitation_timeout(invite_id, invitee_list)
    }
}
