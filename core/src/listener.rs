//! Listener traits, with V2TIM's callbacks. Every method has an empty default so an app
//! implements only what it needs. They are called on the SDK's event thread, one at a time,
//! in the order things happened; never with an SDK lock held.

use std::collections::BTreeMap;

use crate::model::conversation::Conversation;
use crate::model::friendship::{FriendApplication, FriendInfo};
use crate::model::group::{GroupChange, GroupMemberInfo, MemberChange};
use crate::model::message::{Message, MessageReceipt, UserInfo};
use crate::model::profile::UserFullInfo;

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
    /// The logged-in user's profile changed (`setSelfInfo` on this or another device): the
    /// profile after the change.
    fn on_self_info_updated(&self, _info: UserFullInfo) {}
}

/// `V2TIMSimpleMsgListener`: text and custom messages only.
pub trait SimpleMsgListener: Send + Sync {
    /// A C2C text message.
    fn on_recv_c2c_text_message(&self, _msg_id: String, _sender: UserInfo, _text: String) {}
    /// A C2C custom message.
    fn on_recv_c2c_custom_message(&self, _msg_id: String, _sender: UserInfo, _data: Vec<u8>) {}
    /// A group text message.
    fn on_recv_group_text_message(&self, _msg_id: String, _group_id: String, _sender: GroupMemberInfo, _text: String) {}
    /// A group custom message.
    fn on_recv_group_custom_message(
        &self,
        _msg_id: String,
        _group_id: String,
        _sender: GroupMemberInfo,
        _data: Vec<u8>,
    ) {
    }
}

/// `V2TIMConversationListener`: the conversation list and its unread total.
///
/// Each change of a conversation is told once, with the conversation's state after it; changes
/// made in one step (a sync, a batch of pushes) come as one list.
pub trait ConversationListener: Send + Sync {
    /// Syncing with the server started (after login or a reconnect).
    fn on_sync_server_start(&self) {}
    /// Syncing finished: the list is complete.
    fn on_sync_server_finish(&self) {}
    /// Syncing failed; it is retried on the next connection.
    fn on_sync_server_failed(&self) {}
    /// Conversations entered the list.
    fn on_new_conversation(&self, _conversations: Vec<Conversation>) {}
    /// Conversations changed (a message, a read, a draft, a pin, ...).
    fn on_conversation_changed(&self, _conversations: Vec<Conversation>) {}
    /// The unread total (`getTotalUnreadMessageCount`) changed.
    fn on_total_unread_message_count_changed(&self, _total: u64) {}
}

/// `V2TIMGroupListener`: what happens in the user's groups. Who hears what follows V2TIM's
/// table (see `docs/compat.md`): member changes reach every member (the subject included),
/// applications reach the owner and administrators, results reach the applicant.
pub trait GroupListener: Send + Sync {
    /// Users joined (`joinGroup`, or an accepted application).
    fn on_member_enter(&self, _group_id: String, _members: Vec<GroupMemberInfo>) {}
    /// A member quit (to the other members).
    fn on_member_leave(&self, _group_id: String, _member: GroupMemberInfo) {}
    /// Users were pulled in (Work groups).
    fn on_member_invited(&self, _group_id: String, _op_user: GroupMemberInfo, _members: Vec<GroupMemberInfo>) {}
    /// Members were kicked (the kicked hear it too).
    fn on_member_kicked(&self, _group_id: String, _op_user: GroupMemberInfo, _members: Vec<GroupMemberInfo>) {}
    /// Members' mutes changed.
    fn on_member_info_changed(&self, _group_id: String, _changes: Vec<MemberChange>) {}
    /// The user created a group (on any of their devices).
    fn on_group_created(&self, _group_id: String) {}
    /// A group the user was in was dismissed.
    fn on_group_dismissed(&self, _group_id: String, _op_user: GroupMemberInfo) {}
    /// A group was recycled by the service (Oxim never recycles groups; kept for V2TIM parity).
    fn on_group_recycled(&self, _group_id: String, _op_user: GroupMemberInfo) {}
    /// The profile changed (name, notification, owner, custom fields, ...).
    fn on_group_info_changed(&self, _group_id: String, _changes: Vec<GroupChange>) {}
    /// Someone applied to join a group the user manages.
    fn on_receive_join_application(&self, _group_id: String, _member: GroupMemberInfo, _reason: String) {}
    /// The user's application was accepted or refused.
    fn on_application_processed(&self, _group_id: String, _op_user: GroupMemberInfo, _agreed: bool, _reason: String) {}
    /// Members became administrators.
    fn on_grant_administrator(&self, _group_id: String, _op_user: GroupMemberInfo, _members: Vec<GroupMemberInfo>) {}
    /// Members stopped being administrators.
    fn on_revoke_administrator(&self, _group_id: String, _op_user: GroupMemberInfo, _members: Vec<GroupMemberInfo>) {}
    /// The user quit a group (on any of their devices).
    fn on_quit_from_group(&self, _group_id: String) {}
    /// The group's attributes changed: the complete map.
    fn on_group_attribute_changed(&self, _group_id: String, _attributes: BTreeMap<String, String>) {}
}

/// `V2TIMAdvancedMsgListener`: every message, plus receipts and revokes.
///
/// When at least one advanced listener is registered, text and custom messages go to the
/// advanced listeners only, so an app that registers both kinds does not see them twice.
pub trait AdvancedMsgListener: Send + Sync {
    /// A new message (from another user, or the user's own from another device).
    fn on_recv_new_message(&self, _msg: Message) {}
    /// Several new messages at once, in order (a burst: a sync catching up after a reconnect).
    /// The default calls [`on_recv_new_message`](Self::on_recv_new_message) for each; the FFI
    /// takes the list across in one call and the bindings do the same on their side.
    fn on_recv_new_messages(&self, msgs: Vec<Message>) {
        for msg in msgs {
            self.on_recv_new_message(msg);
        }
    }
    /// The peer read my C2C messages.
    fn on_recv_c2c_read_receipt(&self, _receipts: Vec<MessageReceipt>) {}
    /// A message was revoked by its sender.
    fn on_recv_message_revoked(&self, _msg_id: String) {}
}

/// `V2TIMSignalingListener`: invitations.
///
/// An action is told to the other participants: C2C, the invitee hears of invitations and
/// cancellations, the inviter of answers; in a group, every member hears of every action
/// (checking `invitee_list` to see whether they are invited), except the user who acted.
/// Timeouts reach the inviter and the invitees (every member for groups). Nobody hears of an
/// action they did themselves, on any of their devices.
pub trait SignalingListener: Send + Sync {
    /// A new invitation (C2C: `group_id` is empty). In a group every member hears of it.
    fn on_receive_new_invitation(
        &self,
        _invite_id: String,
        _inviter: String,
        _group_id: String,
        _invitee_list: Vec<String>,
        _data: String,
    ) {
    }
    /// An invitee accepted.
    fn on_invitee_accepted(&self, _invite_id: String, _invitee: String, _data: String) {}
    /// An invitee rejected.
    fn on_invitee_rejected(&self, _invite_id: String, _invitee: String, _data: String) {}
    /// The inviter cancelled the invitation.
    fn on_invitation_cancelled(&self, _invite_id: String, _inviter: String, _data: String) {}
    /// The invitees in `invitee_list` did not answer in time.
    fn on_invitation_timeout(&self, _invite_id: String, _invitee_list: Vec<String>) {}
}

/// `V2TIMFriendshipListener`: the relationship chain. Each callback reaches every device of
/// exactly the users seed004-B's flows name (see `docs/compat.md`), once.
pub trait FriendshipListener: Send + Sync {
    /// New applications to or from the user (`type` COME_IN or SEND_OUT).
    fn on_friend_application_list_added(&self, _application_list: Vec<FriendApplication>) {}
    /// Applications with these users ended (accepted, refused or deleted).
    fn on_friend_application_list_deleted(&self, _user_id_list: Vec<String>) {}
    /// The user marked the applications to them read.
    fn on_friend_application_list_read(&self) {}
    /// Users entered the user's friend list.
    fn on_friend_list_added(&self, _users: Vec<FriendInfo>) {}
    /// Users left the user's friend list.
    fn on_friend_list_deleted(&self, _user_list: Vec<String>) {}
    /// Users entered the user's blacklist.
    fn on_black_list_add(&self, _info_list: Vec<FriendInfo>) {}
    /// Users left the user's blacklist.
    fn on_black_list_deleted(&self, _user_list: Vec<String>) {}
    /// Entries of the user's friend list changed (remark, custom fields, groups, the friend's
    /// profile).
    fn on_friend_info_changed(&self, _info_list: Vec<FriendInfo>) {}
}
