//! The server's own checks, seen by a raw WebSocket client that bypasses the SDK's checks:
//! the server never relies on the client.

use futures_util::{SinkExt, StreamExt};
use oxim_tests::TestServer;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

struct Raw {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    next_id: u64,
}

impl Raw {
    async fn connect(server: &TestServer) -> Raw {
        let (ws, _) = tokio_tungstenite::connect_async(server.handle().ws_url()).await.unwrap();
        Raw { ws, next_id: 1 }
    }

    /// Sends a request and returns its response frame (pushes in between are skipped).
    async fn call(&mut self, op: &str, body: Value) -> Value {
        self.call_v(1, op, body).await
    }

    async fn call_v(&mut self, v: u32, op: &str, body: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"v": v, "t": "req", "id": id, "op": op, "body": body});
        self.ws.send(Message::Text(frame.to_string().into())).await.unwrap();
        loop {
            let msg = tokio::time::timeout(oxim_tests::WAIT, self.ws.next()).await.unwrap().unwrap().unwrap();
            if let Message::Text(text) = msg {
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["t"] == "res" && frame["id"] == id {
                    return frame;
                }
            }
        }
    }

    async fn login(&mut self, server: &TestServer, user: &str) {
        let res = self
            .call("login", json!({"sdk_app_id": server.sdk_app_id(), "user_id": user, "user_sig": server.sig(user), "platform": "test"}))
            .await;
        assert_eq!(res["code"], 0, "{res}");
    }
}

fn text_msg(id: &str, to: &str, text: &str) -> Value {
    json!({"msg": {"msg_id": id, "receiver": to, "elem": {"type": "text", "text": text}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_enforces_its_rules_itself() {
    let server = TestServer::start().await;
    let mut bob = Raw::connect(&server).await;
    bob.login(&server, "bob").await;
    let mut raw = Raw::connect(&server).await;

    // Before login.
    assert_eq!(raw.call("msg.send", text_msg("m0", "bob", "hi")).await["code"], 6014);
    assert_eq!(raw.call("sync", json!({"since": 0, "limit": 10})).await["code"], 6014);
    raw.login(&server, "alice").await;

    // Oversized body: 80002 (the SDK would have said 8001 before sending).
    let res = raw.call("msg.send", text_msg("m1", "bob", &"x".repeat(12 * 1024 + 1))).await;
    assert_eq!(res["code"], 80002, "{res}");
    // Unknown receiver, malformed addressing, empty content, bad ids.
    assert_eq!(raw.call("msg.send", text_msg("m2", "nobody", "hi")).await["code"], 20003);
    let both =
        json!({"msg": {"msg_id": "m3", "receiver": "bob", "group_id": "g", "elem": {"type": "text", "text": "x"}}});
    assert_eq!(raw.call("msg.send", both).await["code"], 6017);
    let neither = json!({"msg": {"msg_id": "m4", "elem": {"type": "text", "text": "x"}}});
    assert_eq!(raw.call("msg.send", neither).await["code"], 6017);
    assert_eq!(raw.call("msg.send", text_msg("m5", "bob", "")).await["code"], 6017);
    assert_eq!(raw.call("msg.send", text_msg("", "bob", "hi")).await["code"], 6017);
    assert_eq!(raw.call("msg.send", json!({"nonsense": true})).await["code"], 6017);
    assert_eq!(raw.call("no.such.op", json!({})).await["code"], 6017);
    assert_eq!(raw.call_v(2, "sync", json!({"since": 0, "limit": 1})).await["code"], 6017);
    // Groups do not exist yet: the real check answers "not found".
    let group = json!({"msg": {"msg_id": "m6", "group_id": "g1", "elem": {"type": "text", "text": "x"}}});
    assert_eq!(raw.call("msg.send", group).await["code"], 10010);

    // None of that was stored.
    let pulled = raw.call("msg.pull", json!({"conv_id": "c2c_bob", "after_seq": 0, "limit": 100})).await;
    assert_eq!(pulled["body"]["msgs"].as_array().unwrap().len(), 0, "{pulled}");

    // A resend of the same msg_id is stored once and answered with the original seq and time.
    let first = raw.call("msg.send", text_msg("dup", "bob", "once")).await;
    let again = raw.call("msg.send", text_msg("dup", "bob", "once")).await;
    assert_eq!(first["body"], again["body"]);
    assert_eq!(first["body"]["seq"], 1);
    let pulled = raw.call("msg.pull", json!({"conv_id": "c2c_bob", "after_seq": 0, "limit": 100})).await;
    assert_eq!(pulled["body"]["msgs"].as_array().unwrap().len(), 1);
    assert_eq!(pulled["body"]["max_seq"], 1);
    // Someone else cannot claim that msg_id.
    let res = bob.call("msg.send", text_msg("dup", "alice", "mine now")).await;
    assert_eq!(res["code"], 6017, "{res}");

    // Sync lists the conversation from each side.
    let synced = raw.call("sync", json!({"since": 0, "limit": 10})).await;
    assert_eq!(synced["body"]["convs"][0]["conv_id"], "c2c_bob", "{synced}");
    let synced = bob.call("sync", json!({"since": 0, "limit": 10})).await;
    assert_eq!(synced["body"]["convs"][0]["conv_id"], "c2c_alice", "{synced}");
    assert_eq!(synced["body"]["convs"][0]["max_seq"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers() {
    let server = TestServer::start().await;
    let stream = tokio::net::TcpStream::connect(server.handle().addr()).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = stream;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"status\":\"ok\""), "{response}");
}
