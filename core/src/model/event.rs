//! What the app is told about: one [`Event`] per listener callback (or burst of them), made by
//! the SDK's levels below the dispatcher and delivered by it in order.

use crate::model::conversation::Conversation;
use crate::model::friendship::FriendshipEvent;
use crate::model::group::GroupEvent;
use crate::model::message::{Message, MessageReceipt, SignalingInfo};
use crate::model::profile::UserFullInfo;

/// Something the app is told about.
#[derive(Debug, Clone)]
pub enum Event {
    /// `onConnecting`.
    Connecting,
    /// `onConnectSuccess`.
    ConnectSuccess,
    /// `onConnectFailed`.
    ConnectFailed {
        /// V2TIM error code.
        code: i32,
        /// Description.
        desc: String,
    },
    /// `onKickedOffline`.
    KickedOffline,
    /// `onUserSigExpired`.
    UserSigExpired,
    /// `onSelfInfoUpdated`: the logged-in user's profile after a change (on any device).
    SelfInfoUpdated(Box<UserFullInfo>),
    /// A `V2TIMFriendshipListener` callback.
    Friendship(FriendshipEvent),
    /// A message arrived (from another user or another device of this user).
    NewMessage(Box<Message>),
    /// `onRecvMessageRevoked`.
    MessageRevoked(String),
    /// `onRecvC2CReadReceipt`.
    C2CReadReceipt(Vec<MessageReceipt>),
    /// A `V2TIMGroupListener` callback.
    Group(GroupEvent),
    /// `onSyncServerStart`.
    SyncServerStart,
    /// `onSyncServerFinish`.
    SyncServerFinish,
    /// `onSyncServerFailed`.
    SyncServerFailed,
    /// `onNewConversation`.
    NewConversations(Vec<Conversation>),
    /// `onConversationChanged`.
    ConversationsChanged(Vec<Conversation>),
    /// `onTotalUnreadMessageCountChanged`.
    TotalUnreadChanged(u64),
    /// A signaling action (`V2TIMSignalingListener`, by its `action_type`).
    Signaling {
        /// The action.
        info: Box<SignalingInfo>,
        /// Who did it (the invitee for accept and reject).
        from: String,
    },
}
