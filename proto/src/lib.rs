//! Oxim wire protocol, shared by the SDK core (`oxim-core`) and the server (`oxim-server`).
//!
//! Plain data, serde and pure checks: no I/O (reading the wall clock aside). The protocol itself
//! (frame layout, operations, pushes, ordering and delivery rules) is written down in
//! `docs/protocol.md`; this crate is its executable form.
//!
//! - [`frame`]: the envelope every WebSocket text frame carries (request / response / push).
//! - [`op`] and [`push`]: the names of requests and server pushes.
//! - [`message`]: the message envelope, elements, user events.
//! - [`group`]: groups, members, group tips, group attributes.
//! - [`payload`]: typed request, response and push bodies.
//! - [`code`]: V2TIM's numeric error codes, used by both sides.
//! - [`ids`]: V2TIM conversation ids and the limits on user ids.
//! - [`media`]: file upload and download over HTTP (kinds, limits, image variants).
//! - [`signaling`]: invitations (V2TIM's signaling payload, requests).
//! - [`profile`]: user profiles (`V2TIMUserFullInfo`), their changes and checks.
//! - [`friendship`]: friends, applications, the blacklist, friend groups.
//! - [`check`]: the checks a message must pass before it is sent (SDK and server alike).
//! - [`clock`]: the wall clock in Unix milliseconds.

pub mod check;
pub mod clock;
pub mod code;
pub mod frame;
pub mod friendship;
pub mod group;
pub mod ids;
pub mod media;
pub mod message;
pub mod offline_push;
pub mod payload;
pub mod profile;
pub mod signaling;

pub use frame::{FrameType, InFrame, OutFrame, PROTOCOL_VERSION};

/// Request operation names (`op` of a request frame).
pub mod op {
    /// Authenticate the connection: [`crate::payload::LoginReq`] → [`crate::payload::LoginRes`].
    pub const LOGIN: &str = "login";
    /// Drop the authentication of the connection; it stays open.
    pub const LOGOUT: &str = "logout";
    /// Send a message: [`crate::payload::SendMsgReq`] → [`crate::payload::SendMsgRes`].
    pub const MSG_SEND: &str = "msg.send";
    /// Conversations changed since a version: [`crate::payload::SyncReq`] → [`crate::payload::SyncRes`].
    pub const SYNC: &str = "sync";
    /// A range of one conversation's messages: [`crate::payload::PullReq`] → [`crate::payload::PullRes`].
    pub const MSG_PULL: &str = "msg.pull";
    /// A page of older messages: [`crate::payload::HistoryReq`] → [`crate::payload::HistoryRes`].
    pub const MSG_HISTORY: &str = "msg.history";
    /// Revoke an own message: [`crate::payload::RevokeReq`] → [`crate::payload::RevokeRes`].
    pub const MSG_REVOKE: &str = "msg.revoke";
    /// Report reading: [`crate::payload::ReadReq`] → [`crate::payload::ReadRes`].
    pub const MSG_READ: &str = "msg.read";
    /// Delete messages for the user: [`crate::payload::DeleteReq`] → `{}`.
    pub const MSG_DELETE: &str = "msg.delete";
    /// Clear a conversation's history for the user: [`crate::payload::ClearReq`] → [`crate::payload::ClearRes`].
    pub const MSG_CLEAR: &str = "msg.clear";
    /// Count unread messages in a range: [`crate::payload::UnreadReq`] → [`crate::payload::UnreadRes`].
    pub const CONV_UNREAD: &str = "conv.unread";
    /// Delete a conversation for the user: [`crate::payload::ConvReq`] → `{}`.
    pub const CONV_DELETE: &str = "conv.delete";
    /// Pin or unpin a conversation: [`crate::payload::PinReq`] → `{}`.
    pub const CONV_PIN: &str = "conv.pin";
    /// Set C2C receive options: [`crate::payload::C2CRecvOptReq`] → `{}`.
    pub const CONV_C2C_RECV_OPT_SET: &str = "conv.c2c_recv_opt.set";
    /// Get C2C receive options: [`crate::payload::C2CRecvOptGetReq`] → [`crate::payload::C2CRecvOptRes`].
    pub const CONV_C2C_RECV_OPT_GET: &str = "conv.c2c_recv_opt.get";
    /// Create a group: [`crate::group::CreateGroupReq`] → [`crate::group::CreateGroupRes`].
    pub const GROUP_CREATE: &str = "group.create";
    /// Join (or apply to) a group: [`crate::group::JoinGroupReq`] → [`crate::group::JoinGroupRes`].
    pub const GROUP_JOIN: &str = "group.join";
    /// Quit a group: [`crate::group::GroupReq`] → `{}`.
    pub const GROUP_QUIT: &str = "group.quit";
    /// Dismiss a group: [`crate::group::GroupReq`] → `{}`.
    pub const GROUP_DISMISS: &str = "group.dismiss";
    /// Group profiles: [`crate::group::GroupsInfoReq`] → [`crate::group::GroupsInfoRes`].
    pub const GROUP_INFO: &str = "group.info";
    /// The user's groups: `{}` → [`crate::group::JoinedGroupsRes`].
    pub const GROUP_JOINED: &str = "group.joined";
    /// Change the profile: [`crate::group::SetGroupInfoReq`] → `{}`.
    pub const GROUP_SET_INFO: &str = "group.set_info";
    /// A page of members: [`crate::group::MembersReq`] → [`crate::group::MembersRes`].
    pub const GROUP_MEMBERS: &str = "group.members";
    /// Members by id: [`crate::group::GroupUsersReq`] → [`crate::group::MembersInfoRes`].
    pub const GROUP_MEMBERS_INFO: &str = "group.members_info";
    /// Change a member's card or fields: [`crate::group::SetMemberReq`] → `{}`.
    pub const GROUP_SET_MEMBER: &str = "group.set_member";
    /// Mute a member: [`crate::group::MuteReq`] → `{}`.
    pub const GROUP_MUTE: &str = "group.mute";
    /// Pull users in: [`crate::group::GroupUsersReq`] → [`crate::group::MemberOpRes`].
    pub const GROUP_INVITE: &str = "group.invite";
    /// Kick members: [`crate::group::GroupUsersReq`] → [`crate::group::MemberOpRes`].
    pub const GROUP_KICK: &str = "group.kick";
    /// Make a member admin or member: [`crate::group::RoleReq`] → `{}`.
    pub const GROUP_SET_ROLE: &str = "group.set_role";
    /// Hand the group to another member: [`crate::group::RoleReq`] → `{}`.
    pub const GROUP_TRANSFER: &str = "group.transfer";
    /// Join applications: `{}` → [`crate::group::ApplicationsRes`].
    pub const GROUP_APPLICATIONS: &str = "group.applications";
    /// Accept or refuse an application: [`crate::group::HandleApplicationReq`] → `{}`.
    pub const GROUP_HANDLE_APPLICATION: &str = "group.application.handle";
    /// Mark the applications read: `{}` → `{}`.
    pub const GROUP_APPLICATIONS_READ: &str = "group.applications.read";
    /// Set the user's receive option: [`crate::group::RecvOptReq`] → `{}`.
    pub const GROUP_RECV_OPT: &str = "group.recv_opt";
    /// Members online: [`crate::group::GroupReq`] → [`crate::group::OnlineCountRes`].
    pub const GROUP_ONLINE_COUNT: &str = "group.online_count";
    /// Read attributes: [`crate::group::GetAttrsReq`] → [`crate::group::GroupAttrs`].
    pub const GROUP_ATTRS_GET: &str = "group.attrs.get";
    /// Write attributes: [`crate::group::WriteAttrsReq`] → [`crate::group::GroupAttrs`].
    pub const GROUP_ATTRS_WRITE: &str = "group.attrs.write";
    /// Invite (C2C or in a group): [`crate::signaling::InviteReq`] → [`crate::signaling::SignalRes`].
    pub const SIGNAL_INVITE: &str = "signal.invite";
    /// Cancel an own invitation: [`crate::signaling::SignalReq`] → [`crate::signaling::SignalRes`].
    pub const SIGNAL_CANCEL: &str = "signal.cancel";
    /// Accept an invitation: [`crate::signaling::SignalReq`] → [`crate::signaling::SignalRes`].
    pub const SIGNAL_ACCEPT: &str = "signal.accept";
    /// Reject an invitation: [`crate::signaling::SignalReq`] → [`crate::signaling::SignalRes`].
    pub const SIGNAL_REJECT: &str = "signal.reject";
    /// An invitation as issued: [`crate::signaling::SignalGetReq`] → [`crate::signaling::SignalingInfo`].
    pub const SIGNAL_GET: &str = "signal.get";
    /// Users' profiles: [`crate::profile::GetProfilesReq`] → [`crate::profile::ProfilesRes`].
    pub const PROFILE_GET: &str = "profile.get";
    /// Change the user's own profile: [`crate::profile::ProfileChange`] → [`crate::profile::Profile`]
    /// (the profile after the change).
    pub const PROFILE_SET: &str = "profile.set";
    /// The caller's friends: `{}` → [`crate::friendship::FriendsRes`].
    pub const FRIEND_LIST: &str = "friend.list";
    /// Friend entries and relations: [`crate::friendship::UsersReq`] → [`crate::friendship::FriendInfoRes`].
    pub const FRIEND_INFO: &str = "friend.info";
    /// Remark and custom fields of a friend: [`crate::friendship::SetFriendInfoReq`] → `{}`.
    pub const FRIEND_SET_INFO: &str = "friend.set_info";
    /// Add a friend: [`crate::friendship::AddFriendReq`] → [`crate::friendship::OpResult`].
    pub const FRIEND_ADD: &str = "friend.add";
    /// Delete friends: [`crate::friendship::DeleteFriendsReq`] → [`crate::friendship::OpResultsRes`].
    pub const FRIEND_DELETE: &str = "friend.delete";
    /// Relations: [`crate::friendship::CheckFriendsReq`] → [`crate::friendship::CheckRes`].
    pub const FRIEND_CHECK: &str = "friend.check";
    /// Pending applications: `{}` → [`crate::friendship::ApplicationsRes`].
    pub const FRIEND_APPS: &str = "friend.apps";
    /// Accept an application: [`crate::friendship::ApplicationReq`] → [`crate::friendship::OpResult`].
    pub const FRIEND_APP_ACCEPT: &str = "friend.app.accept";
    /// Refuse an application: [`crate::friendship::ApplicationReq`] → [`crate::friendship::OpResult`].
    pub const FRIEND_APP_REFUSE: &str = "friend.app.refuse";
    /// Delete an application: [`crate::friendship::ApplicationReq`] → `{}`.
    pub const FRIEND_APP_DELETE: &str = "friend.app.delete";
    /// Mark the applications to the caller read: `{}` → `{}`.
    pub const FRIEND_APPS_READ: &str = "friend.apps.read";
    /// Block users: [`crate::friendship::UsersReq`] → [`crate::friendship::OpResultsRes`].
    pub const BLACK_ADD: &str = "black.add";
    /// Unblock users: [`crate::friendship::UsersReq`] → [`crate::friendship::OpResultsRes`].
    pub const BLACK_DELETE: &str = "black.delete";
    /// The caller's blacklist: `{}` → [`crate::friendship::FriendsRes`].
    pub const BLACK_LIST: &str = "black.list";
    /// Create a friend group: [`crate::friendship::FriendGroupReq`] → [`crate::friendship::OpResultsRes`].
    pub const FGROUP_CREATE: &str = "fgroup.create";
    /// Friend groups: [`crate::friendship::FriendGroupsReq`] → [`crate::friendship::FriendGroupsRes`].
    pub const FGROUP_GET: &str = "fgroup.get";
    /// Delete friend groups: [`crate::friendship::FriendGroupsReq`] → `{}`.
    pub const FGROUP_DELETE: &str = "fgroup.delete";
    /// Rename a friend group: [`crate::friendship::RenameFriendGroupReq`] → `{}`.
    pub const FGROUP_RENAME: &str = "fgroup.rename";
    /// Put friends in a group: [`crate::friendship::FriendGroupReq`] → [`crate::friendship::OpResultsRes`].
    pub const FGROUP_ADD: &str = "fgroup.add";
    /// Take friends out of a group: [`crate::friendship::FriendGroupReq`] → [`crate::friendship::OpResultsRes`].
    pub const FGROUP_REMOVE: &str = "fgroup.remove";
    /// Register this device for offline push: [`crate::offline_push::PushConfig`] → `{}`.
    pub const PUSH_CONFIG: &str = "push.config";
    /// The app went to the background: [`crate::offline_push::BackgroundReq`] → `{}`.
    pub const PUSH_BACKGROUND: &str = "push.background";
    /// The app came to the foreground: `{}` → `{}`.
    pub const PUSH_FOREGROUND: &str = "push.foreground";
}

/// Server push event names (`op` of a push frame).
pub mod push {
    /// A new message in one of the user's conversations: [`crate::payload::WireMessage`].
    pub const MSG: &str = "msg";
    /// This session was kicked by a login of the same user on the same platform:
    /// [`crate::payload::KickedPush`]. The connection stays open but is no longer authenticated.
    pub const KICKED: &str = "kicked";
    /// The session's UserSig expired; the connection is no longer authenticated.
    pub const USERSIG_EXPIRED: &str = "usersig_expired";
    /// A group's attributes changed: [`crate::group::GroupAttrsPush`] (the complete map).
    pub const GROUP_ATTRS: &str = "group_attrs";
    /// A signaling action of an online-only invitation (never stored): a
    /// [`crate::payload::WireMessage`] with `online_only` set, seq 0, and the signaling payload
    /// as its custom element.
    pub const SIGNAL: &str = "signal";
}
