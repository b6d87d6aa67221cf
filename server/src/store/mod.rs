//! Server storage.
//!
//! The server talks to storage only through [`Store`], one trait per concern ([`UserStore`],
//! [`MessageStore`], [`ConversationStore`], [`GroupStore`], [`SignalingStore`], [`ProfileStore`], [`FriendshipStore`],
//! [`PushStore`]);
//! [`sqlite::SqliteStore`] is the embedded default (one SQLite file in WAL mode, one writer
//! thread that batches writes into transactions, a small pool of readers). A PostgreSQL store
//! implements the same traits.
//!
//! A store keeps state and applies changes; it decides nothing a rule decides: message streams
//! are keyed as [`crate::domain::keys`] says, group operations are decided by
//! [`crate::domain::groups`] over the state the store loads and only applied here, invitations
//! change as [`crate::domain::signaling`] says. Every write is one transaction: the change and
//! the messages it appends (tips, events, notices) commit together or not at all.

pub mod sqlite;

use async_trait::async_trait;
use oxim_proto::friendship::{CheckResult, FriendApplication, FriendEntry, FriendGroup, FriendInfoResult, OpResult};
use oxim_proto::group::{GroupApplication, GroupAttrs, GroupInfo, MemberInfo, MemberOpResult};
use oxim_proto::ids::ConvId;
use oxim_proto::offline_push::PushConfig;

pub use crate::domain::offline_push::PushDevice;
use oxim_proto::payload::{ConvState, RecvOptInfo, SeqRange, WireMessage};
use oxim_proto::profile::{Profile, ProfileChange};

use crate::domain::friendship::{FriendOp, FriendshipSettings, Pair};
use crate::domain::groups::{GroupOp, GroupRow};
use crate::domain::keys::Target;
use crate::domain::refusal::Refusal;
use crate::domain::signaling::{Invitation, SignalAct};

/// A storage failure or a refusal. The request that hit it fails; nothing is half-written
/// because every write is one transaction (a savepoint inside a batch).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The schema could not be migrated, or is newer than this server (a newer release wrote
    /// the database; this one refuses to run against it).
    #[error("{0}")]
    Schema(#[from] oxim_sqlite::MigrateError),
    /// A stored value could not be decoded.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The store is shutting down.
    #[error("store closed")]
    Closed,
    /// A write failed inside the server (it panicked); it changed nothing, the store goes on.
    #[error("internal error: {0}")]
    Internal(String),
    /// The message id is already used by another sender's message.
    #[error("message id {0} belongs to another sender")]
    MsgIdTaken(String),
    /// The operation is not allowed; `code` is the V2TIM error code.
    #[error("{desc}")]
    Refused {
        /// V2TIM error code.
        code: i32,
        /// Why.
        desc: String,
    },
}

impl StoreError {
    /// A refusal with a V2TIM code.
    pub fn refused(code: i32, desc: impl Into<String>) -> StoreError {
        StoreError::Refused { code, desc: desc.into() }
    }
}

impl From<Refusal> for StoreError {
    fn from(r: Refusal) -> StoreError {
        StoreError::Refused { code: r.code, desc: r.desc }
    }
}

/// Result of storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// A write, in line in the order of the calls; awaiting it gives its outcome. Most are in the
/// writer's queue at once; when the queue is full a write waits for room (asynchronously, in
/// line), and [`Queued::poll_admitted`] tells when it is in.
pub struct Queued<T> {
    /// Fires when a write that waited for room is in the queue; `None`: in the queue already.
    admission: Option<tokio::sync::oneshot::Receiver<()>>,
    result: std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<T>> + Send>>,
}

impl<T> Queued<T> {
    /// A write whose outcome `result` gives, in the queue already (`admission` `None`) or
    /// once `admission` fires (dropped unfired: the store closed).
    pub fn new(
        admission: Option<tokio::sync::oneshot::Receiver<()>>,
        result: std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<T>> + Send>>,
    ) -> Queued<T> {
        Queued { admission, result }
    }

    /// A write refused before it was queued.
    pub fn failed(error: StoreError) -> Queued<T>
    where
        T: Send + 'static,
    {
        Queued::new(None, Box::pin(std::future::ready(Err(error))))
    }

    /// Ready once the write is in the writer's queue (its place among writes is then fixed
    /// for good), or could not get in (the store closed: awaiting it says so).
    pub fn poll_admitted(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if let Some(admission) = self.admission.as_mut() {
            std::task::ready!(std::pin::Pin::new(admission).poll(cx)).ok();
            // Fired (admitted) or dropped (closed: the result says so).
            self.admission = None;
        }
        std::task::Poll::Ready(())
    }

    /// Whether the write is in the writer's queue.
    pub fn admitted(&self) -> bool {
        self.admission.is_none()
    }
}

impl<T> std::future::Future for Queued<T> {
    type Output = StoreResult<T>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<StoreResult<T>> {
        std::task::ready!(self.poll_admitted(cx));
        self.result.as_mut().poll(cx)
    }
}

/// What to do with a write's result once it is committed, before its caller hears of it: the
/// writer runs these one at a time, in commit order (so what they tell others is told in the
/// order the writes happened). It must not block.
pub type AfterCommit<T> = Box<dyn FnOnce(&T) + Send>;

/// A stored message and who must be told about it.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The message as stored (seq and time filled in).
    pub msg: WireMessage,
    /// The message id was already stored: this is the original, nothing new was written.
    pub duplicate: bool,
    /// Users whose online sessions get it pushed.
    pub recipients: Vec<String>,
}

/// Outcome of a write that appends notices or events.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Messages appended (to push after the commit).
    pub appended: Vec<Appended>,
    /// A seq the operation reports back (revoke notice seq, read position, cleared position).
    pub seq: u64,
}

/// A page of history.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// Newest first.
    pub msgs: Vec<WireMessage>,
    /// Lowest seq the page covers.
    pub covered_from: u64,
    /// The start of the conversation (for this user) was reached.
    pub reached_start: bool,
}

/// What a group write produced besides its stored changes.
#[derive(Debug, Default)]
pub struct GroupOutcome {
    /// Messages appended (stored tips, user events), to push after the commit.
    pub written: Written,
    /// Tips of groups whose tips are not stored (Meeting, AVChatRoom), each with the members
    /// to push it to online.
    pub online_tips: Vec<(WireMessage, Vec<String>)>,
    /// The group id (create).
    pub group_id: String,
    /// Joined at once (join; false: an application awaits approval).
    pub joined: bool,
    /// Per-user results (invite, kick).
    pub results: Vec<MemberOpResult>,
    /// Attributes after a write.
    pub attrs: Option<GroupAttrs>,
    /// Stored members to tell about an attribute change.
    pub members: Vec<String>,
}

/// Outcome of a signaling write.
#[derive(Debug, Clone)]
pub struct Signaled {
    /// The invitation after the write.
    pub invitation: Invitation,
    /// The action messages: appended to conversations (with seqs), or, for online-only
    /// invitations, made but not stored (seq 0) with the users to push them to.
    pub appended: Vec<Appended>,
}

/// Who exists.
#[async_trait]
pub trait UserStore {
    /// Records that `user_id` exists (called on every login; cheap when it already does).
    async fn register_user(&self, user_id: &str) -> StoreResult<()>;

    /// Whether `user_id` has ever logged in.
    async fn user_exists(&self, user_id: &str) -> StoreResult<bool>;
}

/// Message streams: appending with gapless seqs, per-user positions, pulls.
///
/// Writes are queued by the call, not when the returned future is first polled, so one
/// connection's writes are stored in the order it sent them even when it does not wait for each
/// result before reading its next request.
#[async_trait]
pub trait MessageStore {
    /// Stores `msg` in `target`: deduplicates on `msg_id`, assigns the next seq and the server
    /// time (never earlier than the stream's previous message).
    fn append(&self, target: Target, msg: WireMessage) -> Queued<Appended>;

    /// Revokes `user`'s message `msg_id` in `target` if it is at most `window_ms` old: marks it
    /// revoked and appends a revoke notice (returned, with its seq). Revoking a revoked message
    /// again succeeds without a new notice.
    fn revoke(&self, user: &str, target: Target, msg_id: &str, window_ms: i64) -> Queued<Written>;

    /// Moves `user`'s read position in `conv` to `seq` (0 = its newest message); never back.
    /// Tells the user's devices (stream event) and, for C2C, the peer (receipt event).
    fn mark_read(&self, user: &str, conv: &ConvId, seq: u64) -> Queued<Written>;

    /// Deletes messages of `conv` for `user` (hidden from every pull of theirs) and tells the
    /// user's devices.
    fn delete_for_user(&self, user: &str, conv: &ConvId, msg_ids: Vec<String>) -> Queued<Written>;

    /// Clears `conv`'s history for `user` up to its newest message and tells the user's devices.
    fn clear_for_user(&self, user: &str, conv: &ConvId) -> Queued<Written>;

    /// Messages of `user_id`'s conversation `conv` with `after < seq <= up_to` (`up_to` 0 = no
    /// bound), ascending, at most `limit`, without those the user deleted or cleared; and the
    /// conversation's highest seq.
    async fn messages_after(
        &self,
        user_id: &str,
        conv: &ConvId,
        after: u64,
        up_to: u64,
        limit: u32,
    ) -> StoreResult<(Vec<WireMessage>, u64)>;

    /// Messages of `conv` with `seq < before` (0 = no bound), newest first, for `user_id`.
    async fn history(&self, user_id: &str, conv: &ConvId, before: u64, limit: u32) -> StoreResult<HistoryPage>;

    /// Whether a message referencing file `uuid` reached a conversation `user_id` takes part in.
    async fn file_shared_with(&self, user_id: &str, uuid: &str) -> StoreResult<bool>;
}

/// The user's conversation list: changes since a version, unread counts, deletion, pins,
/// receive options.
#[async_trait]
pub trait ConversationStore {
    /// The conversations of `user_id` that changed after `since`, ascending by version.
    async fn changed_conversations(&self, user_id: &str, since: u64, limit: u32) -> StoreResult<Vec<ConvState>>;

    /// Unread-countable messages of `user` in each range (see `conv.unread` in the protocol).
    async fn unread_counts(&self, user: &str, ranges: Vec<SeqRange>) -> StoreResult<Vec<u64>>;

    /// Deletes `conv` for `user` (`deleteConversation`): messages cleared for the user, the
    /// conversation unlisted until a new message; the user's devices are told. 6004 if the user
    /// has no such conversation.
    fn delete_conversation(&self, user: &str, conv: &ConvId) -> Queued<Written>;

    /// Pins or unpins `conv` for `user`; the user's devices are told.
    fn pin_conversation(&self, user: &str, conv: &ConvId, pinned: bool) -> Queued<Written>;

    /// Sets `user`'s receive option for C2C `peers`; the user's devices are told.
    fn set_c2c_recv_opt(&self, user: &str, peers: Vec<String>, opt: i32) -> Queued<Written>;

    /// `user`'s receive options for C2C `peers`.
    async fn c2c_recv_opts(&self, user: &str, peers: Vec<String>) -> StoreResult<Vec<RecvOptInfo>>;
}

/// Groups with stored state (profiles, members, applications, attributes).
#[async_trait]
pub trait GroupStore {
    /// Runs a group write for `user`: loads what [`crate::domain::groups::needs`] asks for,
    /// lets [`crate::domain::groups::decide`] decide, applies the changes and appends the tips
    /// and events, in one transaction.
    fn group_write(&self, user: &str, op: GroupOp) -> Queued<GroupOutcome>;

    /// [`group_write`](Self::group_write), running `after_commit` with the outcome in commit
    /// order (group attribute snapshots are pushed from there, so members get them in version
    /// order).
    fn group_write_then(
        &self,
        user: &str,
        op: GroupOp,
        after_commit: AfterCommit<GroupOutcome>,
    ) -> Queued<GroupOutcome>;

    /// Stores a member's message in a group with stored messages, checking membership and
    /// mutes; the recipients are the members who receive the group's messages.
    fn group_send(&self, msg: WireMessage) -> Queued<Appended>;

    /// A group's stored row (`None`: no such group).
    async fn group(&self, group_id: &str) -> StoreResult<Option<GroupRow>>;

    /// Profiles with member counts and `user`'s standing, in request order (`None`: no such
    /// group).
    async fn groups_info(&self, user: &str, group_ids: Vec<String>) -> StoreResult<Vec<Option<GroupInfo>>>;

    /// The groups `user` is a stored member of (never AVChatRooms).
    async fn joined_groups(&self, user: &str) -> StoreResult<Vec<GroupInfo>>;

    /// A page of stored members in join order after `next_seq`, filtered by role bits; and the
    /// next page's `next_seq` (0 = last page).
    async fn group_member_page(
        &self,
        group_id: &str,
        filter: i32,
        next_seq: u64,
        limit: u32,
    ) -> StoreResult<(Vec<MemberInfo>, u64)>;

    /// The stored members among `users`.
    async fn group_members_info(&self, group_id: &str, users: Vec<String>) -> StoreResult<Vec<MemberInfo>>;

    /// The user ids of a group with stored membership (`None`: no such group or an AVChatRoom,
    /// whose members only the server's memory knows).
    async fn group_members(&self, group_id: &str) -> StoreResult<Option<Vec<String>>>;

    /// Join applications to groups `user` owns or administers, newest first, and how many are
    /// unhandled and unread.
    async fn group_applications(&self, user: &str) -> StoreResult<(u32, Vec<GroupApplication>)>;
}

/// Signaling invitations: their state changes and the action messages they append commit
/// together.
#[async_trait]
pub trait SignalingStore {
    /// Stores a new invitation and appends its invite message(s) (unless it is online-only):
    /// to the C2C conversation of the inviter and each invitee, or to the group conversation,
    /// whose `members` are given. An invitation id the same inviter already used is a retry:
    /// the stored invitation and its original messages come back (marked duplicate); another
    /// inviter's is refused (6017).
    fn signal_invite(&self, invitation: Invitation, members: Option<Vec<String>>) -> Queued<Signaled>;

    /// Applies `act` by `user` with `action_id` and `data` to invitation `invite_id` (see
    /// [`crate::domain::signaling`]) and appends the action message; refusals are 8010/8011
    /// and change nothing. `members`: the group's, for group invitations.
    fn signal_act(
        &self,
        invite_id: &str,
        user: &str,
        act: SignalAct,
        action_id: &str,
        data: &str,
        members: Option<Vec<String>>,
    ) -> Queued<Signaled>;

    /// Times out the pending invitees of `invite_id` if its deadline has passed and appends the
    /// timeout message; nothing when it is not due (or no longer active).
    fn signal_expire(&self, invite_id: &str, members: Option<Vec<String>>) -> Queued<Signaled>;

    /// An invitation by id.
    async fn invitation(&self, invite_id: &str) -> StoreResult<Option<Invitation>>;

    /// Active invitations with a deadline: (invite id, deadline Unix ms), for the timer after a
    /// restart.
    async fn invitation_deadlines(&self) -> StoreResult<Vec<(String, i64)>>;
}

/// Users' profiles.
#[async_trait]
pub trait ProfileStore {
    /// The profiles of the users among `user_ids` that exist, in the order given (the defaults
    /// for a user who never changed theirs).
    async fn profiles(&self, user_ids: Vec<String>) -> StoreResult<Vec<Profile>>;

    /// Applies `change` to `user`'s profile as [`crate::domain::profiles::change_profile`]
    /// decides, and appends the `self_info_updated` event to the user's own stream; the
    /// profile after the change.
    fn set_profile(&self, user: &str, change: ProfileChange) -> Queued<(Profile, Written)>;
}

/// Asked by the store's writer just before a device write runs: whether the login asking for it
/// still holds the device (`false`: the write changes nothing). Checked there, in the writer's
/// order, so no newer login's write can come between the check and the write.
pub type StillCurrent = Box<dyn Fn() -> bool + Send>;

/// A push counted in its device's badge ([`PushStore::count_push`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadgeCount {
    /// The badge the push shows.
    pub badge: u32,
    /// The count it was taken from (a new one each time the app state is told).
    pub epoch: i64,
}

/// Devices registered for offline push. A login of a user on a platform ends the registration
/// of the device before it there (kicked or replaced: V2TIM pushes to neither), a logout ends
/// the device's own; a connection lost without logout keeps it (that is the device offline
/// push is for).
#[async_trait]
pub trait PushStore {
    /// Registers `user`'s device on `platform` with `config`, keeping its background state, if
    /// `current` still holds when the writer comes to it; whether it did (else nothing changed).
    fn set_push_config(&self, user: &str, platform: &str, config: PushConfig, current: StillCurrent) -> Queued<bool>;

    /// Records the device's app state: in the background with badge `badge`, or (`None`) in the
    /// foreground; if `current` still holds when the writer comes to it (whether it did).
    fn set_push_background(
        &self,
        user: &str,
        platform: &str,
        badge: Option<u32>,
        current: StillCurrent,
    ) -> Queued<bool>;

    /// Forgets `user`'s device on `platform` (logout, or a new login there), if `current` still
    /// holds when the writer comes to it (whether it did).
    fn remove_push_device(&self, user: &str, platform: &str, current: StillCurrent) -> Queued<bool>;

    /// The devices of `users` that offline push knows, by user then platform.
    async fn push_devices(&self, users: Vec<String>) -> StoreResult<Vec<PushDevice>>;

    /// Each of `users`' receive option for their conversation `conv` (0, receive, without one),
    /// in the order of `users`: one read for all the recipients of a push.
    async fn recv_opts_in(&self, users: Vec<String>, conv: ConvId) -> StoreResult<Vec<i32>>;

    /// Counts one more push to the device; the badge it then shows (the `doBackground` badge,
    /// 0 without one, plus the pushes since it was told) and the count it was taken from.
    /// `None` if the device is not known.
    fn count_push(&self, user: &str, platform: &str) -> Queued<Option<BadgeCount>>;

    /// Gives back a step [`PushStore::count_push`] took from count `epoch` (its push failed for
    /// good: the device never showed it), unless the count started again meanwhile.
    fn uncount_push(&self, user: &str, platform: &str, epoch: i64) -> Queued<()>;

    /// Forgets the device's registration if its token is still `token` (the provider rejected
    /// it); a newer registration stays.
    fn remove_push_token(&self, user: &str, platform: &str, token: &str) -> Queued<()>;
}

/// What a relationship write produced.
#[derive(Debug, Clone, Default)]
pub struct FriendOutcome {
    /// One result per user the operation named, in order (codes of refusals included: a
    /// relationship call succeeds with a result per user).
    pub results: Vec<OpResult>,
    /// The user events appended (to push after the commit).
    pub appended: Vec<Appended>,
    /// After a blacklist write: the caller's blacklist as it left it, with the write's change
    /// version (for the in-memory copy the send rule reads).
    pub blacklist: Option<(u64, Vec<String>)>,
}

/// The relationship chain: friend lists, applications, blacklists, friend groups.
#[async_trait]
pub trait FriendshipStore {
    /// `owner`'s friends, by user id.
    async fn friends(&self, owner: &str) -> StoreResult<Vec<FriendEntry>>;

    /// Each user's entry in `owner`'s list (or just their profile) and relation, in order.
    async fn friend_infos(&self, owner: &str, user_ids: Vec<String>) -> StoreResult<Vec<FriendInfoResult>>;

    /// Each user's relation to `owner` (`check_type` SINGLE looks at `owner`'s list only).
    async fn check_friends(&self, owner: &str, user_ids: Vec<String>, check_type: i32)
    -> StoreResult<Vec<CheckResult>>;

    /// Pending applications to and from `user`, newest first, and how many to them are unread.
    async fn friend_applications(&self, user: &str) -> StoreResult<(u32, Vec<FriendApplication>)>;

    /// Whom `owner` blocks, by user id.
    async fn blacklist(&self, owner: &str) -> StoreResult<Vec<FriendEntry>>;

    /// Every (owner, blocked) pair (loaded into memory when the server starts).
    async fn all_blacklists(&self) -> StoreResult<Vec<(String, String)>>;

    /// `owner`'s friend groups among `names` (all if empty), by name.
    async fn friend_groups(&self, owner: &str, names: Vec<String>) -> StoreResult<Vec<FriendGroup>>;

    /// What a C2C message from `sender` to `receiver` depends on: the two friendships and
    /// whether the receiver blocks the sender.
    async fn c2c_pair(&self, sender: &str, receiver: &str) -> StoreResult<Pair>;

    /// Runs a relationship write by `user`: loads each pair it names, lets
    /// [`crate::domain::friendship`] decide, applies and appends the events, in one transaction.
    fn friend_write(&self, user: &str, op: FriendOp, settings: FriendshipSettings) -> Queued<FriendOutcome>;
}

/// Everything the server needs from storage.
#[async_trait]
pub trait Store:
    UserStore
    + MessageStore
    + ConversationStore
    + GroupStore
    + SignalingStore
    + ProfileStore
    + FriendshipStore
    + PushStore
    + Send
    + Sync
    + 'static
{
    /// Finishes pending writes and closes the database.
    async fn close(&self);

    /// Whether the store can take writes (its writer runs). `/healthz` reports it.
    fn healthy(&self) -> bool {
        true
    }
}
