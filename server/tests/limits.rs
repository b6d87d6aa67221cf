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
