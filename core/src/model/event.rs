//! What the app is told about: one [`Event`] per listener callback (or burst of them), made by
//! the SDK's levels below the dispatcher and delivered by it in order.

use std::sync::Arc;

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
    /// No callback: a mark in the instance's stream of events. When the dispatcher reaches it,
    /// every event emitted before it was delivered (the listeners returned), and it runs the
    /// action (recording what the app has been told).
    Delivered(Ack),
}

/// What to do once the events before a [`Event::Delivered`] mark were delivered. It runs on
/// the event thread: it must be short and never wait for the store.
#[derive(Clone)]
pub struct Ack(pub Arc<dyn Fn() + Send + Sync>);

impl Ack {
    /// An action.
    pub fn new(f: impl Fn() + Send + Sync + 'static) -> Ack {
        Ack(Arc::new(f))
    }

    /// Runs it.
    pub fn run(&self) {
        (self.0)()
    }
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ack")
    }
}
