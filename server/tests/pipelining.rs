//! One client pipelines writes (sends many requests before reading any answer): the gateway
//! stores them in the order they were sent, whatever else is in flight beside them.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oxim_server::{Server, ServerConfig};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(ws: &mut Ws, id: u64, op: &str, body: Value) {
    ws.send(Message::Text(json!({"v": 1, "t": "req", "id": id, "op": op, "body": body}).to_string().into()))
        .await
        .unwrap();
}

/// Reads frames until the responses to `ids` have all arrived; returns them by id.
async fn responses(ws: &mut Ws, ids: impl IntoIterator<Item = u64>) -> HashMap<u64, Value> {
    let mut waiting: Vec<u64> = ids.into_iter().collect();
    let mut out = HashMap::new();
    while !waiting.is_empty() {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("answers in time");
        let Message::Text(text) = msg.unwrap().unwrap() else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["t"] == "res" {
            let id = frame["id"].as_u64().unwrap();
            waiting.retain(|w| *w != id);
            out.insert(id, frame);
        }
    }
    out
}

async fn login(server: &oxim_server::ServerHandle, user: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
    let body = json!({"sdk_app_id": 1_400_000_000u64, "user_id": user, "user_sig": server.user_sig(user, 600), "platform": "linux"});
    send(&mut ws, 1, "login", body).await;
    assert_eq!(responses(&mut ws, [1]).await[&1]["code"], 0);
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_sends_are_stored_in_the_order_they_were_sent() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    let _bob = login(&server, "bob").await;
    let mut alice = login(&server, "alice").await;
    send(
        &mut alice,
        2,
        "group.create",
        json!({"group_type": "Work", "group_id": "team", "name": "team", "members": [{"user_id": "bob"}]}),
    )
    .await;
    assert_eq!(responses(&mut alice, [2]).await[&2]["code"], 0);

    // 200 sends, alternately C2C and to the group (whose send reads the group first), with
    // reads in between; nothing is awaited until all are out.
    let text = |i: u64| json!({"type": "text", "text": format!("n{i}")});
    let mut sends = Vec::new();
    for i in 0..200u64 {
        let id = 100 + i;
        let msg = if i % 2 == 0 {
            json!({"msg": {"msg_id": format!("c{i}"), "receiver": "bob", "elem": text(i)}})
        } else {
            json!({"msg": {"msg_id": format!("g{i}"), "group_id": "team", "elem": text(i)}})
        };
        send(&mut alice, id, "msg.send", msg).await;
        sends.push((i, id));
        if i % 10 == 0 {
            send(&mut alice, 1_000 + i, "msg.pull", json!({"conv_id": "c2c_bob", "after_seq": 0, "limit": 5})).await;
        }
    }
    let answers = responses(&mut alice, sends.iter().map(|(_, id)| *id)).await;
    let (mut c2c, mut group) = (Vec::new(), Vec::new());
    for (i, id) in sends {
        let res = &answers[&id];
        assert_eq!(res["code"], 0, "{res}");
        let seq = res["body"]["seq"].as_u64().unwrap();
        if i % 2 == 0 { c2c.push(seq) } else { group.push(seq) }
    }
    assert_eq!(c2c, (1..=100).collect::<Vec<u64>>(), "C2C seqs follow the send order");
    assert_eq!(group, (1..=100).collect::<Vec<u64>>(), "group seqs follow the send order");
    server.shutdown().await;
}
