//! Request handlers, all of one shape:
//!
//! ```text
//! async fn handler(ctx: &Ctx, caller: &Caller, req: Req) -> Reply<Res>
//! type Reply<Res> = Result<(Res, Effects), Refusal>
//! ```
//!
//! A handler checks the request, reads and writes through the [`Store`] and answers; what else
//! must happen (pushes to online sessions, an invitation deadline, the connection signing in)
//! comes back as data, [`Effect`]s, for the gateway to carry out. A handler knows no
//! connection, spawns nothing and writes to no socket, so each one is tested by calling it.
//!
//! - [`auth`] — login.
//! - [`messaging`] — send, revoke, read, delete, clear; sync, pull, history.
//! - [`conversations`] — unread counts, deleting and pinning conversations, C2C receive options.
//! - [`groups`] — group operations; AVChatRoom rooms live in memory ([`Services::rooms`]).
//! - [`signaling`] — invitations, and their expiry (called by the gateway's timer).
//! - [`profiles`] — users' profiles: anyone's, and changes to the caller's own.
//! - [`friendship`] — friends, friend applications, blacklists, friend groups.

pub mod auth;
pub mod conversations;
pub mod friendship;
pub mod groups;
pub mod messaging;
pub mod offline_push;
pub mod profiles;
pub mod signaling;

#[cfg(test)]
mod testing;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use oxim_proto::code;
use oxim_proto::group::GroupAttrs;
use oxim_proto::ids::ConvId;
use oxim_proto::payload::WireMessage;
use oxim_proto::push;
use serde::Serialize;

use crate::config::ServerConfig;
use crate::domain::clock::Clock;
use crate::domain::device_logins::{DeviceLogin, DeviceLogins};
use crate::domain::rate::{SendHolds, SendRate};
use crate::domain::refusal::Refusal;
use crate::domain::rooms::{RoomRate, Rooms};
use crate::store::{Appended, Queued, Store, StoreError, StoreResult};
use crate::usersig::UserSigKey;

/// What a handler returns: its response and effects, or a refusal.
pub type Reply<T> = Result<(T, Effects), Refusal>;

/// What a request causes besides its response, in the order the gateway carries it out (pushes
/// that reach the requesting connection before the response, the rest after it).
pub type Effects = Vec<Effect>;

/// Something the gateway does for a handler.
// Pushes (a message inline) are nearly every effect; boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Push to online sessions.
    Push(Push),
    /// Time invitation `invite_id` out at `at_ms` (server Unix ms) if still open then.
    Deadline {
        /// The invitation.
        invite_id: String,
        /// When.
        at_ms: i64,
    },
    /// The requesting connection is now signed in (login).
    SignIn(Session),
}

/// A login, as the connection keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user: String,
    /// Platform given at login.
    pub platform: String,
    /// When the UserSig expires, Unix seconds.
    pub expires_at: i64,
    /// The login's hold on the device (user and platform), until a newer login there.
    pub login: Arc<DeviceLogin>,
}

/// A push to the online sessions of some users.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    /// The push event (`op` of the push frame).
    pub event: &'static str,
    /// Its body.
    pub body: PushBody,
    /// The users whose sessions get it.
    pub to: Vec<String>,
    /// The requesting connection gets it too; otherwise only the users' other sessions (the
    /// requester learns from the response).
    pub to_caller: bool,
}

/// The body of a push.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PushBody {
    /// A message (`msg`, `signal`).
    Msg(WireMessage),
    /// A group's attributes (`group_attrs`).
    Attrs(GroupAttrs),
}

impl Effect {
    /// A `msg` push of `msg` to `to`.
    pub fn msg(msg: WireMessage, to: Vec<String>, to_caller: bool) -> Effect {
        Effect::Push(Push { event: push::MSG, body: PushBody::Msg(msg), to, to_caller })
    }
}

/// Pushes of what a write appended, to each message's recipients; nothing for a duplicate (it
/// was pushed, or will be synced, when it was first stored).
pub fn appended_pushes(appended: impl IntoIterator<Item = Appended>, to_caller: bool) -> Effects {
    appended.into_iter().filter(|a| !a.duplicate).map(|a| Effect::msg(a.msg, a.recipients, to_caller)).collect()
}

/// Who asks: a signed-in user.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: String,
    /// The platform the user logged in with on this connection (empty where no request needs
    /// it: unit tests of requests that are not per device).
    pub platform: String,
    /// The user's message bucket, shared by all their sessions (`None`: no limit).
    pub send_rate: Option<Arc<SendRate>>,
    /// The conversations this connection holds back after a refusal for the rate.
    pub send_holds: Option<Arc<SendHolds>>,
    /// The login of the caller's device, whose device writes a newer login there refuses
    /// (`None`: no check, in unit tests of requests that are not per device).
    pub login: Option<Arc<DeviceLogin>>,
}

impl Caller {
    /// The caller `user`.
    pub fn new(user: impl Into<String>) -> Caller {
        Caller { user: user.into(), platform: String::new(), send_rate: None, send_holds: None, login: None }
    }

    /// The caller `user` on `platform` (one device: one session per user and platform).
    pub fn on(user: impl Into<String>, platform: impl Into<String>) -> Caller {
        Caller { user: user.into(), platform: platform.into(), send_rate: None, send_holds: None, login: None }
    }

    /// The same caller, whose messages take tokens of `bucket`.
    pub fn with_send_rate(mut self, bucket: Option<Arc<SendRate>>) -> Caller {
        self.send_rate = bucket;
        self
    }

    /// The same caller, signed in with `login`.
    pub fn with_login(mut self, login: Arc<DeviceLogin>) -> Caller {
        self.login = Some(login);
        self
    }

    /// The same caller, whose connection holds conversations back in `holds`.
    pub fn with_send_holds(mut self, holds: Option<Arc<SendHolds>>) -> Caller {
        self.send_holds = holds;
        self
    }

    /// Takes a token for a message (outside AVChatRooms) at `now_ms`; refuses (-10113, V2TIM's
    /// per-user frequency limit) when the user's bucket is empty. `ordered` names a stored
    /// message (conversation key, message id): after a refusal, the later messages of its
    /// conversation on this connection are refused until it comes again ([`SendHolds`]), so a
    /// client's pipelined messages are stored in their order.
    pub fn take_send_token(&self, now_ms: i64, ordered: Option<(&str, &str)>) -> Result<(), Refusal> {
        let Some(bucket) = &self.send_rate else { return Ok(()) };
        let taken = match (&self.send_holds, ordered) {
            (Some(holds), Some((conv, msg_id))) => holds.take(bucket, conv, msg_id, now_ms),
            (holds, _) => {
                let taken = bucket.take(now_ms);
                if let (false, Some(holds)) = (taken, holds) {
                    holds.count_refusal();
                }
                taken
            }
        };
        if taken {
            Ok(())
        } else {
            Err(Refusal::new(code::SVR_SSO_FREQ_LIMIT, "you send messages too fast: try again in a moment"))
        }
    }
}

/// Who asks before signing in (login).
#[derive(Debug, Clone, Copy, Default)]
pub struct Guest;

/// Who is online, as the handlers may ask (the gateway's session registry answers).
pub trait Presence: Send + Sync + 'static {
    /// Whether `user` has a signed-in session.
    fn is_online(&self, user: &str) -> bool;

    /// Pushes `push` to the online sessions of its users now (every session, the requester's
    /// included), without waiting: for pushes made in a store's commit order
    /// ([`crate::store::AfterCommit`]) rather than as a request's effect.
    fn push_now(&self, push: &Push);
}

/// Who uploaded which file, as the handlers may ask (the media store answers): a message may
/// only carry files its sender may read.
#[async_trait::async_trait]
pub trait FileOwners: Send + Sync + 'static {
    /// The user who uploaded file `uuid` (an image variant: the original's uploader); `None`
    /// for no such file.
    async fn owner(&self, uuid: &str) -> Option<String>;
}

/// [`FileOwners`] of a server without a file store: no file has an owner.
struct NoFiles;

#[async_trait::async_trait]
impl FileOwners for NoFiles {
    async fn owner(&self, _uuid: &str) -> Option<String> {
        None
    }
}

/// What every handler may use: the store, the configuration, the UserSig key, AVChatRoom rooms,
/// the clock, who is online.
pub struct Services {
    /// Configuration the server was started with.
    pub config: ServerConfig,
    /// Persistent storage.
    pub store: Arc<dyn Store>,
    /// UserSig verification for the served app.
    pub sigs: UserSigKey,
    /// AVChatRoom membership (online only).
    pub rooms: Rooms,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Who is online.
    pub presence: Arc<dyn Presence>,
    /// Who uploaded which file.
    pub files: Arc<dyn FileOwners>,
    /// Users known to exist (a cache in front of the store; users are never deleted).
    known_users: RwLock<HashSet<String>>,
    /// Blacklists, as every C2C send asks them.
    pub blacklists: Blacklists,
    /// Which login holds each device (offline push writes of a superseded one are refused).
    pub device_logins: DeviceLogins,
}

/// Every blacklist, in memory, as each C2C send asks them: loaded when the server starts, and
/// replaced per owner by the list a blacklist write left (newer writes win, however their
/// answers race), so a send never waits for the store to learn whether it may go.
#[derive(Default)]
pub struct Blacklists {
    lists: RwLock<HashMap<String, VersionedList>>,
}

/// A blacklist and the change version of the write that left it.
type VersionedList = (u64, Arc<HashSet<String>>);

impl Blacklists {
    /// Loads every (owner, blocked) pair.
    pub fn load(&self, pairs: Vec<(String, String)>) {
        let mut lists: HashMap<String, HashSet<String>> = HashMap::new();
        for (owner, blocked) in pairs {
            lists.entry(owner).or_default().insert(blocked);
        }
        *self.lists.write().expect("blacklists lock") =
            lists.into_iter().map(|(owner, list)| (owner, (0, Arc::new(list)))).collect();
    }

    /// Whether `owner` blocks `user`.
    pub fn blocks(&self, owner: &str, user: &str) -> bool {
        self.lists.read().expect("blacklists lock").get(owner).is_some_and(|(_, list)| list.contains(user))
    }

    /// `owner`'s list as the write with change version `version` left it.
    pub fn replace(&self, owner: &str, version: u64, list: Vec<String>) {
        let mut lists = self.lists.write().expect("blacklists lock");
        let newer = lists.get(owner).is_none_or(|(v, _)| *v < version);
        if newer {
            lists.insert(owner.to_owned(), (version, Arc::new(list.into_iter().collect())));
        }
    }
}

impl Services {
    /// The services of a server.
    pub fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        presence: Arc<dyn Presence>,
    ) -> Services {
        let sigs = UserSigKey::new(config.sdk_app_id, config.secret_key.clone());
        Services {
            config,
            store,
            sigs,
            rooms: Rooms::default(),
            clock,
            presence,
            files: Arc::new(NoFiles),
            known_users: RwLock::new(HashSet::new()),
            blacklists: Blacklists::default(),
            device_logins: DeviceLogins::default(),
        }
    }

    /// The same services, with `files` telling who uploaded which file.
    pub fn with_file_owners(mut self, files: Arc<dyn FileOwners>) -> Services {
        self.files = files;
        self
    }

    /// Whether `user` may read file `uuid`: they uploaded it, or a message carrying it reached
    /// a conversation of theirs.
    pub async fn may_read_file(&self, user: &str, uuid: &str) -> StoreResult<bool> {
        if self.files.owner(uuid).await.as_deref() == Some(user) {
            return Ok(true);
        }
        self.store.file_shared_with(user, uuid).await
    }

    /// Loads every blacklist into memory (at start, before any request).
    pub async fn load_blacklists(&self) -> StoreResult<()> {
        self.blacklists.load(self.store.all_blacklists().await?);
        Ok(())
    }

    /// Now, Unix ms.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Records that `user` exists.
    pub async fn register_user(&self, user: &str) -> StoreResult<()> {
        if self.known_users.read().expect("users lock").contains(user) {
            return Ok(());
        }
        self.store.register_user(user).await?;
        self.known_users.write().expect("users lock").insert(user.to_owned());
        Ok(())
    }

    /// Whether `user` exists (has logged in at least once).
    pub async fn user_exists(&self, user: &str) -> StoreResult<bool> {
        if self.known_users.read().expect("users lock").contains(user) {
            return Ok(true);
        }
        let exists = self.store.user_exists(user).await?;
        if exists {
            self.known_users.write().expect("users lock").insert(user.to_owned());
        }
        Ok(exists)
    }

    /// The AVChatRoom rate rule.
    pub fn room_rate(&self) -> RoomRate {
        RoomRate { limit: self.config.room_msgs_per_window, window: self.config.room_window }
    }
}

/// What the requests of one connection share: the services, and the order of their writes.
///
/// The gateway runs a connection's requests in the order they arrive until each has queued its
/// store write (the store queues a write when it is called), then lets it finish beside the
/// next ones: one client pipelines sends without reordering them. A handler passes its turn by
/// queueing its write through [`Ctx::write`]; a handler that writes otherwise (or not at all)
/// simply keeps the connection's next request waiting until it has finished.
pub struct Scope {
    services: Arc<Services>,
    /// The last turn passed (requests are numbered from 1).
    passed: AtomicU64,
    /// The request the gateway is running in its connection loop right now (0: none).
    inline: AtomicU64,
}

impl Scope {
    /// The scope of a new connection.
    pub fn new(services: Arc<Services>) -> Arc<Scope> {
        Arc::new(Scope { services, passed: AtomicU64::new(0), inline: AtomicU64::new(0) })
    }

    /// Whether request `number` has queued its write.
    pub fn passed(&self, number: u64) -> bool {
        self.passed.load(Ordering::Acquire) >= number
    }

    /// The gateway runs request `number` in its connection loop from now until
    /// [`Scope::run_elsewhere`], and once its turn has passed, hands it to a task of its own at
    /// its first `Pending`.
    pub fn run_inline(&self, number: u64) {
        self.inline.store(number, Ordering::Release);
    }

    /// The request run inline leaves the connection loop (finished, or handed to a task).
    pub fn run_elsewhere(&self) {
        self.inline.store(0, Ordering::Release);
    }
}

/// A queued store write, as a handler awaits it ([`Ctx::write`]).
pub struct Write<T> {
    queued: Queued<T>,
    scope: Arc<Scope>,
    number: u64,
}

impl<T> Future for Write<T> {
    type Output = StoreResult<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<StoreResult<T>> {
        if !self.queued.admitted() {
            // The writer's queue was full: the turn passes once the write is in line, so the
            // connection's next request (read only then) is queued after it.
            std::task::ready!(self.queued.poll_admitted(cx));
            self.scope.passed.fetch_max(self.number, Ordering::AcqRel);
        }
        if self.scope.inline.load(Ordering::Acquire) == self.number {
            // Still in the connection loop, turn passed: the gateway hands the request to a task
            // of its own as soon as this returns, and that task polls again. Waiting for the
            // commit from here would wake the connection loop for nothing.
            return Poll::Pending;
        }
        Pin::new(&mut self.queued).poll(cx)
    }
}

/// What a handler is given besides the caller and the request: the services (it dereferences
/// to [`Services`]), and the request's place in its connection's order of writes ([`Scope`]).
pub struct Ctx {
    scope: Arc<Scope>,
    number: u64,
}

impl Ctx {
    /// A context outside any connection (timers, tests): nobody waits for its turn.
    pub fn new(services: Arc<Services>) -> Ctx {
        Ctx { scope: Scope::new(services), number: 1 }
    }

    /// The context of request `number` (counting from 1) of the connection whose scope is
    /// `scope`.
    pub fn in_scope(scope: Arc<Scope>, number: u64) -> Ctx {
        Ctx { scope, number }
    }

    /// The services, to keep beyond the request (hooks that run after a commit).
    pub fn services(&self) -> Arc<Services> {
        self.scope.services.clone()
    }

    /// Queues a store write (now, in the order of the connection's requests) and passes the
    /// request's turn (when the writer's queue is full: once the write got in, see [`Write`]);
    /// awaiting the result waits for the commit.
    pub fn write<T>(&self, queue: impl FnOnce(&dyn Store) -> Queued<T>) -> Write<T> {
        let queued = queue(self.scope.services.store.as_ref());
        if queued.admitted() {
            // fetch_max: a late write of an earlier request never takes a later one's turn back.
            self.scope.passed.fetch_max(self.number, Ordering::AcqRel);
        }
        Write { queued, scope: self.scope.clone(), number: self.number }
    }
}

impl Deref for Ctx {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.scope.services
    }
}

/// The refusal for a store error (an internal error for anything but a refusal).
pub fn refusal(e: StoreError) -> Refusal {
    match e {
        StoreError::MsgIdTaken(id) => Refusal::new(code::INVALID_PARAMETERS, format!("msgID {id} is already used")),
        StoreError::Refused { code, desc } => Refusal::new(code, desc),
        e => {
            tracing::error!("store: {e}");
            Refusal::new(code::SVR_MSG_INTERNAL_ERROR, e.to_string())
        }
    }
}

/// A conversation id an app named: not the user's own stream.
pub fn check_conv(conv: &ConvId) -> Result<(), Refusal> {
    match conv {
        ConvId::System => Err(Refusal::new(code::INVALID_CONVERSATION, "not a conversation")),
        ConvId::Group(_) | ConvId::C2C(_) => Ok(()),
    }
}
