//! Test harness: a real `oxim-server` on an ephemeral loopback port, real SDK instances
//! (`oxim_core::Manager`) with their own data directories, and listeners that record what they
//! are told so tests can wait for it.

pub mod power_loss;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use futures_util::{SinkExt, StreamExt};
use oxim_core::conversation::Conversation;
use oxim_core::friendship::{FriendApplication, FriendInfo, FriendshipEvent};
use oxim_core::group::{GroupChange, GroupEvent, GroupMemberInfo, MemberChange};
use oxim_core::{
    AdvancedMsgListener, ConversationListener, ConversationManager, FriendshipListener, FriendshipManager,
    GroupListener, GroupManager, LogLevel, Manager, Message, MessageManager, MessageReceipt, SdkConfig, SdkListener,
    SignalingListener, SignalingManager, SimpleMsgListener, UserFullInfo, UserInfo,
};
use oxim_server::{Server, ServerConfig, ServerHandle};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long tests wait for something that should happen.
pub const WAIT: Duration = Duration::from_secs(15);

/// A server with its own data directory, restartable on the same address and data.
pub struct TestServer {
    handle: Option<ServerHandle>,
    config: ServerConfig,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server on 127.0.0.1 with a free port.
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = ServerConfig::for_tests(dir.path().join("server"));
        TestServer::start_with(config, dir).await
    }

    /// Starts a server whose configuration `tweak` adjusted.
    pub async fn start_configured(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = ServerConfig::for_tests(dir.path().join("server"));
        tweak(&mut config);
        TestServer::start_with(config, dir).await
    }

    /// Starts a server with `config` (its data dir should live in `dir`).
    pub async fn start_with(mut config: ServerConfig, dir: tempfile::TempDir) -> TestServer {
        let handle = Server::start(config.clone()).await.expect("server start");
        // Restarts reuse the port the first start got.
        config.listen = handle.addr();
        TestServer { handle: Some(handle), config, _dir: dir }
    }

    /// The running server.
    pub fn handle(&self) -> &ServerHandle {
        self.handle.as_ref().expect("server is running")
    }

    /// The server's data directory (its SQLite file is `oxim.db` in it).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.config.data_dir
    }

    /// The URL SDKs are configured with.
    pub fn url(&self) -> String {
        format!("ws://{}", self.config.listen)
    }

    /// The served SDKAppID.
    pub fn sdk_app_id(&self) -> u64 {
        self.config.sdk_app_id
    }

    /// A valid UserSig for `user` (one day).
    pub fn sig(&self, user: &str) -> String {
        self.handle().user_sig(user, 86400)
    }

    /// A UserSig for `user` issued at `issued_at` (Unix seconds) for `expire` seconds, signed
    /// with `secret` (the server's own key when `None`) for `sdk_app_id` (the server's when `None`).
    pub fn sig_with(
        &self,
        user: &str,
        issued_at: i64,
        expire: i64,
        secret: Option<&str>,
        sdk_app_id: Option<u64>,
    ) -> String {
        let key = oxim_server::usersig::UserSigKey::new(
            sdk_app_id.unwrap_or(self.config.sdk_app_id),
            secret.unwrap_or(&self.config.secret_key).to_owned(),
        );
        key.sign(user, issued_at, expire)
    }

    /// Stops the server (graceful shutdown).
    pub async fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await;
        }
    }

    /// Starts it again on the same address and data directory.
    pub async fn start_again(&mut self) {
        assert!(self.handle.is_none(), "stop first");
        // The port was just released; retry briefly in case the OS has not let go of it yet.
        let deadline = Instant::now() + WAIT;
        loop {
            match Server::start(self.config.clone()).await {
                Ok(handle) => {
                    self.handle = Some(handle);
                    return;
                }
                Err(e) if Instant::now() < deadline => {
                    eprintln!("restart: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("restart failed: {e}"),
            }
        }
    }
}

/// Something a listener was told.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// onConnecting
    Connecting,
    /// onConnectSuccess
    ConnectSuccess,
    /// onConnectFailed
    ConnectFailed(i32),
    /// onKickedOffline
    KickedOffline,
    /// onUserSigExpired
    UserSigExpired,
    /// onSelfInfoUpdated
    SelfInfo(Box<UserFullInfo>),
    /// onRecvC2CTextMessage(msgID, sender, text)
    Text {
        /// msgID
        msg_id: String,
        /// sender
        from: String,
        /// text
        text: String,
    },
    /// onRecvC2CCustomMessage(msgID, sender, data)
    Custom {
        /// msgID
        msg_id: String,
        /// sender
        from: String,
        /// data
        data: Vec<u8>,
    },
    /// onRecvNewMessage (advanced listener)
    New(Box<Message>),
    /// onRecvC2CReadReceipt
    Receipts(Vec<MessageReceipt>),
    /// onRecvMessageRevoked
    Revoked(String),
    /// onRecvGroupTextMessage(msgID, groupID, sender, text)
    GroupText {
        /// groupID
        group_id: String,
        /// sender
        from: String,
        /// text
        text: String,
    },
    /// onRecvGroupCustomMessage(msgID, groupID, sender, data)
    GroupCustom {
        /// groupID
        group_id: String,
        /// sender
        from: String,
        /// data
        data: Vec<u8>,
    },
    /// A V2TIMGroupListener callback.
    Group(GroupEvent),
    /// A V2TIMFriendshipListener callback.
    Friendship(FriendshipEvent),
    /// onSyncServerStart
    SyncStart,
    /// onSyncServerFinish
    SyncFinish,
    /// onSyncServerFailed
    SyncFailed,
    /// onNewConversation
    NewConversations(Vec<Conversation>),
    /// onConversationChanged
    ConversationsChanged(Vec<Conversation>),
    /// onTotalUnreadMessageCountChanged
    TotalUnread(u64),
    /// onReceiveNewInvitation
    Invited {
        /// inviteID
        invite_id: String,
        /// inviter
        inviter: String,
        /// groupID
        group_id: String,
        /// inviteeList
        invitees: Vec<String>,
        /// data
        data: String,
    },
    /// onInviteeAccepted
    Accepted {
        /// inviteID
        invite_id: String,
        /// invitee
        invitee: String,
        /// data
        data: String,
    },
    /// onInviteeRejected
    Rejected {
        /// inviteID
        invite_id: String,
        /// invitee
        invitee: String,
        /// data
        data: String,
    },
    /// onInvitationCancelled
    Cancelled {
        /// inviteID
        invite_id: String,
        /// inviter
        inviter: String,
        /// data
        data: String,
    },
    /// onInvitationTimeout
    TimedOut {
        /// inviteID
        invite_id: String,
        /// inviteeList
        invitees: Vec<String>,
    },
}

impl Seen {
    /// Whether this is a signaling callback.
    pub fn is_signal(&self) -> bool {
        matches!(
            self,
            Seen::Invited { .. }
                | Seen::Accepted { .. }
                | Seen::Rejected { .. }
                | Seen::Cancelled { .. }
                | Seen::TimedOut { .. }
        )
    }
}

/// Records every callback, in order.
#[derive(Default)]
pub struct Recorder {
    seen: Mutex<Vec<Seen>>,
    notify: Notify,
}

impl Recorder {
    fn record(&self, s: Seen) {
        self.seen.lock().unwrap().push(s);
        self.notify.notify_waiters();
    }

    /// Everything recorded so far.
    pub fn all(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Texts received, in order.
    pub fn texts(&self) -> Vec<String> {
        self.all()
            .into_iter()
            .filter_map(|s| match s {
                Seen::Text { text, .. } => Some(text),
                _ => None,
            })
            .collect()
    }

    /// Messages received by the advanced listener, in order.
    pub fn new_messages(&self) -> Vec<Message> {
        self.all()
            .into_iter()
            .filter_map(|s| match s {
                Seen::New(m) => Some(*m),
                _ => None,
            })
            .collect()
    }

    /// Waits until the advanced listener received `n` messages.
    pub async fn wait_new(&self, n: usize) {
        self.wait_until(&format!("{n} new messages"), |s| s.iter().filter(|x| matches!(x, Seen::New(_))).count() >= n)
            .await;
    }

    /// Signaling callbacks received, in order.
    pub fn signals(&self) -> Vec<Seen> {
        self.all().into_iter().filter(Seen::is_signal).collect()
    }

    /// Waits until `n` signaling callbacks were received; returns them all.
    pub async fn wait_signals(&self, n: usize) -> Vec<Seen> {
        self.wait_until(&format!("{n} signaling callbacks"), |s| s.iter().filter(|x| x.is_signal()).count() >= n).await;
        self.signals()
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }

    /// Waits until `pred` holds for the recording (panics after [`WAIT`]).
    pub async fn wait_until(&self, what: &str, pred: impl Fn(&[Seen]) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let notified = self.notify.notified();
            if pred(&self.seen.lock().unwrap()) {
                return;
            }
            if tokio::time::timeout_at(deadline.into(), notified).await.is_err() {
                panic!("timed out waiting for {what}; seen: {:?}", self.all());
            }
        }
    }

    /// Group listener callbacks received, in order.
    pub fn group_events(&self) -> Vec<GroupEvent> {
        self.all()
            .into_iter()
            .filter_map(|s| match s {
                Seen::Group(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// Waits until a group callback matching `pred` arrived; returns it.
    pub async fn wait_group(&self, what: &str, pred: impl Fn(&GroupEvent) -> bool) -> GroupEvent {
        self.wait_until(what, |s| s.iter().any(|x| matches!(x, Seen::Group(e) if pred(e)))).await;
        self.group_events().into_iter().find(|e| pred(e)).expect("just seen")
    }

    /// How many group callbacks match `pred`.
    pub fn count_group(&self, pred: impl Fn(&GroupEvent) -> bool) -> usize {
        self.group_events().iter().filter(|e| pred(e)).count()
    }

    /// Friendship listener callbacks received, in order.
    pub fn friendship_events(&self) -> Vec<FriendshipEvent> {
        self.all()
            .into_iter()
            .filter_map(|s| match s {
                Seen::Friendship(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// Waits until `n` friendship callbacks arrived; returns all of them.
    pub async fn wait_friendship(&self, n: usize) -> Vec<FriendshipEvent> {
        self.wait_until(&format!("{n} friendship callbacks"), |s| {
            s.iter().filter(|x| matches!(x, Seen::Friendship(_))).count() >= n
        })
        .await;
        self.friendship_events()
    }

    /// The profiles `onSelfInfoUpdated` told, in order.
    pub fn self_infos(&self) -> Vec<UserFullInfo> {
        self.all()
            .into_iter()
            .filter_map(|s| match s {
                Seen::SelfInfo(i) => Some(*i),
                _ => None,
            })
            .collect()
    }

    /// Waits until `onSelfInfoUpdated` was told `n` times; returns what it was told.
    pub async fn wait_self_infos(&self, n: usize) -> Vec<UserFullInfo> {
        self.wait_until(&format!("{n} onSelfInfoUpdated"), |s| {
            s.iter().filter(|x| matches!(x, Seen::SelfInfo(_))).count() >= n
        })
        .await;
        self.self_infos()
    }

    /// Waits until `n` texts were received.
    pub async fn wait_texts(&self, n: usize) {
        self.wait_until(&format!("{n} texts"), |s| s.iter().filter(|x| matches!(x, Seen::Text { .. })).count() >= n)
            .await;
    }
}

impl SdkListener for Recorder {
    fn on_connecting(&self) {
        self.record(Seen::Connecting);
    }
    fn on_connect_success(&self) {
        self.record(Seen::ConnectSuccess);
    }
    fn on_connect_failed(&self, code: i32, _error: String) {
        self.record(Seen::ConnectFailed(code));
    }
    fn on_kicked_offline(&self) {
        self.record(Seen::KickedOffline);
    }
    fn on_user_sig_expired(&self) {
        self.record(Seen::UserSigExpired);
    }
    fn on_self_info_updated(&self, info: UserFullInfo) {
        self.record(Seen::SelfInfo(Box::new(info)));
    }
}

impl SimpleMsgListener for Recorder {
    fn on_recv_c2c_text_message(&self, msg_id: String, sender: UserInfo, text: String) {
        self.record(Seen::Text { msg_id, from: sender.user_id, text });
    }
    fn on_recv_c2c_custom_message(&self, msg_id: String, sender: UserInfo, data: Vec<u8>) {
        self.record(Seen::Custom { msg_id, from: sender.user_id, data });
    }
    fn on_recv_group_text_message(&self, _msg_id: String, group_id: String, sender: GroupMemberInfo, text: String) {
        self.record(Seen::GroupText { group_id, from: sender.user_id, text });
    }
    fn on_recv_group_custom_message(&self, _msg_id: String, group_id: String, sender: GroupMemberInfo, data: Vec<u8>) {
        self.record(Seen::GroupCustom { group_id, from: sender.user_id, data });
    }
}

impl ConversationListener for Recorder {
    fn on_sync_server_start(&self) {
        self.record(Seen::SyncStart);
    }
    fn on_sync_server_finish(&self) {
        self.record(Seen::SyncFinish);
    }
    fn on_sync_server_failed(&self) {
        self.record(Seen::SyncFailed);
    }
    fn on_new_conversation(&self, conversations: Vec<Conversation>) {
        self.record(Seen::NewConversations(conversations));
    }
    fn on_conversation_changed(&self, conversations: Vec<Conversation>) {
        self.record(Seen::ConversationsChanged(conversations));
    }
    fn on_total_unread_message_count_changed(&self, total: u64) {
        self.record(Seen::TotalUnread(total));
    }
}

impl FriendshipListener for Recorder {
    fn on_friend_application_list_added(&self, application_list: Vec<FriendApplication>) {
        self.record(Seen::Friendship(FriendshipEvent::ApplicationsAdded(application_list)));
    }
    fn on_friend_application_list_deleted(&self, user_id_list: Vec<String>) {
        self.record(Seen::Friendship(FriendshipEvent::ApplicationsDeleted(user_id_list)));
    }
    fn on_friend_application_list_read(&self) {
        self.record(Seen::Friendship(FriendshipEvent::ApplicationsRead));
    }
    fn on_friend_list_added(&self, users: Vec<FriendInfo>) {
        self.record(Seen::Friendship(FriendshipEvent::FriendsAdded(users)));
    }
    fn on_friend_list_deleted(&self, user_list: Vec<String>) {
        self.record(Seen::Friendship(FriendshipEvent::FriendsDeleted(user_list)));
    }
    fn on_black_list_add(&self, info_list: Vec<FriendInfo>) {
        self.record(Seen::Friendship(FriendshipEvent::BlackAdded(info_list)));
    }
    fn on_black_list_deleted(&self, user_list: Vec<String>) {
        self.record(Seen::Friendship(FriendshipEvent::BlackDeleted(user_list)));
    }
    fn on_friend_info_changed(&self, info_list: Vec<FriendInfo>) {
        self.record(Seen::Friendship(FriendshipEvent::FriendsChanged(info_list)));
    }
}

impl GroupListener for Recorder {
    fn on_member_enter(&self, group_id: String, members: Vec<GroupMemberInfo>) {
        self.record(Seen::Group(GroupEvent::MemberEnter { group_id, members }));
    }
    fn on_member_leave(&self, group_id: String, member: GroupMemberInfo) {
        self.record(Seen::Group(GroupEvent::MemberLeave { group_id, member }));
    }
    fn on_member_invited(&self, group_id: String, op_user: GroupMemberInfo, members: Vec<GroupMemberInfo>) {
        self.record(Seen::Group(GroupEvent::MemberInvited { group_id, op_user, members }));
    }
    fn on_member_kicked(&self, group_id: String, op_user: GroupMemberInfo, members: Vec<GroupMemberInfo>) {
        self.record(Seen::Group(GroupEvent::MemberKicked { group_id, op_user, members }));
    }
    fn on_member_info_changed(&self, group_id: String, changes: Vec<MemberChange>) {
        self.record(Seen::Group(GroupEvent::MemberInfoChanged { group_id, changes }));
    }
    fn on_group_created(&self, group_id: String) {
        self.record(Seen::Group(GroupEvent::GroupCreated { group_id }));
    }
    fn on_group_dismissed(&self, group_id: String, op_user: GroupMemberInfo) {
        self.record(Seen::Group(GroupEvent::GroupDismissed { group_id, op_user }));
    }
    fn on_group_info_changed(&self, group_id: String, changes: Vec<GroupChange>) {
        self.record(Seen::Group(GroupEvent::GroupInfoChanged { group_id, changes }));
    }
    fn on_receive_join_application(&self, group_id: String, member: GroupMemberInfo, reason: String) {
        self.record(Seen::Group(GroupEvent::ReceiveJoinApplication { group_id, member, reason }));
    }
    fn on_application_processed(&self, group_id: String, op_user: GroupMemberInfo, agreed: bool, reason: String) {
        self.record(Seen::Group(GroupEvent::ApplicationProcessed { group_id, op_user, agreed, reason }));
    }
    fn on_grant_administrator(&self, group_id: String, op_user: GroupMemberInfo, members: Vec<GroupMemberInfo>) {
        self.record(Seen::Group(GroupEvent::GrantAdministrator { group_id, op_user, members }));
    }
    fn on_revoke_administrator(&self, group_id: String, op_user: GroupMemberInfo, members: Vec<GroupMemberInfo>) {
        self.record(Seen::Group(GroupEvent::RevokeAdministrator { group_id, op_user, members }));
    }
    fn on_quit_from_group(&self, group_id: String) {
        self.record(Seen::Group(GroupEvent::QuitFromGroup { group_id }));
    }
    fn on_group_attribute_changed(&self, group_id: String, attributes: BTreeMap<String, String>) {
        self.record(Seen::Group(GroupEvent::AttributeChanged { group_id, attributes }));
    }
}

impl AdvancedMsgListener for Recorder {
    fn on_recv_new_message(&self, msg: Message) {
        self.record(Seen::New(Box::new(msg)));
    }
    fn on_recv_c2c_read_receipt(&self, receipts: Vec<MessageReceipt>) {
        self.record(Seen::Receipts(receipts));
    }
    fn on_recv_message_revoked(&self, msg_id: String) {
        self.record(Seen::Revoked(msg_id));
    }
}

impl SignalingListener for Recorder {
    fn on_receive_new_invitation(
        &self,
        invite_id: String,
        inviter: String,
        group_id: String,
        invitees: Vec<String>,
        data: String,
    ) {
        self.record(Seen::Invited { invite_id, inviter, group_id, invitees, data });
    }
    fn on_invitee_accepted(&self, invite_id: String, invitee: String, data: String) {
        self.record(Seen::Accepted { invite_id, invitee, data });
    }
    fn on_invitee_rejected(&self, invite_id: String, invitee: String, data: String) {
        self.record(Seen::Rejected { invite_id, invitee, data });
    }
    fn on_invitation_cancelled(&self, invite_id: String, inviter: String, data: String) {
        self.record(Seen::Cancelled { invite_id, inviter, data });
    }
    fn on_invitation_timeout(&self, invite_id: String, invitees: Vec<String>) {
        self.record(Seen::TimedOut { invite_id, invitees });
    }
}

/// Current Unix time in seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An SDK instance with a recorder registered as SDK and simple message listener.
pub struct TestClient {
    /// The SDK.
    pub sdk: Manager,
    /// What its listeners were told.
    pub seen: Arc<Recorder>,
    dir: tempfile::TempDir,
    platform: String,
}

impl TestClient {
    /// A new device (empty data directory) on `platform`, initialised against `server`.
    pub async fn new(server: &TestServer, platform: &str) -> TestClient {
        TestClient::new_configured(server, platform, |_| {}).await
    }

    /// A new device whose SDK configuration `tweak` adjusted.
    pub async fn new_configured(server: &TestServer, platform: &str, tweak: impl FnOnce(&mut SdkConfig)) -> TestClient {
        let dir = tempfile::tempdir().expect("temp dir");
        let client =
            TestClient { sdk: Manager::new(), seen: Arc::new(Recorder::default()), dir, platform: platform.into() };
        let mut config = client.config(server);
        tweak(&mut config);
        client.sdk.init_sdk(server.sdk_app_id(), config, Some(client.seen.clone())).expect("initSDK");
        client.sdk.add_simple_msg_listener(client.seen.clone());
        client.wait_connected().await;
        client
    }

    fn config(&self, server: &TestServer) -> SdkConfig {
        let mut config = SdkConfig::new(server.url(), self.dir.path());
        config.platform = self.platform.clone();
        // OXIM_TEST_LOG=1 shows the SDKs' logs (OXIM_SDK_LOG filters them).
        config.log_level = if std::env::var_os("OXIM_TEST_LOG").is_some() { LogLevel::Debug } else { LogLevel::None };
        config
    }

    /// `initSDK` with this device's data directory.
    pub fn init(&self, server: &TestServer) {
        self.init_as(server, server.sdk_app_id());
    }

    /// `initSDK` for `sdk_app_id` (which may differ from the server's).
    pub fn init_as(&self, server: &TestServer, sdk_app_id: u64) {
        self.sdk.init_sdk(sdk_app_id, self.config(server), Some(self.seen.clone())).expect("initSDK");
        self.sdk.add_simple_msg_listener(self.seen.clone());
    }

    /// The message manager.
    pub fn mm(&self) -> MessageManager {
        self.sdk.message_manager()
    }

    /// The conversation manager.
    pub fn cm(&self) -> ConversationManager {
        self.sdk.conversation_manager()
    }

    /// Registers the recorder as conversation listener too.
    pub fn listen_conversations(&self) {
        self.sdk.add_conversation_listener(self.seen.clone());
    }

    /// The unread count of a listed conversation (`None`: not listed).
    pub async fn unread(&self, conversation_id: &str) -> Option<u64> {
        self.cm().conversation(conversation_id.into()).await.ok().map(|c| c.unread_count)
    }

    /// Waits until `f` holds for this device (polling its public API; panics after [`WAIT`]).
    pub async fn eventually<F, Fut>(&self, what: &str, f: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + WAIT;
        while !f().await {
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The group manager.
    pub fn gm(&self) -> GroupManager {
        self.sdk.group_manager()
    }

    /// Registers the recorder as group listener too.
    pub fn listen_group(&self) {
        self.sdk.add_group_listener(self.seen.clone());
    }

    /// Registers the recorder as advanced message listener too.
    pub fn listen_advanced(&self) {
        self.sdk.add_advanced_msg_listener(self.seen.clone());
    }

    /// The friendship manager.
    pub fn fm(&self) -> FriendshipManager {
        self.sdk.friendship_manager()
    }

    /// Registers the recorder as friendship listener too.
    pub fn listen_friendship(&self) {
        self.fm().add_friend_listener(self.seen.clone());
    }

    /// The signaling manager.
    pub fn sm(&self) -> SignalingManager {
        self.sdk.signaling_manager()
    }

    /// Registers the recorder as signaling listener too.
    pub fn listen_signaling(&self) {
        self.sdk.add_signaling_listener(self.seen.clone());
    }

    /// This device's data directory.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Waits for onConnectSuccess.
    pub async fn wait_connected(&self) {
        self.seen.wait_until("onConnectSuccess", |s| s.contains(&Seen::ConnectSuccess)).await;
    }

    /// Logs `user` in with a valid UserSig.
    pub async fn login(&self, server: &TestServer, user: &str) {
        self.sdk.login(user.into(), server.sig(user)).await.expect("login");
    }

    /// A new device that is logged in as `user`.
    pub async fn logged_in(server: &TestServer, user: &str, platform: &str) -> TestClient {
        let c = TestClient::new(server, platform).await;
        c.login(server, user).await;
        c
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.sdk.uninit_sdk();
    }
}

/// A raw protocol client (no SDK): for checks of the server's own rules, and for crowds too
/// large for one SDK instance each.
pub struct RawClient {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    next_id: u64,
    /// Pushes read while waiting for responses.
    pub pushes: Vec<Value>,
}

impl RawClient {
    /// Connects to `server`.
    pub async fn connect(server: &TestServer) -> RawClient {
        let (ws, _) = tokio_tungstenite::connect_async(server.handle().ws_url()).await.unwrap();
        RawClient { ws, next_id: 1, pushes: Vec::new() }
    }

    /// Sends a request and returns its response frame (pushes in between are kept).
    pub async fn call(&mut self, op: &str, body: Value) -> Value {
        self.call_v(1, op, body).await
    }

    /// Sends a request without waiting for its response; returns its id.
    pub async fn send(&mut self, op: &str, body: Value) -> u64 {
        self.send_v(1, op, body).await
    }

    async fn send_v(&mut self, v: u32, op: &str, body: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"v": v, "t": "req", "id": id, "op": op, "body": body});
        self.ws.send(WsMessage::Text(frame.to_string().into())).await.unwrap();
        id
    }

    /// Sends a request with protocol version `v`.
    pub async fn call_v(&mut self, v: u32, op: &str, body: Value) -> Value {
        let id = self.send_v(v, op, body).await;
        loop {
            let frame = self.next_frame(WAIT).await.expect("response in time");
            if frame["t"] == "res" && frame["id"] == id {
                return frame;
            }
            if frame["t"] == "push" {
                self.pushes.push(frame);
            }
        }
    }

    /// The next frame, if one arrives within `wait`.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(wait, self.ws.next()).await.ok()??.ok()?;
            if let WsMessage::Text(text) = msg {
                return serde_json::from_str(&text).ok();
            }
        }
    }

    /// The next push (one kept earlier first), if one arrives within `wait`.
    pub async fn next_push(&mut self, wait: Duration) -> Option<Value> {
        if !self.pushes.is_empty() {
            return Some(self.pushes.remove(0));
        }
        loop {
            let frame = self.next_frame(wait).await?;
            if frame["t"] == "push" {
                return Some(frame);
            }
        }
    }

    /// Logs `user` in (platform "test").
    pub async fn login(&mut self, server: &TestServer, user: &str) {
        let res = self
            .call("login", json!({"sdk_app_id": server.sdk_app_id(), "user_id": user, "user_sig": server.sig(user), "platform": "test"}))
            .await;
        assert_eq!(res["code"], 0, "{res}");
    }
}
