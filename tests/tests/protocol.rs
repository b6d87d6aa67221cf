//! The server's own checks, seen by a raw WebSocket client that bypasses the SDK's checks:
//! the server never relies on the client.

use oxim_tests::{RawClient as Raw, TestServer};
use serde_json::{Value, json};

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
