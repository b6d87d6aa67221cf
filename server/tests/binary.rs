//! The `oxim-server` binary: configuration sources, the `usersig` subcommand, graceful
//! shutdown on SIGTERM and a restart on the same data directory that loses nothing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oxim_server::config::{DEV_SDK_APP_ID, DEV_SECRET_KEY};
use oxim_server::usersig::UserSigKey;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const BIN: &str = env!("CARGO_BIN_EXE_oxim-server");

/// Starts the binary and returns it with the address it printed.
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> (Child, String, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start oxim-server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    let first = lines.next().expect("banner").unwrap();
    let addr = first.rsplit(' ').next().unwrap().to_owned();
    banner.push(first);
    while !banner.last().unwrap().contains("a UserSig") {
        banner.push(lines.next().expect("banner line").unwrap());
    }
    // Keep draining stdout in the background so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr, banner)
}

fn sigterm_and_wait(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("oxim-server did not stop within 5 s of SIGTERM");
}

async fn call(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    id: u64,
    op: &str,
    body: Value,
) -> Value {
    ws.send(Message::Text(json!({"v":1,"t":"req","id":id,"op":op,"body":body}).to_string().into())).await.unwrap();
    loop {
        if let Message::Text(t) = ws.next().await.unwrap().unwrap() {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["id"] == id {
                return v;
            }
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_stops_on_sigterm_and_restarts_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("oxim.toml");
    std::fs::write(&config, format!("data_dir = {:?}\nsdk_app_id = 1400000042\n", data.display().to_string())).unwrap();
    // The file sets app id and data dir; the environment sets the secret; a flag sets the address.
    let args = ["--config", config.to_str().unwrap(), "--listen", "127.0.0.1:0"];
    let envs = [("OXIM_SECRET_KEY", "binary-test-key")];
    let (child, addr, banner) = spawn(&args, &envs);
    assert!(banner.iter().any(|l| l.contains("SDKAppID:   1400000042")), "{banner:?}");
    assert!(banner.iter().any(|l| l.contains("secret key: (configured)")), "the secret is not printed: {banner:?}");
    let key = UserSigKey::new(1400000042, "binary-test-key");

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws")).await.unwrap();
    for (i, user) in ["bob", "alice"].iter().enumerate() {
        let res = call(&mut ws, 1 + i as u64, "login", json!({"sdk_app_id": 1400000042, "user_id": user, "user_sig": key.sign(user, now(), 600), "platform": "test"})).await;
        assert_eq!(res["code"], 0, "{res}");
    }
    for i in 0..3 {
        let body = json!({"msg": {"msg_id": format!("b{i}"), "receiver": "bob", "elem": {"type": "text", "text": format!("kept {i}")}}});
        let res = call(&mut ws, 10 + i, "msg.send", body).await;
        assert_eq!(res["body"]["seq"], i + 1, "{res}");
    }

    let status = sigterm_and_wait(child);
    assert!(status.success(), "graceful exit: {status:?}");
    // The connection was closed by the server, not left hanging.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                _ => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok());

    let (child, addr, _) = spawn(&args, &envs);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws")).await.unwrap();
    let res = call(&mut ws, 1, "login", json!({"sdk_app_id": 1400000042, "user_id": "bob", "user_sig": key.sign("bob", now(), 600), "platform": "test"})).await;
    assert_eq!(res["code"], 0);
    let pulled = call(&mut ws, 2, "msg.pull", json!({"conv_id": "c2c_alice", "after_seq": 0, "limit": 10})).await;
    let texts: Vec<_> = pulled["body"]["msgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["elem"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["kept 0", "kept 1", "kept 2"]);
    let next = call(
        &mut ws,
        3,
        "msg.send",
        json!({"msg": {"msg_id": "b3", "receiver": "alice", "elem": {"type": "text", "text": "x"}}}),
    )
    .await;
    assert_eq!(next["body"]["seq"], 4, "seq continues after the restart");
    assert!(sigterm_and_wait(child).success());
}

#[test]
fn usersig_subcommand_prints_a_valid_usersig() {
    let out = Command::new(BIN).args(["usersig", "--user", "alice", "--expire", "120"]).output().unwrap();
    assert!(out.status.success());
    let sig = String::from_utf8(out.stdout).unwrap();
    let claims = UserSigKey::new(DEV_SDK_APP_ID, DEV_SECRET_KEY).verify(sig.trim(), "alice", now()).unwrap();
    assert_eq!(claims.expire, 120);

    let out = Command::new(BIN).args(["usersig", "--user", "has space"]).output().unwrap();
    assert!(!out.status.success());
    let out =
        Command::new(BIN).args(["--config", "/nonexistent/oxim.toml", "usersig", "--user", "a"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
