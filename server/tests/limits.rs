//! What a hostile or broken client cannot do to the server: a malformed request still gets an
//! answer when its id can be read (the client stops waiting), garbage changes nothing and the
//! connection goes on; the published development secret key is refused on a public address.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oxim_proto::code;
use oxim_server::{Server, ServerConfig};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next response frame, if one comes within a second.
async fn next_response(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(1), ws.next()).await.ok()??.ok()?;
        let Message::Text(text) = msg else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["t"] == "res" {
            return Some(frame);
        }
    }
}

#[tokio::test]
async fn a_malformed_request_with_a_readable_id_is_answered_and_garbage_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    let send = |text: String| Message::Text(text.into());

    // Readable ids: no op, an op that is not a string, no version, no frame type.
    for (id, frame) in [
        (7, json!({"v": 1, "t": "req", "id": 7})),
        (8, json!({"v": 1, "t": "req", "id": 8, "op": 42})),
        (9, json!({"t": "req", "id": 9, "op": "sync"})),
        (10, json!({"v": 1, "id": 10, "op": "sync", "body": "x"})),
    ] {
        ws.send(send(frame.to_string())).await.unwrap();
        let res = next_response(&mut ws).await.unwrap_or_else(|| panic!("no answer to {frame}"));
        assert_eq!(
            (res["id"].as_u64(), res["code"].as_i64()),
            (Some(id), Some(code::INVALID_PARAMETERS as i64)),
            "{res}"
        );
    }
    // Nothing to answer: not JSON, no id, a response or push frame from the client.
    for garbage in
        ["not json", "{\"v\":1,\"t\":\"req\",\"op\":\"sync\"", "[1,2]", "{\"t\":\"res\",\"id\":3}", "{\"id\":\"x\"}"]
    {
        ws.send(send(garbage.to_owned())).await.unwrap();
    }
    assert_eq!(next_response(&mut ws).await, None, "garbage gets no answer");
    // The connection goes on.
    ws.send(send(json!({"v": 1, "t": "req", "id": 11, "op": "sync", "body": {"since": 0, "limit": 10}}).to_string()))
        .await
        .unwrap();
    let res = next_response(&mut ws).await.unwrap();
    assert_eq!((res["id"].as_u64(), res["code"].as_i64()), (Some(11), Some(code::SDK_NOT_LOGGED_IN as i64)));
    server.shutdown().await;
}

#[tokio::test]
async fn the_development_secret_key_is_refused_on_a_public_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_tests(dir.path());
    config.listen = "0.0.0.0:0".parse().unwrap();
    let err = Server::start(config.clone()).await.err().expect("the published key on every interface");
    assert!(err.contains("--secret-key"), "{err}");
    config.secret_key = "a key of this deployment".into();
    let server = Server::start(config).await.expect("an own key may listen anywhere");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_spam_takes_over_the_oldest_sessions_instead_of_piling_up() {
    use oxim_server::gateway::limits::MAX_SESSIONS_PER_USER;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    let login = |platform: String| {
        let (url, sig) = (server.ws_url(), server.user_sig("alice", 600));
        async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let body =
                json!({"sdk_app_id": 1_400_000_000u64, "user_id": "alice", "user_sig": sig, "platform": platform});
            ws.send(Message::Text(
                json!({"v": 1, "t": "req", "id": 1, "op": "login", "body": body}).to_string().into(),
            ))
            .await
            .unwrap();
            assert_eq!(next_response(&mut ws).await.unwrap()["code"], 0);
            ws
        }
    };
    let mut first = login("device 0".into()).await;
    let mut others = Vec::new();
    for i in 1..MAX_SESSIONS_PER_USER + 5 {
        others.push(login(format!("device {i}")).await);
    }
    assert_eq!(server.online_sessions(), MAX_SESSIONS_PER_USER, "at most {MAX_SESSIONS_PER_USER} sessions");
    // The oldest was told, as a login on its own platform would tell it.
    let kicked = loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), first.next()).await.expect("a kick").unwrap().unwrap();
        let Message::Text(text) = msg else { continue };
        break serde_json::from_str::<Value>(&text).unwrap();
    };
    assert_eq!((kicked["t"].as_str(), kicked["op"].as_str()), (Some("push"), Some("kicked")), "{kicked}");
    server.shutdown().await;
}

/// Logs `user` in over a fresh connection.
async fn logged_in(server: &oxim_server::ServerHandle, user: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    let body = json!({"sdk_app_id": 1_400_000_000u64, "user_id": user, "user_sig": server.user_sig(user, 600), "platform": "linux"});
    ws.send(Message::Text(json!({"v": 1, "t": "req", "id": 1, "op": "login", "body": body}).to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_response(&mut ws).await.unwrap()["code"], 0);
    ws
}

/// Asks for `n` large pages without reading any answer.
async fn flood_without_reading(ws: &mut Ws, n: u64) {
    for id in 0..n {
        let req = json!({"v": 1, "t": "req", "id": 1000 + id, "op": "msg.pull", "body": {"conv_id": "c2c_bob", "after_seq": 0, "limit": 1000}});
        ws.send(Message::Text(req.to_string().into())).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected_and_does_not_hold_shutdown() {
    use oxim_server::gateway::limits::OUTBOX_CAPACITY;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_tests(dir.path());
    config.write_timeout = Duration::from_secs(1);
    let server = Server::start(config).await.unwrap();
    let _bob = logged_in(&server, "bob").await;
    let mut alice = logged_in(&server, "alice").await;
    // 100 messages of 10 KB: each page is 1 MB.
    let text = "x".repeat(10_000);
    for i in 0..100u64 {
        let msg = json!({"msg_id": format!("m{i}"), "receiver": "bob", "elem": {"type": "text", "text": text}});
        alice
            .send(Message::Text(
                json!({"v": 1, "t": "req", "id": 10 + i, "op": "msg.send", "body": {"msg": msg}}).to_string().into(),
            ))
            .await
            .unwrap();
        assert_eq!(next_response(&mut alice).await.unwrap()["code"], 0);
    }
    assert_eq!(server.online_sessions(), 2);

    // 64 pages (far fewer frames than the outbox holds) that alice never reads: the socket
    // fills, the server's writes stall, and the connection is dropped after the write timeout.
    let pages = 64;
    assert!((pages as usize) < OUTBOX_CAPACITY);
    flood_without_reading(&mut alice, pages).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while server.online_sessions() > 1 {
        assert!(std::time::Instant::now() < deadline, "the stalled connection was never dropped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Another one stalls; shutting down does not wait for it longer than the write timeout.
    let mut again = logged_in(&server, "alice").await;
    flood_without_reading(&mut again, pages).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::time::timeout(Duration::from_secs(10), server.shutdown()).await.expect("shutdown finished");
    drop((alice, again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_refused_before_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_tests(dir.path());
    config.max_connections = 2;
    let server = Server::start(config).await.unwrap();
    let connect = || tokio_tungstenite::connect_async(server.ws_url());
    let first = connect().await.unwrap().0;
    let _second = logged_in(&server, "alice").await;
    let Err(refused) = connect().await else { panic!("a third connection is refused") };
    let refused = refused.to_string();
    assert!(refused.contains("503"), "{refused}");
    // A place frees when a connection ends.
    drop(first);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut third = loop {
        match connect().await {
            Ok((ws, _)) => break ws,
            Err(_) => assert!(std::time::Instant::now() < deadline, "no place freed"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    third.send(Message::Text(json!({"v": 1, "t": "req", "id": 3, "op": "logout"}).to_string().into())).await.unwrap();
    assert_eq!(next_response(&mut third).await.unwrap()["code"], 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_is_closed_with_1009() {
    use oxim_server::gateway::limits::MAX_WS_MESSAGE;
    use tokio_tungstenite::tungstenite::protocol::{WebSocketConfig, frame::coding::CloseCode};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    // A client that lets itself send more than the server takes.
    let config = WebSocketConfig::default().max_message_size(None).max_frame_size(None);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(server.ws_url(), Some(config), false).await.unwrap();
    let (mut sink, mut stream) = ws.split();
    // Sent beside the reading: the server stops reading the frame at its header, so the send may
    // never finish.
    let oversized = "x".repeat(MAX_WS_MESSAGE + 1);
    let sending = tokio::spawn(async move {
        let _ = sink.send(Message::Text(oversized.into())).await;
        sink
    });
    let close = loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("the server answers an oversized message")
            .expect("a close frame before the end")
            .expect("a close frame, not a broken socket");
        if let Message::Close(close) = msg {
            break close.expect("a close code");
        }
    };
    assert_eq!(close.code, CloseCode::Size, "{close:?}");
    assert!(!close.reason.is_empty());
    drop(sending);

    // A message at the limit is taken (and answered: it is not a request).
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    let frame = json!({"v": 1, "t": "req", "id": 5, "op": "logout", "body": {}}).to_string();
    let padded = format!("{frame}{}", " ".repeat(MAX_WS_MESSAGE - frame.len()));
    ws.send(Message::Text(padded.into())).await.unwrap();
    assert_eq!(next_response(&mut ws).await.expect("an answer")["id"], 5);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_beyond_the_in_flight_cap_wait_and_are_all_answered() {
    use oxim_server::gateway::limits::MAX_IN_FLIGHT;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    let _bob = logged_in(&server, "bob").await;
    let (mut sink, mut stream) = logged_in(&server, "alice").await.split();
    // No write commits: every send stays in flight until released.
    let held = server.hold_writes();
    let n = 4 * MAX_IN_FLIGHT as u64;
    // Sent beside the reading: the server stops reading at the cap, so the sends may stall.
    let sending = tokio::spawn(async move {
        for i in 0..n {
            let msg = json!({"msg_id": format!("m{i}"), "receiver": "bob", "elem": {"type": "text", "text": "hi"}});
            let req = json!({"v": 1, "t": "req", "id": 100 + i, "op": "msg.send", "body": {"msg": msg}});
            sink.send(Message::Text(req.to_string().into())).await.unwrap();
        }
        sink
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.peak_requests_in_flight() < MAX_IN_FLIGHT {
        assert!(std::time::Instant::now() < deadline, "the connection never had {MAX_IN_FLIGHT} requests in flight");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(held);

    // Every request is answered, and stored in the order it was sent.
    let mut seqs = std::collections::BTreeMap::new();
    while (seqs.len() as u64) < n {
        let msg = tokio::time::timeout(Duration::from_secs(20), stream.next()).await.expect("answers in time");
        let Message::Text(text) = msg.unwrap().unwrap() else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["t"] == "res" {
            assert_eq!(frame["code"], 0, "{frame}");
            seqs.insert(frame["id"].as_u64().unwrap(), frame["body"]["seq"].as_u64().unwrap());
        }
    }
    let seqs: Vec<u64> = seqs.into_values().collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "stored out of order: {seqs:?}");
    // Never more than the cap at once, though all were sent before any was answered.
    assert_eq!(server.peak_requests_in_flight(), MAX_IN_FLIGHT);
    drop(sending.await.unwrap());
    server.shutdown().await;
}

/// The next push with `op`, if one comes within five seconds.
async fn next_push(ws: &mut Ws, op: &str) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.ok()??.ok()?;
        let Message::Text(text) = msg else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["t"] == "push" && frame["op"] == op {
            return Some(frame);
        }
    }
}

/// Sends a login of a user the server has never seen (it waits for the store to register them).
async fn send_first_login(server: &oxim_server::ServerHandle, ws: &mut Ws, user: &str) {
    let body = json!({"sdk_app_id": 1_400_000_000u64, "user_id": user, "user_sig": server.user_sig(user, 600), "platform": "linux"});
    ws.send(Message::Text(json!({"v": 1, "t": "req", "id": 2, "op": "login", "body": body}).to_string().into()))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kick_reaches_a_connection_whose_request_is_still_running() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    let mut alice = logged_in(&server, "alice").await;
    // A request of alice's connection that cannot finish while the store is held: the next
    // request of the connection waits for it.
    let held = server.hold_writes();
    send_first_login(&server, &mut alice, "carol").await;
    // Alice logs in elsewhere on the same platform (she is known: no store write).
    let _elsewhere = logged_in(&server, "alice").await;
    let kicked = next_push(&mut alice, "kicked").await.expect("the kick while the request runs");
    assert_eq!(kicked["body"]["platform"], "linux", "{kicked}");
    // The held request still finishes and is answered.
    drop(held);
    let res = next_response(&mut alice).await.expect("the held login answered");
    assert_eq!((res["id"].as_u64(), res["code"].as_i64()), (Some(2), Some(0)), "{res}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_a_connection_whose_request_is_still_running() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    let mut alice = logged_in(&server, "alice").await;
    let held = server.hold_writes();
    send_first_login(&server, &mut alice, "dave").await;
    // The store closes last, after the held write: shutdown ends once the hold is released.
    let shutdown = tokio::spawn(server.shutdown());
    let close = loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), alice.next())
            .await
            .expect("closed while the request runs")
            .expect("a close frame before the end")
            .expect("a close frame, not a broken socket");
        if let Message::Close(close) = msg {
            break close.expect("a close code");
        }
    };
    assert_eq!(close.code, CloseCode::Away, "{close:?}");
    drop(held);
    tokio::time::timeout(Duration::from_secs(10), shutdown).await.expect("shutdown finished").unwrap();
}

/// Logs `user` in on `platform` over a fresh connection.
async fn logged_in_on(server: &oxim_server::ServerHandle, user: &str, platform: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    let body = json!({"sdk_app_id": 1_400_000_000u64, "user_id": user, "user_sig": server.user_sig(user, 600), "platform": platform});
    ws.send(Message::Text(json!({"v": 1, "t": "req", "id": 1, "op": "login", "body": body}).to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_response(&mut ws).await.unwrap()["code"], 0);
    ws
}

/// Sends request `op` and returns its answer (pushes in between are skipped).
async fn ask(ws: &mut Ws, id: u64, op: &str, body: Value) -> Value {
    ws.send(Message::Text(json!({"v": 1, "t": "req", "id": id, "op": op, "body": body}).to_string().into()))
        .await
        .unwrap();
    loop {
        let res = next_response(ws).await.unwrap_or_else(|| panic!("no answer to {op}"));
        if res["id"] == id {
            return res;
        }
    }
}

/// Pipelines `msgs` (`msg.send` bodies' `msg`) with ids from `first_id`, then reads every answer:
/// the codes by message id.
async fn pipeline_sends(ws: &mut Ws, first_id: u64, msgs: &[Value]) -> std::collections::HashMap<String, i64> {
    let (mut sink, mut stream) = ws.split();
    let mut ids = std::collections::HashMap::new();
    for (i, msg) in msgs.iter().enumerate() {
        let id = first_id + i as u64;
        ids.insert(id, msg["msg_id"].as_str().unwrap().to_owned());
        let req = json!({"v": 1, "t": "req", "id": id, "op": "msg.send", "body": {"msg": msg}});
        sink.send(Message::Text(req.to_string().into())).await.unwrap();
    }
    let mut codes = std::collections::HashMap::new();
    while codes.len() < msgs.len() {
        let msg = tokio::time::timeout(Duration::from_secs(20), stream.next()).await.expect("answers in time");
        let Message::Text(text) = msg.unwrap().unwrap() else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["t"] == "res"
            && let Some(msg_id) = frame["id"].as_u64().and_then(|id| ids.get(&id))
        {
            codes.insert(msg_id.clone(), frame["code"].as_i64().unwrap());
        }
    }
    codes
}

/// The message ids stored in conversation `conv` as `ws`'s user sees it.
async fn stored_ids(ws: &mut Ws, conv: &str) -> std::collections::BTreeSet<String> {
    let res = ask(ws, 9_999, "msg.pull", json!({"conv_id": conv, "after_seq": 0, "limit": 1000})).await;
    assert_eq!(res["code"], 0, "{res}");
    res["body"]["msgs"].as_array().unwrap().iter().map(|m| m["msg_id"].as_str().unwrap().to_owned()).collect()
}

fn text_to(to: (&str, &str), id: String) -> Value {
    json!({"msg_id": id, to.0: to.1, "elem": {"type": "text", "text": "flood"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_user_is_refused_and_nothing_beyond_the_rate_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_tests(dir.path());
    config.limits.user_msgs_per_sec = 5;
    config.limits.user_msgs_burst = 20;
    let server = Server::start(config).await.unwrap();
    let mut bob = logged_in(&server, "bob").await;
    let mut alice = logged_in_on(&server, "alice", "linux").await;
    let created = ask(
        &mut alice,
        2,
        "group.create",
        json!({"group_type": "Work", "group_id": "team", "name": "team", "members": [{"user_id": "bob"}]}),
    )
    .await;
    assert_eq!(created["code"], 0, "{created}");
    // Two sessions of alice's flood together, C2C and into a group: they share one bucket.
    let mut other = logged_in_on(&server, "alice", "web").await;
    let c2c: Vec<Value> = (0..150).map(|i| text_to(("receiver", "bob"), format!("c{i}"))).collect();
    let group: Vec<Value> = (0..150).map(|i| text_to(("group_id", "team"), format!("g{i}"))).collect();
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(pipeline_sends(&mut alice, 100, &c2c), pipeline_sends(&mut other, 100, &group));
    let elapsed = started.elapsed().as_secs_f64();
    let codes: Vec<(&String, &i64)> = a.iter().chain(b.iter()).collect();
    let accepted: std::collections::BTreeSet<String> =
        codes.iter().filter(|(_, c)| **c == 0).map(|(id, _)| (*id).clone()).collect();
    let refused = codes.iter().filter(|(_, c)| **c == code::SVR_SSO_FREQ_LIMIT as i64).count();
    assert_eq!(accepted.len() + refused, 300, "every answer is a success or -10113: {codes:?}");
    // The burst, plus what the rate refilled meanwhile.
    let most = 20 + (elapsed * 5.0).ceil() as usize + 1;
    assert!(accepted.len() >= 20 && accepted.len() <= most, "{} accepted in {elapsed:.2} s", accepted.len());

    // Exactly the accepted messages are stored: none of the refused ones.
    let mut stored = stored_ids(&mut bob, "c2c_alice").await;
    stored.extend(stored_ids(&mut bob, "group_team").await);
    assert_eq!(stored, accepted);
    // Other users are not slowed by alice's flood.
    let res = ask(&mut bob, 3, "msg.send", json!({"msg": text_to(("receiver", "alice"), "b1".into())})).await;
    assert_eq!(res["code"], 0, "{res}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_sending_at_a_steady_rate_is_never_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_tests(dir.path());
    config.limits.user_msgs_per_sec = 20;
    config.limits.user_msgs_burst = 3;
    let server = Server::start(config).await.unwrap();
    let _bob = logged_in(&server, "bob").await;
    let mut alice = logged_in(&server, "alice").await;
    // One message every 100 ms, each after the answer to the one before: half the rate.
    for i in 0..30u64 {
        let res =
            ask(&mut alice, 10 + i, "msg.send", json!({"msg": text_to(("receiver", "bob"), format!("m{i}"))})).await;
        assert_eq!(res["code"], 0, "message {i}: {res}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_avchatroom_keeps_its_own_rate_and_takes_nothing_of_the_users() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_tests(dir.path());
    config.limits.user_msgs_per_sec = 1;
    config.limits.user_msgs_burst = 2;
    let server = Server::start(config).await.unwrap();
    let _bob = logged_in(&server, "bob").await;
    let mut alice = logged_in(&server, "alice").await;
    let created =
        ask(&mut alice, 2, "group.create", json!({"group_type": "AVChatRoom", "group_id": "live", "name": "live"}))
            .await;
    assert_eq!(created["code"], 0, "{created}");
    let room: Vec<Value> = (0..200).map(|i| text_to(("group_id", "live"), format!("r{i}"))).collect();
    let codes = pipeline_sends(&mut alice, 100, &room).await;
    let count = |code: i32| codes.values().filter(|c| **c == code as i64).count();
    // The room's 40 per second (default priority: 36 of them), not the user's 2.
    assert!(count(0) > 2, "{} passed", count(0));
    assert!(count(code::SVR_GROUP_SEND_MSG_FREQ_LIMIT) > 0, "{codes:?}");
    assert_eq!(count(0) + count(code::SVR_GROUP_SEND_MSG_FREQ_LIMIT), 200, "{codes:?}");
    // The user's bucket is still full: two C2C messages pass, then the rate refuses.
    let c2c: Vec<Value> = (0..5).map(|i| text_to(("receiver", "bob"), format!("c{i}"))).collect();
    let codes = pipeline_sends(&mut alice, 1_000, &c2c).await;
    assert_eq!((codes["c0"], codes["c1"]), (0, 0), "{codes:?}");
    assert!(codes.values().any(|c| *c == code::SVR_SSO_FREQ_LIMIT as i64), "{codes:?}");
    server.shutdown().await;
}

/// The close frame `ws` gets within `within`.
async fn close_within(ws: &mut Ws, within: Duration) -> tokio_tungstenite::tungstenite::protocol::CloseFrame {
    loop {
        let msg = tokio::time::timeout(within, ws.next())
            .await
            .expect("closed in time")
            .expect("a close frame before the end")
            .expect("a close frame, not a broken socket");
        if let Message::Close(close) = msg {
            break close.expect("a close code");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_does_not_log_in_is_closed_at_the_login_deadline() {
    use oxim_server::gateway::limits::CLOSE_LOGIN_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_tests(dir.path());
    config.limits.login_deadline_secs = 1;
    let server = Server::start(config).await.unwrap();
    let opened = std::time::Instant::now();
    let (mut idle, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    // Requests without a login do not count as one.
    let res = ask(&mut idle, 5, "sync", json!({"since": 0, "limit": 10})).await;
    assert_eq!(res["code"], code::SDK_NOT_LOGGED_IN);
    let close = close_within(&mut idle, Duration::from_secs(10)).await;
    assert_eq!(u16::from(close.code), CLOSE_LOGIN_DEADLINE, "{close:?}");
    assert!(opened.elapsed() >= Duration::from_millis(900), "closed before the deadline");

    // A socket that logged in is not closed; after a logout the deadline counts again.
    let mut alice = logged_in(&server, "alice").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let res = ask(&mut alice, 6, "sync", json!({"since": 0, "limit": 10})).await;
    assert_eq!(res["code"], 0, "a logged-in socket lives past the deadline: {res}");
    assert_eq!(ask(&mut alice, 7, "logout", json!({})).await["code"], 0);
    let close = close_within(&mut alice, Duration::from_secs(10)).await;
    assert_eq!(u16::from(close.code), CLOSE_LOGIN_DEADLINE, "{close:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usersig_expiry_reaches_a_connection_whose_request_is_still_running() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    // Alice exists (her first login is a store write); then a UserSig valid for two seconds.
    drop(logged_in(&server, "alice").await);
    let (mut alice, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    let body = json!({"sdk_app_id": 1_400_000_000u64, "user_id": "alice", "user_sig": server.user_sig("alice", 2), "platform": "linux"});
    assert_eq!(ask(&mut alice, 1, "login", body).await["code"], 0);
    // A request of the connection that cannot finish while the store is held.
    let held = server.hold_writes();
    send_first_login(&server, &mut alice, "erin").await;
    next_push(&mut alice, "usersig_expired").await.expect("the expiry while the request runs");
    assert!(!server.is_online("alice"), "the expired session is signed out");
    drop(held);
    let res = next_response(&mut alice).await.expect("the held login answered");
    assert_eq!((res["id"].as_u64(), res["code"].as_i64()), (Some(2), Some(0)), "{res}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_reaches_a_connection_whose_request_is_still_running() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    let mut alice = logged_in(&server, "alice").await;
    let held = server.hold_writes();
    send_first_login(&server, &mut alice, "frank").await;
    assert_eq!(server.disconnect_user("alice"), 1);
    // The socket is dropped without a close handshake, as a network loss would, at once.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match alice.next().await {
                None | Some(Err(_)) => return true,
                Some(Ok(Message::Close(_))) => return false,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the connection ended while its request runs");
    assert!(ended, "no close handshake");
    assert!(!server.is_online("alice"));
    // The abandoned login has nobody to sign in; the server goes on once the store does.
    drop(held);
    let mut bob = logged_in(&server, "bob").await;
    let res = ask(&mut bob, 5, "msg.send", json!({"msg": text_to(("receiver", "alice"), "after".into())})).await;
    assert_eq!(res["code"], 0, "{res}");
    server.shutdown().await;
}
