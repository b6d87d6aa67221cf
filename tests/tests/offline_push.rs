//! Offline push registration end to end: `setOfflinePushConfig`, `doBackground` and
//! `doForeground` reach the server for this device (user and platform); what the app said is
//! said again after a reconnection (the server forgets a device at each login); a device that
//! is killed stays registered, one that logs out or is kicked does not. Then the pushes, on a
//! loopback webhook receiver: every rule of seed004-B section 8 the server applies.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oxim_core::group::{CreateMember, GroupCreation, GroupMemberChange, group_type};
use oxim_core::message::SendOptions;
use oxim_core::{OfflinePushConfig, OfflinePushInfo, UserInfoChange};
use oxim_server::store::PushDevice;
use oxim_tests::{Seen, TestClient, TestServer};
use serde_json::Value;

fn config(token: &str) -> OfflinePushConfig {
    OfflinePushConfig { business_id: 6768, token: token.into(), is_tpns_token: false }
}

fn device(platform: &str, token: Option<&str>, badge: Option<u32>) -> PushDevice {
    PushDevice { user: "alice".into(), platform: platform.into(), config: token.map(config), background_badge: badge }
}

async fn devices(server: &TestServer) -> Vec<PushDevice> {
    server.handle().push_devices(&["alice"]).await.unwrap()
}

/// Waits (at most 10 s) until the server knows exactly `want` of alice's devices.
async fn wait_devices(server: &TestServer, what: &str, want: Vec<PushDevice>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = devices(server).await;
        if now == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: the server knows {now:?}, not {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_registration_and_app_state_reach_the_server_and_are_told_again_after_a_reconnection() {
    let server = TestServer::start().await;
    let phone = TestClient::new(&server, "android").await;
    let push = phone.sdk.offline_push_manager();
    assert_eq!(push.set_offline_push_config(config("t1")).await.unwrap_err().code, 6014, "before login");
    phone.login(&server, "alice").await;

    assert_eq!(push.set_offline_push_config(config("")).await.unwrap_err().code, 6017);
    let no_id = OfflinePushConfig { business_id: 0, ..config("t1") };
    assert_eq!(push.set_offline_push_config(no_id).await.unwrap_err().code, 6017);
    assert_eq!(devices(&server).await, vec![], "a refused registration registers nothing");

    push.set_offline_push_config(config("t1")).await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("t1"), None)]);
    push.do_background(5).await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("t1"), Some(5))]);

    // The network drops; the SDK logs in again (the server forgets the device at a login) and
    // tells the registration and the app state again.
    phone.seen.clear();
    assert_eq!(server.handle().disconnect_user("alice"), 1);
    phone.seen.wait_until("reconnected", |s| s.contains(&Seen::ConnectSuccess)).await;
    wait_devices(&server, "after the reconnection", vec![device("android", Some("t1"), Some(5))]).await;

    push.do_foreground().await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("t1"), None)]);
    push.do_background(2).await.unwrap();

    // The app is killed (no logout): the device stays registered, in the background.
    drop(phone);
    wait_devices(&server, "killed", vec![device("android", Some("t1"), Some(2))]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_that_logs_out_or_is_kicked_is_no_longer_registered() {
    let server = TestServer::start().await;
    let phone = TestClient::logged_in(&server, "alice", "android").await;
    let pad = TestClient::logged_in(&server, "alice", "ipad").await;
    phone.sdk.offline_push_manager().set_offline_push_config(config("phone")).await.unwrap();
    pad.sdk.offline_push_manager().set_offline_push_config(config("pad")).await.unwrap();
    pad.sdk.offline_push_manager().do_background(1).await.unwrap();
    assert_eq!(
        devices(&server).await,
        vec![device("android", Some("phone"), None), device("ipad", Some("pad"), Some(1))]
    );

    // Logout: the pad's registration ends on the server, and the SDK does not bring it back at
    // the next login (V2TIM's apps register after every login).
    pad.sdk.logout().await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("phone"), None)]);
    pad.login(&server, "alice").await;
    // Nothing is said for it after this login: a bounded look for something that must not come.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(devices(&server).await, vec![device("android", Some("phone"), None)]);

    // A second phone logs in on the same platform: the first is kicked and no longer registered.
    let other_phone = TestClient::logged_in(&server, "alice", "android").await;
    phone.seen.wait_until("kicked", |s| s.contains(&Seen::KickedOffline)).await;
    assert_eq!(devices(&server).await, vec![]);
    other_phone.sdk.offline_push_manager().set_offline_push_config(config("new phone")).await.unwrap();
    assert_eq!(devices(&server).await, vec![device("android", Some("new phone"), None)]);
}

/// A loopback webhook receiver standing in for the operator's push relay: records every
/// notification and answers as scripted per token (200 by default).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Value>>>,
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
    /// Tokens whose pushes are recorded at once but answered only when their gate opens.
    held: Arc<Mutex<HashMap<String, Arc<tokio::sync::Notify>>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/push",
            axum::routing::post(move |axum::Json(n): axum::Json<Value>| {
                let state = state.clone();
                async move {
                    let token = n["token"].as_str().unwrap_or_default().to_owned();
                    let status =
                        state.script.lock().unwrap().get_mut(&token).and_then(VecDeque::pop_front).unwrap_or(200);
                    state.got.lock().unwrap().push(n);
                    let gate = state.held.lock().unwrap().get(&token).cloned();
                    if let Some(gate) = gate {
                        gate.notified().await;
                    }
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/push", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn answer(&self, token: &str, statuses: &[u16]) {
        self.script.lock().unwrap().insert(token.into(), statuses.iter().copied().collect());
    }

    /// Holds the answers to `token`'s pushes until the returned gate is opened (once per push).
    fn hold(&self, token: &str) -> Arc<tokio::sync::Notify> {
        let gate = Arc::new(tokio::sync::Notify::new());
        self.held.lock().unwrap().insert(token.into(), gate.clone());
        gate
    }

    fn all(&self) -> Vec<Value> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `n` notifications arrived; returns them.
    async fn wait(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.all().len() < n {
            assert!(Instant::now() < deadline, "{} of {n} pushes arrived: {:?}", self.all().len(), self.all());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.all()
    }

    /// Checks that nothing more than `n` arrived: `marker` (a message pushed after the others
    /// to the same device) arrives as push `n + 1`, so anything pushed before it arrived too.
    async fn only(&self, n: usize, marker_body: &str) -> Vec<Value> {
        let got = self.wait(n + 1).await;
        assert_eq!(got.len(), n + 1, "{got:?}");
        assert_eq!(got[n]["body"], marker_body, "{got:?}");
        got
    }

    fn clear(&self) {
        self.got.lock().unwrap().clear();
    }
}

async fn push_server() -> (TestServer, Receiver) {
    let (receiver, url) = Receiver::start().await;
    let server = TestServer::start_configured(|c| {
        c.push.webhook_url = url;
        c.push.backoff_ms = 20;
    })
    .await;
    (server, receiver)
}

async fn registered(server: &TestServer, user: &str, platform: &str, token: &str) -> TestClient {
    let c = TestClient::logged_in(server, user, platform).await;
    let config = OfflinePushConfig { business_id: 6768, token: token.into(), is_tpns_token: false };
    c.sdk.offline_push_manager().set_offline_push_config(config).await.unwrap();
    c
}

fn to_bob() -> SendOptions {
    SendOptions { receiver: "bob".into(), ..SendOptions::default() }
}

async fn nick(c: &TestClient, name: &str) {
    c.sdk.set_self_info(UserInfoChange { nick_name: Some(name.into()), ..Default::default() }).await.unwrap();
}

async fn send_text(from: &TestClient, to: &str, text: &str) {
    from.sdk.send_c2c_text_message(text.into(), to.into()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offline_and_background_devices_get_pushes_with_the_senders_name_and_a_counting_badge() {
    let (server, receiver) = push_server().await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    nick(&alice, "Alice").await;
    let phone = registered(&server, "bob", "android", "bob-phone").await;

    // In the background with a badge of 3: pushes count on from it.
    phone.sdk.offline_push_manager().do_background(3).await.unwrap();
    send_text(&alice, "bob", "one").await;
    send_text(&alice, "bob", "two").await;
    let got = receiver.wait(2).await;
    assert_eq!((got[0]["body"].as_str(), got[0]["badge"].as_u64()), (Some("Alice: one"), Some(4)));
    assert_eq!((got[1]["body"].as_str(), got[1]["badge"].as_u64()), (Some("Alice: two"), Some(5)));
    assert_eq!((got[0]["token"].as_str(), got[0]["business_id"].as_i64()), (Some("bob-phone"), Some(6768)));
    assert_eq!((got[0]["user"].as_str(), got[0]["platform"].as_str()), (Some("bob"), Some("android")));

    // Back in the foreground (online): no pushes. Messages are taken in order, so the push of a
    // message to Carol's killed phone after it shows this one was weighed (while Bob was online).
    let carol = registered(&server, "carol", "android", "carol-phone").await;
    drop(carol);
    wait_online(&server, "carol", false).await;
    phone.sdk.offline_push_manager().do_foreground().await.unwrap();
    send_text(&alice, "bob", "in the app").await;
    send_text(&alice, "carol", "marker").await;
    receiver.only(2, "Alice: marker").await;
    // Killed (no logout): pushes again, the badge counting from 0.
    drop(phone);
    wait_online(&server, "bob", false).await;
    send_text(&alice, "bob", "while killed").await;
    let got = receiver.only(3, "Alice: while killed").await;
    assert_eq!(got[3]["badge"].as_u64(), Some(1));
}

async fn wait_online(server: &TestServer, user: &str, online: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.handle().is_online(user) != online {
        assert!(Instant::now() < deadline, "{user} online: {}", !online);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logged_out_and_kicked_devices_get_no_pushes() {
    let (server, receiver) = push_server().await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    let pad = registered(&server, "bob", "ipad", "bob-pad").await;
    let phone = registered(&server, "bob", "android", "bob-phone").await;
    pad.sdk.offline_push_manager().do_background(0).await.unwrap();
    phone.sdk.offline_push_manager().do_background(0).await.unwrap();
    // A device that does get pushes: what reaches it shows the messages went through.
    let watch = registered(&server, "bob", "watch", "bob-watch").await;
    watch.sdk.offline_push_manager().do_background(0).await.unwrap();
    pad.sdk.logout().await.unwrap();
    let _other_phone = TestClient::logged_in(&server, "bob", "android").await;
    phone.seen.wait_until("kicked", |s| s.contains(&Seen::KickedOffline)).await;
    send_text(&alice, "bob", "to bob").await;
    send_text(&alice, "bob", "marker").await;
    let got = receiver.wait(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter().all(|n| n["token"] == "bob-watch"),
        "nothing for the logged-out pad or the kicked phone: {got:?}"
    );
    assert_eq!((got[0]["body"].as_str(), got[1]["body"].as_str()), (Some("to bob"), Some("marker")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receive_options_online_only_custom_and_element_texts_decide_what_is_pushed() {
    let (server, receiver) = push_server().await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    let carol = TestClient::logged_in(&server, "carol", "linux").await;
    let phone = registered(&server, "bob", "android", "bob-phone").await;
    phone.sdk.offline_push_manager().do_background(0).await.unwrap();
    let mm = alice.mm();

    // Bob mutes Carol's pushes (RECEIVE_NOT_NOTIFY): her messages still arrive, unpushed.
    phone.cm().set_c2c_receive_message_opt(vec!["carol".into()], 2).await.unwrap();
    send_text(&carol, "bob", "muted").await;
    // Online-only and custom without a description: not pushed.
    let msg = mm.create_text_message("online only".into());
    mm.send_message(msg, SendOptions { online_user_only: true, ..to_bob() }).await.unwrap();
    let msg = mm.create_custom_message(b"{}".to_vec(), String::new(), String::new());
    mm.send_message(msg, to_bob()).await.unwrap();
    // A custom message with a push desc, and the push info carried.
    let info = OfflinePushInfo {
        title: "Order".into(),
        desc: "Your order shipped".into(),
        ext: "{\"order\":1}".into(),
        ios_sound: "ding.caf".into(),
        android_oppo_channel_id: "tuikit".into(),
        ..Default::default()
    };
    let msg = mm.create_custom_message(b"{}".to_vec(), String::new(), String::new());
    mm.send_message(msg, SendOptions { offline_push_info: Some(info), ..to_bob() }).await.unwrap();
    let silent = OfflinePushInfo { ignore_ios_badge: true, ..Default::default() };
    let msg = mm.create_text_message("no badge".into());
    mm.send_message(msg, SendOptions { offline_push_info: Some(silent), ..to_bob() }).await.unwrap();

    let got = receiver.only(1, "no badge").await;
    let n = &got[0];
    assert_eq!((n["title"].as_str(), n["body"].as_str()), (Some("Order"), Some("Your order shipped")));
    assert_eq!((n["ext"].as_str(), n["ext_is_json"].as_bool()), (Some("{\"order\":1}"), Some(true)));
    assert_eq!((n["ios_sound"].as_str(), n["android_oppo_channel_id"].as_str()), (Some("ding.caf"), Some("tuikit")));
    assert_eq!(got[1]["badge"], Value::Null, "ignoreIOSBadge");
    assert_eq!(got[0]["badge"], 1);
    // A message that ignores the badge does not raise it either.
    send_text(&alice, "bob", "after").await;
    let got = receiver.only(2, "after").await;
    assert_eq!(got[2]["badge"], 2, "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_pushes_name_the_group_and_prefer_the_name_card_and_avchatrooms_are_never_pushed() {
    let (server, receiver) = push_server().await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    nick(&alice, "Alice").await;
    let phone = registered(&server, "bob", "android", "bob-phone").await;
    phone.sdk.offline_push_manager().do_background(0).await.unwrap();
    let team = GroupCreation {
        group_type: group_type::WORK.into(),
        group_id: "team".into(),
        name: "Team".into(),
        members: vec![CreateMember { user_id: "bob".into(), role: 0 }],
        ..GroupCreation::default()
    };
    let team = alice.gm().create_group(team).await.unwrap();
    let room = GroupCreation {
        group_type: group_type::AVCHATROOM.into(),
        group_id: "room".into(),
        name: "Room".into(),
        ..GroupCreation::default()
    };
    let room = alice.gm().create_group(room).await.unwrap();
    phone.sdk.join_group(room.clone(), String::new()).await.unwrap();
    alice.sdk.send_group_text_message("live".into(), room, 0).await.unwrap();

    alice.sdk.send_group_text_message("hello".into(), team.clone(), 0).await.unwrap();
    let got = receiver.wait(1).await;
    assert_eq!(got[0]["body"], "Alice(Team): hello");
    assert_eq!(got[0]["group_id"], "team");
    receiver.clear();
    let card = GroupMemberChange {
        group_id: team.clone(),
        user_id: "alice".into(),
        name_card: Some("Boss".into()),
        custom_info: None,
    };
    alice.gm().set_group_member_info(card).await.unwrap();
    alice.sdk.send_group_text_message("again".into(), team.clone(), 0).await.unwrap();
    let got = receiver.wait(1).await;
    assert_eq!(got.len(), 1, "the AVChatRoom message, the tips: never pushed: {got:?}");
    assert_eq!(got[0]["body"], "Boss(Team): again");

    // RECEIVE_NOT_NOTIFY for the group: no push.
    receiver.clear();
    phone.gm().set_receive_message_opt(team.clone(), 2).await.unwrap();
    alice.sdk.send_group_text_message("quiet".into(), team, 0).await.unwrap();
    send_text(&alice, "bob", "marker").await;
    let got = receiver.only(0, "Alice: marker").await;
    assert_eq!(got.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn provider_errors_are_retried_with_backoff_and_a_rejected_token_is_forgotten() {
    let (server, receiver) = push_server().await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    let phone = registered(&server, "bob", "android", "bob-phone").await;
    phone.sdk.offline_push_manager().do_background(0).await.unwrap();
    receiver.answer("bob-phone", &[503, 429]);
    send_text(&alice, "bob", "eventually").await;
    let got = receiver.wait(3).await;
    assert!(got.iter().all(|n| n["body"] == "eventually"), "the same notification three times: {got:?}");

    receiver.clear();
    receiver.answer("bob-phone", &[410]);
    send_text(&alice, "bob", "gone").await;
    receiver.wait(1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.handle().push_devices(&["bob"]).await.unwrap().iter().any(|d| d.config.is_some()) {
        assert!(Instant::now() < deadline, "the rejected token is still registered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signaling_invitation_is_pushed_with_its_push_desc() {
    let (server, receiver) = push_server().await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    let phone = registered(&server, "bob", "android", "bob-phone").await;
    phone.sdk.offline_push_manager().do_background(0).await.unwrap();
    let info = OfflinePushInfo { desc: "Alice is calling".into(), ..Default::default() };
    let signaling = alice.sm();
    signaling.invite("bob".into(), "{}".into(), false, None, 30).await.unwrap();
    signaling.invite("bob".into(), "{}".into(), false, Some(info), 30).await.unwrap();
    let got = receiver.wait(1).await;
    assert_eq!(got.len(), 1, "an invitation without a push desc is not pushed: {got:?}");
    assert_eq!(got[0]["body"], "Alice is calling");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn devices_are_pushed_to_side_by_side_and_each_device_in_the_order_of_its_messages() {
    let (server, receiver) = push_server().await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    let others = ["carol", "dave", "erin"];
    for user in std::iter::once("bob").chain(others) {
        let c = registered(&server, user, "android", &format!("{user}-phone")).await;
        c.sdk.offline_push_manager().do_background(0).await.unwrap();
    }
    // Bob's provider answers slowly (held): the others' pushes go meanwhile, his next one waits.
    let gate = receiver.hold("bob-phone");
    send_text(&alice, "bob", "first").await;
    for user in others {
        send_text(&alice, user, "hi").await;
    }
    send_text(&alice, "bob", "second").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !receiver.all().iter().any(|n| n["token"] != "bob-phone") {
        assert!(
            Instant::now() < deadline,
            "no other device was pushed to while bob's push was held: {:?}",
            receiver.all()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let bobs = |got: Vec<Value>| -> Vec<String> {
        got.iter().filter(|n| n["token"] == "bob-phone").map(|n| n["body"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(bobs(receiver.all()), ["first"], "bob's second push waits for his first");
    gate.notify_one();
    gate.notify_one();
    let got = receiver.wait(5).await;
    assert_eq!(bobs(got), ["first", "second"]);
}

/// `GET /metrics` of `server`.
async fn metrics(server: &TestServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.handle().addr()).await.unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// The value of the sample `line` (`name{labels}`) in `text`, 0 when absent.
fn sample(text: &str, line: &str) -> u64 {
    text.lines().find_map(|l| l.strip_prefix(line)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// Business id 6768's pushes sent and dropped by the rate limit, once `messages` pushes were
/// handled one way or the other (by `deadline`).
async fn pushes_handled(server: &TestServer, messages: u64, deadline: Instant) -> (u64, u64) {
    let id = "{business_id=\"6768\"}";
    loop {
        let m = metrics(server).await;
        let (sent, limited) = (
            sample(&m, &format!("oxim_push_sent_total{id}")),
            sample(&m, &format!("oxim_push_rate_limited_total{id}")),
        );
        if sent + limited == messages {
            return (sent, limited);
        }
        assert!(Instant::now() < deadline, "{sent} + {limited} of {messages} pushes handled: {m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_business_id_is_rate_limited_and_what_push_did_is_counted_in_metrics() {
    let (receiver, url) = Receiver::start().await;
    let server = TestServer::start_configured(|c| {
        c.push.webhook_url = url;
        c.push.backoff_ms = 20;
        // Two at once, then one a minute: the rest of this test's pushes are over the limit.
        c.push.rate_per_minute = 1;
        c.push.burst = 2;
    })
    .await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    let phone = registered(&server, "bob", "android", "bob-phone").await;
    phone.sdk.offline_push_manager().do_background(0).await.unwrap();
    for text in ["1", "2", "3", "4"] {
        send_text(&alice, "bob", text).await;
    }
    let handled = pushes_handled(&server, 4, Instant::now() + Duration::from_secs(10)).await;
    assert_eq!(handled, (2, 2), "two sent, two over the limit");
    let got: Vec<Value> = receiver.all().iter().map(|n| n["body"].clone()).collect();
    assert_eq!(got, ["1", "2"], "the pushes over the limit were dropped");

    // Another business id has its own bucket: a retry and a rejected token are counted there.
    let pad = TestClient::logged_in(&server, "bob", "ipad").await;
    let other = OfflinePushConfig { business_id: 7000, token: "bob-pad".into(), is_tpns_token: false };
    pad.sdk.offline_push_manager().set_offline_push_config(other).await.unwrap();
    pad.sdk.offline_push_manager().do_background(0).await.unwrap();
    receiver.answer("bob-pad", &[503, 410]);
    send_text(&alice, "bob", "5").await;
    let id = "{business_id=\"7000\"}";
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = metrics(&server).await;
        if sample(&m, &format!("oxim_push_tokens_forgotten_total{id}")) == 1 {
            assert_eq!(sample(&m, &format!("oxim_push_retried_total{id}")), 1, "{m}");
            assert_eq!(sample(&m, &format!("oxim_push_failed_total{id}")), 0, "{m}");
            assert!(m.contains("# TYPE oxim_push_sent_total counter"), "{m}");
            break;
        }
        assert!(Instant::now() < deadline, "{m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_dropped_by_the_rate_limit_does_not_raise_the_badge() {
    let (receiver, url) = Receiver::start().await;
    let server = TestServer::start_configured(|c| {
        c.push.webhook_url = url;
        // One at once, then one a second.
        c.push.rate_per_minute = 60;
        c.push.burst = 1;
    })
    .await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    let phone = registered(&server, "bob", "android", "bob-phone").await;
    phone.sdk.offline_push_manager().do_background(5).await.unwrap();
    // Messages one after another until one was dropped, then one a while until one more went out.
    let mut messages = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    let (sent_before, dropped) = loop {
        messages += 1;
        send_text(&alice, "bob", &messages.to_string()).await;
        let (sent, limited) = pushes_handled(&server, messages, deadline).await;
        if limited > 0 {
            break (sent, limited);
        }
        assert!(sent < 100, "nothing was rate limited");
    };
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        messages += 1;
        send_text(&alice, "bob", &messages.to_string()).await;
        let (sent, limited) = pushes_handled(&server, messages, deadline).await;
        if sent > sent_before {
            assert!(limited >= dropped);
            break;
        }
        assert!(Instant::now() < deadline, "no push went out after the rate limit dropped one");
    }
    // Each push shows the doBackground badge plus the pushes that went out, dropped ones not counted.
    let got = receiver.wait(sent_before as usize + 1).await;
    let badges: Vec<u64> = got.iter().map(|n| n["badge"].as_u64().unwrap()).collect();
    let want: Vec<u64> = (6..6 + got.len() as u64).collect();
    assert_eq!(badges, want, "{got:?}");
}

/// Business id 6768's pushes given up, once there are `n` (by 10 s from now).
async fn wait_failed(server: &TestServer, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = metrics(server).await;
        if sample(&m, "oxim_push_failed_total{business_id=\"6768\"}") == n {
            return;
        }
        assert!(Instant::now() < deadline, "{n} failed pushes not counted: {m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_that_fails_for_good_after_it_was_handed_over_does_not_raise_the_badge() {
    let (receiver, url) = Receiver::start().await;
    let server = TestServer::start_configured(|c| {
        c.push.webhook_url = url;
        c.push.backoff_ms = 20;
        c.push.attempts = 2;
    })
    .await;
    let alice = TestClient::logged_in(&server, "alice", "linux").await;
    let phone = registered(&server, "bob", "android", "bob-phone").await;
    phone.sdk.offline_push_manager().do_background(5).await.unwrap();

    // An answer not worth another try: the push is given up; the device never showed it.
    receiver.answer("bob-phone", &[400]);
    send_text(&alice, "bob", "refused").await;
    wait_failed(&server, 1).await;
    send_text(&alice, "bob", "taken").await;
    let got = receiver.wait(2).await;
    assert_eq!((got[0]["body"].as_str(), got[0]["badge"].as_u64()), (Some("refused"), Some(6)));
    assert_eq!((got[1]["body"].as_str(), got[1]["badge"].as_u64()), (Some("taken"), Some(6)), "{got:?}");

    // Its tries run out: the same.
    receiver.answer("bob-phone", &[503, 503]);
    send_text(&alice, "bob", "unavailable").await;
    wait_failed(&server, 2).await;
    send_text(&alice, "bob", "taken again").await;
    let got = receiver.wait(5).await;
    assert_eq!((got[2]["body"].as_str(), got[2]["badge"].as_u64()), (Some("unavailable"), Some(7)));
    assert_eq!(got[3]["body"], "unavailable", "tried twice: {got:?}");
    assert_eq!((got[4]["body"].as_str(), got[4]["badge"].as_u64()), (Some("taken again"), Some(7)), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_that_fails_after_it_began_leaves_the_device_to_the_session_before_it() {
    use oxim_tests::RawClient;
    use serde_json::json;
    let server = TestServer::start().await;
    let mut old = RawClient::connect(&server).await;
    old.login(&server, "alice").await;
    let registration = json!({"business_id": 6768, "token": "old", "is_tpns_token": false});
    assert_eq!(old.call("push.config", registration).await["code"], 0);

    // Another connection, signed in as carol, logs in as alice on the same platform while the
    // store's writer is held: the login begins (alice's session there is superseded) and waits
    // to forget the registered device. Then its connection is lost: the login fails.
    let mut other = RawClient::connect(&server).await;
    other.login(&server, "carol").await;
    let held = server.handle().hold_writes();
    let begun = server.handle().logins_begun();
    let login = json!({"sdk_app_id": server.sdk_app_id(), "user_id": "alice", "user_sig": server.sig("alice"), "platform": "test"});
    other.send("login", login).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.handle().logins_begun() == begun {
        assert!(Instant::now() < deadline, "the second login did not begin");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(server.handle().disconnect_user("carol"), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.handle().open_connections() > 1 {
        assert!(Instant::now() < deadline, "the failing login's connection is still open");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(held);

    // The session before it was never kicked and still holds the device: its writes are stored,
    // and its registration was not forgotten.
    let res = old.call("push.background", json!({"unread_count": 4})).await;
    assert_eq!(res["code"], 0, "{res}");
    assert_eq!(devices(&server).await, vec![device("test", Some("old"), Some(4))]);
    assert!(old.next_push(Duration::from_millis(0)).await.is_none(), "not kicked: {:?}", old.pushes);
}
