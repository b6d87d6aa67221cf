//! `V2TIMManager`: the SDK's entry point. A thin facade: it checks the calls' preconditions
//! and hands the work to the client, session and manager modules.

use std::sync::{Arc, Mutex, OnceLock};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::events::{ListenerId, Listeners};
use crate::group::{GroupCreation, GroupManager};
use crate::listener::{AdvancedMsgListener, GroupListener, SdkListener, SignalingListener, SimpleMsgListener};
use crate::message::{MessageManager, SendOptions};
use crate::model::config::{LogLevel, LoginStatus, SdkConfig};
use crate::model::message::{Elem, Message};
use crate::runtime;
use crate::session::{Session, SessionSource};
use crate::store;

/// An SDK instance. Cheap to clone (all clones are the same instance).
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

struct Inner {
    client: Mutex<Option<Arc<Client>>>,
    listeners: Arc<Listeners>,
    drafts: Arc<crate::message::Drafts>,
}

impl Inner {
    fn client(&self) -> Result<Arc<Client>> {
        self.client.lock().expect("manager lock").clone().ok_or_else(Error::not_initialized)
    }
}

impl SessionSource for Inner {
    fn session(&self) -> Result<Arc<Session>> {
        self.client()?.session()
    }
}

/// The last handle of an instance is gone without `unInitSDK`: shut it down all the same
/// (connection, reconnect loop, session, event work), as `unInitSDK` would.
impl Drop for Inner {
    fn drop(&mut self) {
        let client = self.client.get_mut().map(Option::take).unwrap_or_else(|e| e.into_inner().take());
        if let Some(client) = client {
            let _rt = runtime::handle().enter();
            client.shutdown();
        }
    }
}

static DEFAULT: OnceLock<Manager> = OnceLock::new();

impl Default for Manager {
    fn default() -> Self {
        Manager::new()
    }
}

impl Manager {
    /// A new, independent instance (several can live in one process).
    pub fn new() -> Manager {
        Manager {
            inner: Arc::new(Inner {
                client: Mutex::new(None),
                listeners: Arc::new(Listeners::default()),
                drafts: Arc::default(),
            }),
        }
    }

    /// The process-wide default instance (`V2TIMManager.getInstance()`).
    pub fn instance() -> Manager {
        DEFAULT.get_or_init(Manager::new).clone()
    }

    /// Whether two handles are the same instance.
    pub fn same_instance(&self, other: &Manager) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The SDK version.
    pub fn version() -> &'static str {
        crate::VERSION
    }

    fn client(&self) -> Result<Arc<Client>> {
        self.inner.client()
    }

    /// The logged-in session (6013 before `initSDK`, 6014 before `login`).
    fn session(&self) -> Result<Arc<Session>> {
        self.inner.session()
    }

    /// `getMessageManager`.
    pub fn message_manager(&self) -> MessageManager {
        MessageManager::new(self.inner.clone(), self.inner.drafts.clone())
    }

    /// `getConversationManager`.
    pub fn conversation_manager(&self) -> crate::conversation::ConversationManager {
        crate::conversation::ConversationManager::new(self.inner.clone())
    }

    /// `addConversationListener`; the id removes it again.
    pub fn add_conversation_listener(&self, listener: Arc<dyn crate::listener::ConversationListener>) -> ListenerId {
        self.inner.listeners.add_conversation(listener)
    }

    /// `setConversationListener` (the older single-listener form): replaces every
    /// conversation listener.
    pub fn set_conversation_listener(&self, listener: Arc<dyn crate::listener::ConversationListener>) -> ListenerId {
        self.inner.listeners.set_conversation(listener)
    }

    /// `getGroupManager`.
    pub fn group_manager(&self) -> GroupManager {
        GroupManager::new(self.inner.clone())
    }

    /// `getFriendshipManager`.
    pub fn friendship_manager(&self) -> crate::friendship::FriendshipManager {
        crate::friendship::FriendshipManager::new(self.inner.clone(), self.inner.listeners.clone())
    }

    /// `getOfflinePushManager`.
    pub fn offline_push_manager(&self) -> crate::offline_push::OfflinePushManager {
        crate::offline_push::OfflinePushManager::new(self.inner.clone())
    }

    /// `getSignalingManager`.
    pub fn signaling_manager(&self) -> crate::signaling::SignalingManager {
        crate::signaling::SignalingManager::new(self.inner.clone(), self.inner.listeners.clone())
    }

    /// `addSignalingListener`; the id removes it again.
    pub fn add_signaling_listener(&self, listener: Arc<dyn SignalingListener>) -> ListenerId {
        self.inner.listeners.add_signaling(listener)
    }

    /// `initSDK`: starts the instance for `sdk_app_id`; it connects to the server right away and
    /// reports through `listener`. Calling it again while initialised only replaces the listener.
    pub fn init_sdk(&self, sdk_app_id: u64, config: SdkConfig, listener: Option<Arc<dyn SdkListener>>) -> Result<()> {
        init_logging(config.log_level);
        let mut slot = self.inner.client.lock().expect("manager lock");
        self.inner.listeners.set_sdk(listener);
        if slot.is_none() {
            // Enter the SDK runtime so the client's tasks start there.
            let _rt = runtime::handle().enter();
            *slot = Some(Client::start(sdk_app_id, config, self.inner.listeners.clone())?);
        }
        Ok(())
    }

    /// `unInitSDK`: ends the session locally, closes the connection and stops the event thread.
    pub fn uninit_sdk(&self) {
        let client = self.inner.client.lock().expect("manager lock").take();
        if let Some(client) = client {
            let _rt = runtime::handle().enter();
            client.shutdown();
        }
    }

    /// `getServerTime`: the server's clock in Unix seconds (0 before `initSDK`).
    pub fn server_time(&self) -> i64 {
        self.client().map(|c| c.server_time()).unwrap_or(0)
    }

    /// `login`.
    pub async fn login(&self, user_id: String, user_sig: String) -> Result<()> {
        let client = self.client()?;
        runtime::run(async move { client.login(user_id, user_sig).await }).await
    }

    /// `logout`.
    pub async fn logout(&self) -> Result<()> {
        let client = self.client()?;
        runtime::run(async move { client.logout().await }).await
    }

    /// `getLoginUser`: the logged-in user's id, empty when nobody is logged in.
    pub fn login_user(&self) -> String {
        self.client().ok().and_then(|c| c.login_user()).unwrap_or_default()
    }

    /// `getLoginStatus`.
    pub fn login_status(&self) -> LoginStatus {
        self.client().map(|c| c.status()).unwrap_or(LoginStatus::Logout)
    }

    /// `addSimpleMsgListener`; the id removes it again.
    pub fn add_simple_msg_listener(&self, listener: Arc<dyn SimpleMsgListener>) -> ListenerId {
        self.inner.listeners.add_simple(listener)
    }

    /// `addIMSDKListener`: an SDK listener besides the one given to `initSDK`; the id removes it
    /// again.
    pub fn add_sdk_listener(&self, listener: Arc<dyn SdkListener>) -> ListenerId {
        self.inner.listeners.add_sdk(listener)
    }

    /// Removes a listener added by any `add_*_listener` method; false if `id` is not registered
    /// with this instance.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        self.inner.listeners.remove(id)
    }

    /// `sendC2CTextMessage`: returns the sent message (with its server seq and time).
    pub async fn send_c2c_text_message(&self, text: String, user_id: String) -> Result<Message> {
        self.send_c2c(user_id, Elem::Text { text }).await
    }

    /// `sendC2CCustomMessage`.
    pub async fn send_c2c_custom_message(&self, data: Vec<u8>, user_id: String) -> Result<Message> {
        self.send_c2c(user_id, Elem::Custom { data, description: String::new(), extension: String::new() }).await
    }

    async fn send_c2c(&self, user_id: String, elem: Elem) -> Result<Message> {
        let session = self.session()?;
        let msg = Message::draft(&session.user_id, elem, crate::message::new_msg_id(), crate::clock::unix_ms());
        let opts = SendOptions { receiver: user_id, ..SendOptions::default() };
        runtime::run(crate::message::send::send_message(&session, msg, opts, None)?).await
    }

    /// `addGroupListener`; the id removes it again.
    pub fn add_group_listener(&self, listener: Arc<dyn GroupListener>) -> ListenerId {
        self.inner.listeners.add_group(listener)
    }

    /// `createGroup(groupType, groupID, groupName)`: returns the group id (assigned by the
    /// server when `group_id` is `None` or empty).
    pub async fn create_group(
        &self,
        group_type: String,
        group_id: Option<String>,
        group_name: String,
    ) -> Result<String> {
        let req = GroupCreation {
            group_type,
            group_id: group_id.unwrap_or_default(),
            name: group_name,
            add_opt: crate::group::add_opt::AUTH,
            ..GroupCreation::default()
        };
        self.group_manager().create_group(req).await
    }

    /// `joinGroup`: joins, or for a Public group that needs approval, applies (the result is
    /// then false until an administrator accepts).
    pub async fn join_group(&self, group_id: String, message: String) -> Result<bool> {
        self.group_manager().join_group(group_id, message).await
    }

    /// `quitGroup`.
    pub async fn quit_group(&self, group_id: String) -> Result<()> {
        self.group_manager().quit_group(group_id).await
    }

    /// `dismissGroup`.
    pub async fn dismiss_group(&self, group_id: String) -> Result<()> {
        self.group_manager().dismiss_group(group_id).await
    }

    /// `sendGroupTextMessage`.
    pub async fn send_group_text_message(&self, text: String, group_id: String, priority: i32) -> Result<Message> {
        self.send_group(group_id, Elem::Text { text }, priority).await
    }

    /// `sendGroupCustomMessage`.
    pub async fn send_group_custom_message(&self, data: Vec<u8>, group_id: String, priority: i32) -> Result<Message> {
        let elem = Elem::Custom { data, description: String::new(), extension: String::new() };
        self.send_group(group_id, elem, priority).await
    }

    async fn send_group(&self, group_id: String, elem: Elem, priority: i32) -> Result<Message> {
        if group_id.is_empty() {
            return Err(Error::invalid("groupID is empty"));
        }
        let session = self.session()?;
        let msg = Message::draft(&session.user_id, elem, crate::message::new_msg_id(), crate::clock::unix_ms());
        let opts = SendOptions { group_id, priority, ..SendOptions::default() };
        runtime::run(crate::message::send::send_message(&session, msg, opts, None)?).await
    }

    /// `addAdvancedMsgListener`; the id removes it again.
    pub fn add_advanced_msg_listener(&self, listener: Arc<dyn AdvancedMsgListener>) -> ListenerId {
        self.inner.listeners.add_advanced(listener)
    }

    /// `getUsersInfo`: the profiles of up to 100 users, in the order asked (users that do not
    /// exist are left out).
    pub async fn get_users_info(&self, user_ids: Vec<String>) -> Result<Vec<crate::UserFullInfo>> {
        let session = self.session()?;
        runtime::run(async move { crate::profile::users_info(&session, user_ids).await }).await
    }

    /// `setSelfInfo`: changes the fields `change` sets and returns the profile after the change;
    /// every device of the user hears `onSelfInfoUpdated`.
    pub async fn set_self_info(&self, change: crate::UserInfoChange) -> Result<crate::UserFullInfo> {
        let session = self.session()?;
        runtime::run(async move { crate::profile::set_self_info(&session, change).await }).await
    }

    /// A message from the local store by id (`None` if this device does not have it).
    pub async fn find_local_message(&self, msg_id: String) -> Result<Option<Message>> {
        let session = self.session()?;
        let me = session.user_id.clone();
        runtime::run(async move { session.store.call(move |db| store::find_message(db, &me, &msg_id)).await }).await
    }

    /// Number of locally stored messages of a conversation (diagnostics).
    pub async fn local_message_count(&self, conversation_id: String) -> Result<u64> {
        let conv = crate::model::message::ConvId::parse(&conversation_id)
            .ok_or_else(|| Error::invalid(format!("malformed conversationID {conversation_id:?}")))?;
        let session = self.session()?;
        runtime::run(async move { session.store.call(move |db| store::count_messages(db, &conv)).await }).await
    }
}

/// Installs a log subscriber for `level` once per process (unless the app installed one).
///
/// `OXIM_SDK_LOG` overrides the level: comma-separated `target=level` and `level` directives
/// (`oxim_core=debug,warn`). Parsed with tracing-subscriber's `Targets` rather than `EnvFilter`,
/// which would bring a regex engine (about 0.2 MB) into the shipped library.
fn init_logging(level: LogLevel) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter = match level {
            LogLevel::None => return,
            LogLevel::Debug => "oxim_core=debug",
            LogLevel::Info => "oxim_core=info",
            LogLevel::Warn => "oxim_core=warn",
            LogLevel::Error => "oxim_core=error",
        };
        let filter = log_filter(filter, std::env::var("OXIM_SDK_LOG").ok().as_deref());
        let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).finish().with(filter).try_init();
    });
}

/// The log filter: `env` (the value of `OXIM_SDK_LOG`) when it parses, else `default`.
fn log_filter(default: &str, env: Option<&str>) -> tracing_subscriber::filter::Targets {
    if let Some(env) = env {
        match env.parse() {
            Ok(targets) => return targets,
            Err(e) => eprintln!("oxim: ignoring OXIM_SDK_LOG={env:?} ({e}); using {default:?}"),
        }
    }
    default.parse().expect("a valid default log filter")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use oxim_proto::op;
    use serde_json::{Value, json};
    use tracing::Level;

    use super::*;
    use crate::test_peer::{Peer, WAIT, eventually};

    struct Connected(Arc<AtomicUsize>);
    impl SdkListener for Connected {
        fn on_connect_success(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn server(op: &str, _: &Value) -> Option<Value> {
        Some(match op {
            op::LOGIN => json!({ "server_time_ms": 1, "usersig_expire_at": 0 }),
            op::SYNC => json!({ "convs": [], "version": 0, "has_more": false }),
            _ => json!({}),
        })
    }

    #[tokio::test]
    async fn dropping_the_last_handle_without_uninit_shuts_the_instance_down() {
        let dir = tempfile::tempdir().unwrap();
        let mut peer = Peer::start(false).await;
        let mut config = SdkConfig::new(&peer.url, dir.path());
        config.log_level = LogLevel::None;
        // Were the reconnect loop alive after the drop, it would try again within 30 ms.
        config.reconnect_max_delay = Duration::from_millis(30);
        let connected = Arc::new(AtomicUsize::new(0));
        let listener: Arc<dyn SdkListener> = Arc::new(Connected(connected.clone()));
        let app_listener = Arc::downgrade(&listener);

        let sdk = Manager::new();
        sdk.init_sdk(1, config, Some(listener)).unwrap();
        let served = peer.accept().await.serve(server);
        sdk.login("alice".into(), "sig".into()).await.unwrap();
        eventually("onConnectSuccess", || connected.load(Ordering::SeqCst) == 1).await;
        let session = Arc::downgrade(&sdk.session().unwrap());
        let store = Arc::downgrade(&sdk.session().unwrap().store);

        // A clone going away is not the instance going away.
        drop(sdk.clone());
        assert_eq!(sdk.login_status(), LoginStatus::Logined);

        drop(sdk);
        tokio::time::timeout(WAIT, served.closed()).await.expect("the server sees the connection closed");
        assert!(peer.no_connection_within(Duration::from_millis(500)).await, "no reconnection");
        eventually("the session released", || session.upgrade().is_none()).await;
        eventually("the store released", || store.upgrade().is_none()).await;
        eventually("the app's listener released", || app_listener.upgrade().is_none()).await;
        assert_eq!(connected.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn dropping_after_uninit_or_before_init_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let mut peer = Peer::start(false).await;
        let sdk = Manager::new();
        let mut config = SdkConfig::new(&peer.url, dir.path());
        config.log_level = LogLevel::None;
        sdk.init_sdk(1, config, None).unwrap();
        let served = peer.accept().await.serve(server);
        sdk.uninit_sdk();
        tokio::time::timeout(WAIT, served.closed()).await.expect("unInitSDK closes the connection");
        drop(sdk);
        drop(Manager::new());
    }

    #[test]
    fn log_filter_takes_oxim_sdk_log_when_it_parses() {
        let f = log_filter("oxim_core=info", None);
        assert!(f.would_enable("oxim_core::link", &Level::INFO));
        assert!(!f.would_enable("oxim_core::link", &Level::DEBUG));
        assert!(!f.would_enable("hyper", &Level::ERROR));

        let f = log_filter("oxim_core=info", Some("oxim_core=debug,warn"));
        assert!(f.would_enable("oxim_core::sync", &Level::DEBUG));
        assert!(f.would_enable("hyper", &Level::WARN));
        assert!(!f.would_enable("hyper", &Level::INFO));

        // A malformed value is ignored, not fatal.
        let f = log_filter("oxim_core=warn", Some("oxim_core=loud"));
        assert!(f.would_enable("oxim_core", &Level::WARN));
        assert!(!f.would_enable("oxim_core", &Level::INFO));
    }
}
