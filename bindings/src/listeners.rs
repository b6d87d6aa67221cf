//! Foreign listeners (the UDL's callback interfaces) and their adapters to the core's listener
//! traits, one line per callback.
//!
//! `foreign_listener!` declares, from one line per callback, the trait UniFFI implements for the
//! foreign object and, for listeners, the adapter that implements the core trait by converting
//! each argument (`core type => FFI type`; an argument written once crosses as it is). The
//! documentation of every callback is in `udl/oxim.udl`, from where it reaches the generated
//! Kotlin, Swift and Python; the language layers' listener classes are generated from the UDL by
//! `scripts/gen-bindings.py`. Adding a callback: the UDL line, the core trait method, one line
//! here.

use std::collections::{BTreeMap, HashMap};

use oxim_core as core;
use oxim_core::conversation as cc;
use oxim_core::friendship as cf;
use oxim_core::group as cg;

use crate::conversation_manager::V2TIMConversation;
use crate::convert::{V2TIMMessage, V2TIMMessageReceipt, V2TIMUserFullInfo, V2TIMUserInfo};
use crate::friendship_manager::{V2TIMFriendApplication, V2TIMFriendInfo};
use crate::group_manager::{V2TIMGroupChangeInfo, V2TIMGroupMemberChangeInfo, V2TIMGroupMemberInfo};

/// A core value as the FFI value a callback passes on (`From` where one exists, element-wise for
/// lists). A trait of its own rather than `Into`, so lists and maps convert too.
pub(crate) trait Lift<T> {
    /// The FFI value.
    fn lift(self) -> T;
}

/// Values that cross unchanged.
macro_rules! lift_as_is {
    ($($t:ty),*) => { $(impl Lift<$t> for $t { fn lift(self) -> $t { self } })* };
}
lift_as_is!(String, i32, i64, bool, u8);

/// Core records with a `From` conversion to their FFI record.
macro_rules! lift_by_from {
    ($($core:ty => $ffi:ty),* $(,)?) => { $(impl Lift<$ffi> for $core { fn lift(self) -> $ffi { self.into() } })* };
}
lift_by_from!(
    core::UserInfo => V2TIMUserInfo,
    core::UserFullInfo => V2TIMUserFullInfo,
    core::Message => V2TIMMessage,
    core::MessageReceipt => V2TIMMessageReceipt,
    cg::GroupMemberInfo => V2TIMGroupMemberInfo,
    cg::MemberChange => V2TIMGroupMemberChangeInfo,
    cg::GroupChange => V2TIMGroupChangeInfo,
    cc::Conversation => V2TIMConversation,
    cf::FriendInfo => V2TIMFriendInfo,
    cf::FriendApplication => V2TIMFriendApplication,
);

impl<A: Lift<B>, B> Lift<Vec<B>> for Vec<A> {
    fn lift(self) -> Vec<B> {
        self.into_iter().map(Lift::lift).collect()
    }
}

impl Lift<HashMap<String, String>> for BTreeMap<String, String> {
    fn lift(self) -> HashMap<String, String> {
        self.into_iter().collect()
    }
}

impl Lift<i64> for u64 {
    fn lift(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

/// The core type of an argument (the first type, or the only one).
macro_rules! core_type {
    ($t:ty) => {
        $t
    };
    ($core:ty, $ffi:ty) => {
        $core
    };
}

/// The FFI type of an argument (the second type, or the only one).
macro_rules! ffi_type {
    ($t:ty) => {
        $t
    };
    ($core:ty, $ffi:ty) => {
        $ffi
    };
}

/// Declares a foreign callback trait and, when a core trait is named, its adapter.
macro_rules! foreign_listener {
    (
        $(#[$doc:meta])*
        $name:ident => $adapter:ident : $core_trait:path {
            $(fn $method:ident($($arg:ident : $t1:ty $(=> $t2:ty)?),* $(,)?);)*
        }
    ) => {
        foreign_listener! {
            $(#[$doc])*
            $name {
                $(fn $method($($arg : $t1 $(=> $t2)?),*);)*
            }
        }

        #[doc = concat!("A foreign `", stringify!($name), "` as a core listener.")]
        pub(crate) struct $adapter(pub Box<dyn $name>);

        impl $core_trait for $adapter {
            $(
                fn $method(&self, $($arg: core_type!($t1 $(, $t2)?)),*) {
                    self.0.$method($(Lift::<ffi_type!($t1 $(, $t2)?)>::lift($arg)),*)
                }
            )*
        }
    };
    (
        $(#[$doc:meta])*
        $name:ident {
            $(fn $method:ident($($arg:ident : $t1:ty $(=> $t2:ty)?),* $(,)?);)*
        }
    ) => {
        $(#[$doc])*
        pub trait $name: Send + Sync {
            $(
                #[doc = concat!("`", stringify!($method), "` (see `udl/oxim.udl`).")]
                fn $method(&self, $($arg: ffi_type!($t1 $(, $t2)?)),*);
            )*
        }
    };
}

foreign_listener! {
    /// `V2TIMSDKListener`: connection and login events.
    V2TIMSDKListener => SdkListenerAdapter: core::SdkListener {
        fn on_connecting();
        fn on_connect_success();
        fn on_connect_failed(code: i32, error: String);
        fn on_kicked_offline();
        fn on_user_sig_expired();
        fn on_self_info_updated(info: core::UserFullInfo => V2TIMUserFullInfo);
    }
}

foreign_listener! {
    /// `V2TIMSimpleMsgListener`: text and custom messages.
    V2TIMSimpleMsgListener => SimpleMsgListenerAdapter: core::SimpleMsgListener {
        fn on_recv_c2c_text_message(msg_id: String, sender: core::UserInfo => V2TIMUserInfo, text: String);
        fn on_recv_c2c_custom_message(msg_id: String, sender: core::UserInfo => V2TIMUserInfo, custom_data: Vec<u8>);
        fn on_recv_group_text_message(msg_id: String, group_id: String, sender: cg::GroupMemberInfo => V2TIMGroupMemberInfo, text: String);
        fn on_recv_group_custom_message(msg_id: String, group_id: String, sender: cg::GroupMemberInfo => V2TIMGroupMemberInfo, custom_data: Vec<u8>);
    }
}

foreign_listener! {
    /// `V2TIMAdvancedMsgListener`: every message event.
    V2TIMAdvancedMsgListener => AdvancedMsgListenerAdapter: core::AdvancedMsgListener {
        fn on_recv_new_message(msg: core::Message => V2TIMMessage);
        fn on_recv_new_messages(msg_list: Vec<core::Message> => Vec<V2TIMMessage>);
        fn on_recv_c2c_read_receipt(receipt_list: Vec<core::MessageReceipt> => Vec<V2TIMMessageReceipt>);
        fn on_recv_message_revoked(msg_id: String);
    }
}

foreign_listener! {
    /// `V2TIMGroupListener`: what happens in the user's groups.
    V2TIMGroupListener => GroupListenerAdapter: core::GroupListener {
        fn on_member_enter(group_id: String, member_list: Vec<cg::GroupMemberInfo> => Vec<V2TIMGroupMemberInfo>);
        fn on_member_leave(group_id: String, member: cg::GroupMemberInfo => V2TIMGroupMemberInfo);
        fn on_member_invited(group_id: String, op_user: cg::GroupMemberInfo => V2TIMGroupMemberInfo, member_list: Vec<cg::GroupMemberInfo> => Vec<V2TIMGroupMemberInfo>);
        fn on_member_kicked(group_id: String, op_user: cg::GroupMemberInfo => V2TIMGroupMemberInfo, member_list: Vec<cg::GroupMemberInfo> => Vec<V2TIMGroupMemberInfo>);
        fn on_member_info_changed(group_id: String, change_info_list: Vec<cg::MemberChange> => Vec<V2TIMGroupMemberChangeInfo>);
        fn on_group_created(group_id: String);
        fn on_group_dismissed(group_id: String, op_user: cg::GroupMemberInfo => V2TIMGroupMemberInfo);
        fn on_group_recycled(group_id: String, op_user: cg::GroupMemberInfo => V2TIMGroupMemberInfo);
        fn on_group_info_changed(group_id: String, change_infos: Vec<cg::GroupChange> => Vec<V2TIMGroupChangeInfo>);
        fn on_receive_join_application(group_id: String, member: cg::GroupMemberInfo => V2TIMGroupMemberInfo, op_reason: String);
        fn on_application_processed(group_id: String, op_user: cg::GroupMemberInfo => V2TIMGroupMemberInfo, is_agree_join: bool, op_reason: String);
        fn on_grant_administrator(group_id: String, op_user: cg::GroupMemberInfo => V2TIMGroupMemberInfo, member_list: Vec<cg::GroupMemberInfo> => Vec<V2TIMGroupMemberInfo>);
        fn on_revoke_administrator(group_id: String, op_user: cg::GroupMemberInfo => V2TIMGroupMemberInfo, member_list: Vec<cg::GroupMemberInfo> => Vec<V2TIMGroupMemberInfo>);
        fn on_quit_from_group(group_id: String);
        fn on_group_attribute_changed(group_id: String, group_attribute_map: BTreeMap<String, String> => HashMap<String, String>);
    }
}

foreign_listener! {
    /// `V2TIMConversationListener`: the conversation list and its unread total.
    V2TIMConversationListener => ConversationListenerAdapter: core::ConversationListener {
        fn on_sync_server_start();
        fn on_sync_server_finish();
        fn on_sync_server_failed();
        fn on_new_conversation(conversation_list: Vec<cc::Conversation> => Vec<V2TIMConversation>);
        fn on_conversation_changed(conversation_list: Vec<cc::Conversation> => Vec<V2TIMConversation>);
        fn on_total_unread_message_count_changed(total_unread_count: u64 => i64);
    }
}

foreign_listener! {
    /// `V2TIMSignalingListener`: invitations.
    V2TIMSignalingListener => SignalingListenerAdapter: core::SignalingListener {
        fn on_receive_new_invitation(invite_id: String, inviter: String, group_id: String, invitee_list: Vec<String>, data: String);
        fn on_invitee_accepted(invite_id: String, invitee: String, data: String);
        fn on_invitee_rejected(invite_id: String, invitee: String, data: String);
        fn on_invitation_cancelled(invite_id: String, inviter: String, data: String);
        fn on_invitation_timeout(invite_id: String, invitee_list: Vec<String>);
    }
}

foreign_listener! {
    /// `V2TIMFriendshipListener`: the relationship chain.
    V2TIMFriendshipListener => FriendshipListenerAdapter: core::FriendshipListener {
        fn on_friend_application_list_added(application_list: Vec<cf::FriendApplication> => Vec<V2TIMFriendApplication>);
        fn on_friend_application_list_deleted(user_id_list: Vec<String>);
        fn on_friend_application_list_read();
        fn on_friend_list_added(users: Vec<cf::FriendInfo> => Vec<V2TIMFriendInfo>);
        fn on_friend_list_deleted(user_list: Vec<String>);
        fn on_black_list_add(info_list: Vec<cf::FriendInfo> => Vec<V2TIMFriendInfo>);
        fn on_black_list_deleted(user_list: Vec<String>);
        fn on_friend_info_changed(info_list: Vec<cf::FriendInfo> => Vec<V2TIMFriendInfo>);
    }
}

foreign_listener! {
    /// Upload progress of a send (`V2TIMSendCallback.onProgress`, 0-100).
    V2TIMSendCallback {
        fn on_progress(progress: i32);
    }
}

foreign_listener! {
    /// Download progress (`V2TIMDownloadCallback.onProgress`, bytes).
    V2TIMDownloadCallback {
        fn on_progress(current_size: i64, total_size: i64);
    }
}
