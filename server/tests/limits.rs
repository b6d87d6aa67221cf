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
