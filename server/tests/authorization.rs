//! The authorization matrix: every request type, asked by each kind of caller (not logged in,
//! another user, a non-member with a pending application, a kicked member, a member, an admin,
//! the owner), over real WebSockets against a real server. Each cell starts from the same
//! fresh state; a refused request must answer V2TIM's code and change nothing any of the
//! group's users can observe. Beside it: what a former member and a non-member can still see
//! (unread counts, read and clear positions, the group's profile), and who may send and
//! download a file.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oxim_proto::code;
use oxim_proto::media::FileKind;
use oxim_server::{Server, ServerConfig, ServerHandle};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const APP: u64 = 1_400_000_000;

/// One WebSocket connection that numbers its requests and waits for their answers.
struct Client {
    ws: Ws,
    next_id: u64,
}

impl Client {
    async fn connect(server: &ServerHandle) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(server.ws_url()).await.unwrap();
        Client { ws, next_id: 1 }
    }

    async fn login(server: &ServerHandle, user: &str) -> Client {
        let mut c = Client::connect(server).await;
        let body =
            json!({"sdk_app_id": APP, "user_id": user, "user_sig": server.user_sig(user, 600), "platform": "linux"});
        assert_eq!(c.call("login", body).await["code"], 0);
        c
    }

    /// Sends a request and returns its response frame (pushes in between are skipped).
    async fn call(&mut self, op: &str, body: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"v": 1, "t": "req", "id": id, "op": op, "body": body});
        self.ws.send(Message::Text(frame.to_string().into())).await.unwrap();
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(20), self.ws.next()).await.expect("an answer in time");
            let Message::Text(text) = msg.unwrap().unwrap() else { continue };
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["t"] == "res" && frame["id"] == id {
                return frame;
            }
        }
    }

    /// `call`, expecting success; the response body.
    async fn ok(&mut self, op: &str, body: Value) -> Value {
        let res = self.call(op, body.clone()).await;
        assert_eq!(res["code"], 0, "{op} {body}: {res}");
        res["body"].clone()
    }
}

/// The callers, in the matrix's column order.
const ROLES: [&str; 7] = ["guest", "otto", "nina", "kim", "mia", "adam", "olga"];
/// Column names for messages.
const ROLE_NAMES: [&str; 7] =
    ["not logged in", "another user", "non-member", "kicked member", "member", "admin", "owner"];

/// A server in the matrix's starting state:
/// - `pub`, a Public group needing approval to join: owner olga, admin adam, member mia; kim was
///   a member and was kicked; nina applied to join (pending); otto has nothing to do with it.
///   Messages g1 (olga), g2 (mia) before the kick, g3 (olga), g4 (mia) after; attribute k=v.
/// - `work`, a Work group: olga, adam, mia; kim kicked.
/// - olga wrote c1 to mia and invited mia to a call (invitation `inv1`).
struct Fixture {
    server: ServerHandle,
    _dir: tempfile::TempDir,
    clients: HashMap<&'static str, Client>,
    /// nina's application.
    app_id: String,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
        let mut clients = HashMap::new();
        clients.insert("guest", Client::connect(&server).await);
        for user in &ROLES[1..] {
            clients.insert(*user, Client::login(&server, user).await);
        }
        let mut f = Fixture { server, _dir: dir, clients, app_id: String::new() };
        let members = json!([{"user_id": "adam", "role": 300}, {"user_id": "mia"}, {"user_id": "kim"}]);
        f.c("olga")
            .ok("group.create", json!({"group_type": "Public", "group_id": "pub", "name": "pub", "notification": "secret plans", "add_opt": 1, "members": members}))
            .await;
        f.c("olga")
            .ok("group.create", json!({"group_type": "Work", "group_id": "work", "name": "work", "notification": "work secret", "members": [{"user_id": "adam"}, {"user_id": "mia"}, {"user_id": "kim"}]}))
            .await;
        f.c("olga").ok("msg.send", json!({"msg": group_text("g1", "pub")})).await;
        f.c("mia").ok("msg.send", json!({"msg": group_text("g2", "pub")})).await;
        f.c("olga").ok("msg.send", json!({"msg": group_text("w1", "work")})).await;
        f.c("olga").ok("group.kick", json!({"group_id": "pub", "user_ids": ["kim"]})).await;
        f.c("olga").ok("group.kick", json!({"group_id": "work", "user_ids": ["kim"]})).await;
        f.c("olga").ok("msg.send", json!({"msg": group_text("g3", "pub")})).await;
        f.c("mia").ok("msg.send", json!({"msg": group_text("g4", "pub")})).await;
        f.c("olga").ok("msg.send", json!({"msg": group_text("w2", "work")})).await;
        let joined = f.c("nina").ok("group.join", json!({"group_id": "pub", "message": "let me in"})).await;
        assert_eq!(joined["joined"], false, "an application awaits approval");
        f.c("olga")
            .ok("group.attrs.write", json!({"group_id": "pub", "mode": "set", "attrs": {"k": "v"}, "base_version": 0}))
            .await;
        let mut c1 = text("c1");
        c1["receiver"] = json!("mia");
        f.c("olga").ok("msg.send", json!({"msg": c1})).await;
        f.c("olga")
            .ok("signal.invite", json!({"invite_id": "inv1", "invitees": ["mia"], "data": "call", "timeout": 0}))
            .await;
        let apps = f.c("olga").ok("group.applications", json!({})).await;
        f.app_id = apps["applications"][0]["app_id"].as_str().unwrap().to_owned();
        f
    }

    fn c(&mut self, role: &str) -> &mut Client {
        self.clients.get_mut(role).unwrap()
    }

    /// Everything the group's users and the caller can observe, without the parts that move by
    /// themselves (presence).
    async fn observed(&mut self, caller: &str) -> Value {
        let mut out = serde_json::Map::new();
        let mut watchers: Vec<&str> = vec!["olga", "adam", "mia", "kim", "nina"];
        if caller != "guest" && !watchers.contains(&caller) {
            watchers.push(caller);
        }
        for user in watchers {
            let c = self.c(user);
            let mut seen = serde_json::Map::new();
            seen.insert("sync".into(), c.call("sync", json!({"since": 0, "limit": 100})).await["body"].clone());
            seen.insert("joined".into(), c.call("group.joined", json!({})).await["body"].clone());
            seen.insert("apps".into(), c.call("group.applications", json!({})).await["body"].clone());
            for conv in ["group_pub", "group_work", "c2c_olga", "c2c_mia"] {
                let mut pulled = c.call("msg.pull", json!({"conv_id": conv, "after_seq": 0, "limit": 100})).await;
                pulled["id"] = Value::Null;
                seen.insert(format!("pull {conv}"), pulled);
            }
            out.insert(user.into(), Value::Object(seen));
        }
        let olga = self.c("olga");
        for (op, body) in [
            ("group.info", json!({"group_ids": ["pub", "work"]})),
            ("group.members", json!({"group_id": "pub", "filter": 0, "next_seq": 0})),
            ("group.members", json!({"group_id": "work", "filter": 0, "next_seq": 0})),
            ("group.attrs.get", json!({"group_id": "pub"})),
            ("signal.get", json!({"invite_id": "inv1"})),
        ] {
            let mut res = olga.call(op, body.clone()).await;
            res["id"] = Value::Null;
            out.insert(format!("{op} {body}"), res);
        }
        Value::Object(out)
    }
}

fn text(id: &str) -> Value {
    json!({"msg_id": id, "elem": {"type": "text", "text": format!("text of {id}")}})
}

fn group_text(id: &str, group: &str) -> Value {
    let mut m = text(id);
    m["group_id"] = json!(group);
    m
}

/// A request of the matrix: an operation, its body (given the fixture) and the expected answer
/// code for each column of [`ROLES`].
struct Row {
    op: &'static str,
    body: fn(&Fixture) -> Value,
    expect: [i32; 7],
}

const NLI: i32 = code::SDK_NOT_LOGGED_IN;
const DENY: i32 = code::SVR_GROUP_PERMISSION_DENY;
const QUIT: i32 = code::SVR_GROUP_SUPER_NOT_ALLOW_QUIT;
const NOPE: i32 = code::SIGNALING_NO_PERMISSION;

fn rows() -> Vec<Row> {
    let row = |op, body, expect| Row { op, body, expect };
    vec![
        // Messages in the group.
        row("msg.send", |_| json!({"msg": group_text("new", "pub")}), [NLI, DENY, DENY, DENY, 0, 0, 0]),
        row(
            "msg.pull",
            |_| json!({"conv_id": "group_pub", "after_seq": 0, "limit": 100}),
            [NLI, DENY, DENY, 0, 0, 0, 0],
        ),
        row(
            "msg.history",
            |_| json!({"conv_id": "group_pub", "before_seq": 0, "limit": 100}),
            [NLI, DENY, DENY, 0, 0, 0, 0],
        ),
        row("msg.read", |_| json!({"conv_id": "group_pub", "seq": 0}), [NLI, DENY, DENY, 0, 0, 0, 0]),
        row("msg.clear", |_| json!({"conv_id": "group_pub"}), [NLI, DENY, DENY, 0, 0, 0, 0]),
        row("msg.delete", |_| json!({"conv_id": "group_pub", "msg_ids": ["g1"]}), [NLI, DENY, DENY, 0, 0, 0, 0]),
        row(
            "msg.revoke",
            |_| json!({"conv_id": "group_pub", "msg_id": "g1"}),
            [NLI, 10032, 10032, 10032, 10032, 10032, 0],
        ),
        row(
            "conv.unread",
            |_| json!({"ranges": [{"conv_id": "group_pub", "after_seq": 0, "up_to_seq": 1000}]}),
            [NLI, DENY, DENY, 0, 0, 0, 0],
        ),
        row("conv.delete", |_| json!({"conv_id": "group_pub"}), [NLI, 6004, 6004, 0, 0, 0, 0]),
        row("conv.pin", |_| json!({"conv_id": "group_pub", "pinned": true}), [NLI, 6004, 6004, 0, 0, 0, 0]),
        // The group.
        row("group.info", |_| json!({"group_ids": ["pub", "work"]}), [NLI, 0, 0, 0, 0, 0, 0]),
        row("group.joined", |_| json!({}), [NLI, 0, 0, 0, 0, 0, 0]),
        row(
            "group.members",
            |_| json!({"group_id": "pub", "filter": 0, "next_seq": 0}),
            [NLI, DENY, DENY, DENY, 0, 0, 0],
        ),
        row(
            "group.members_info",
            |_| json!({"group_id": "pub", "user_ids": ["mia"]}),
            [NLI, DENY, DENY, DENY, 0, 0, 0],
        ),
        row(
            "group.set_info",
            |_| json!({"group_id": "pub", "notification": "changed"}),
            [NLI, DENY, DENY, DENY, DENY, 0, 0],
        ),
        row(
            "group.set_member",
            |_| json!({"group_id": "pub", "user_id": "mia", "name_card": "m"}),
            [NLI, DENY, DENY, DENY, 0, 0, 0],
        ),
        row(
            "group.mute",
            |_| json!({"group_id": "pub", "user_id": "mia", "seconds": 60}),
            [NLI, DENY, DENY, DENY, DENY, 0, 0],
        ),
        // Nobody invites into a Public group (one applies); any member into a Work group.
        row(
            "group.invite",
            |_| json!({"group_id": "pub", "user_ids": ["otto"]}),
            [NLI, DENY, DENY, DENY, DENY, DENY, DENY],
        ),
        row("group.invite", |_| json!({"group_id": "work", "user_ids": ["otto"]}), [NLI, DENY, DENY, DENY, 0, 0, 0]),
        row("group.kick", |_| json!({"group_id": "pub", "user_ids": ["mia"]}), [NLI, DENY, DENY, DENY, DENY, 0, 0]),
        row(
            "group.set_role",
            |_| json!({"group_id": "pub", "user_id": "mia", "role": 300}),
            [NLI, DENY, DENY, DENY, DENY, DENY, 0],
        ),
        row(
            "group.transfer",
            |_| json!({"group_id": "pub", "user_id": "adam"}),
            [NLI, DENY, DENY, DENY, DENY, DENY, 0],
        ),
        row("group.quit", |_| json!({"group_id": "pub"}), [NLI, DENY, DENY, DENY, 0, 0, QUIT]),
        row("group.dismiss", |_| json!({"group_id": "pub"}), [NLI, DENY, DENY, DENY, DENY, DENY, 0]),
        row("group.join", |_| json!({"group_id": "pub"}), [NLI, 0, 0, 0, 10013, 10013, 10013]),
        row("group.applications", |_| json!({}), [NLI, 0, 0, 0, 0, 0, 0]),
        row(
            "group.application.handle",
            |f| json!({"app_id": f.app_id, "accept": true}),
            [NLI, DENY, DENY, DENY, DENY, 0, 0],
        ),
        row("group.applications.read", |_| json!({}), [NLI, 0, 0, 0, 0, 0, 0]),
        row("group.recv_opt", |_| json!({"group_id": "pub", "opt": 1}), [NLI, DENY, DENY, DENY, 0, 0, 0]),
        row("group.online_count", |_| json!({"group_id": "pub"}), [NLI, DENY, DENY, DENY, 0, 0, 0]),
        row("group.attrs.get", |_| json!({"group_id": "pub"}), [NLI, DENY, DENY, DENY, 0, 0, 0]),
        row(
            "group.attrs.write",
            |_| json!({"group_id": "pub", "mode": "set", "attrs": {"k": "w"}, "base_version": 1}),
            [NLI, DENY, DENY, DENY, 0, 0, 0],
        ),
        row("group.create", |_| json!({"group_type": "Work", "name": "mine"}), [NLI, 0, 0, 0, 0, 0, 0]),
        // Signaling.
        row(
            "signal.invite",
            |_| json!({"invite_id": "inv2", "group_id": "pub", "invitees": ["mia"], "timeout": 0}),
            [NLI, NOPE, NOPE, NOPE, code::INVALID_PARAMETERS, 0, 0],
        ),
        row(
            "signal.accept",
            |_| json!({"invite_id": "inv1", "action_id": "a1"}),
            [NLI, NOPE, NOPE, NOPE, 0, NOPE, NOPE],
        ),
        row(
            "signal.reject",
            |_| json!({"invite_id": "inv1", "action_id": "a1"}),
            [NLI, NOPE, NOPE, NOPE, 0, NOPE, NOPE],
        ),
        row(
            "signal.cancel",
            |_| json!({"invite_id": "inv1", "action_id": "a1"}),
            [NLI, NOPE, NOPE, NOPE, NOPE, NOPE, 0],
        ),
        row("signal.get", |_| json!({"invite_id": "inv1"}), [NLI, NOPE, NOPE, NOPE, 0, NOPE, 0]),
        // One's own conversations (conversation ids name the caller's side: nobody can address
        // another pair's conversation).
        row(
            "msg.send",
            |_| json!({"msg": {"msg_id": "to-mia", "receiver": "mia", "elem": {"type": "text", "text": "hi"}}}),
            [NLI, 0, 0, 0, 0, 0, 0],
        ),
        row(
            "msg.revoke",
            |_| json!({"conv_id": "c2c_mia", "msg_id": "c1"}),
            [NLI, 10030, 10030, 10030, 10030, 10030, 0],
        ),
        row("msg.pull", |_| json!({"conv_id": "c2c_olga", "after_seq": 0, "limit": 100}), [NLI, 0, 0, 0, 0, 0, 0]),
        row("sync", |_| json!({"since": 0, "limit": 100}), [NLI, 0, 0, 0, 0, 0, 0]),
        row("conv.c2c_recv_opt.set", |_| json!({"user_ids": ["olga"], "opt": 2}), [NLI, 0, 0, 0, 0, 0, 0]),
        row("conv.c2c_recv_opt.get", |_| json!({"user_ids": ["olga"]}), [NLI, 0, 0, 0, 0, 0, 0]),
        row("logout", |_| json!({}), [0, 0, 0, 0, 0, 0, 0]),
    ]
}

/// The paths where `a` and `b` differ, with both values.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let null = Value::Null;
                diff(&format!("{path}/{key}"), x.get(key).unwrap_or(&null), y.get(key).unwrap_or(&null), out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}/{i}"), x, y, out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} -> {b}")),
        _ => {}
    }
}

/// Runs one cell on a fresh fixture: the answer's code, and (refused) that nothing changed.
async fn cell(row: usize, col: usize) -> Result<(), String> {
    let r = &rows()[row];
    let role = ROLES[col];
    let mut f = Fixture::new().await;
    let before = f.observed(role).await;
    let body = (r.body)(&f);
    let res = f.c(role).call(r.op, body.clone()).await;
    let got = res["code"].as_i64().unwrap() as i32;
    let mut problems = Vec::new();
    if got != r.expect[col] {
        problems.push(format!("answered {got}, expected {} ({})", r.expect[col], res["desc"]));
    }
    if got != 0 {
        assert!(res.get("body").is_none_or(|b| b.is_null() || b == &json!({})), "a refusal tells nothing: {res}");
        let after = f.observed(role).await;
        let mut changed = Vec::new();
        diff("", &before, &after, &mut changed);
        if !changed.is_empty() {
            changed.truncate(6);
            problems.push(format!("refused, yet something changed: {}", changed.join("; ")));
        }
    }
    f.server.shutdown().await;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{} {body} by {} ({role}): {}", r.op, ROLE_NAMES[col], problems.join("; ")))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_by_every_kind_of_caller() {
    let cells: Vec<(usize, usize)> = (0..rows().len()).flat_map(|r| (0..ROLES.len()).map(move |c| (r, c))).collect();
    let total = cells.len();
    // A few cells at a time: each has its own server.
    let limit = Arc::new(tokio::sync::Semaphore::new(6));
    let mut tasks = Vec::new();
    for (r, c) in cells {
        let permit = limit.clone().acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let out = cell(r, c).await;
            drop(permit);
            out
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{} of {total} cells failed:\n{}", failures.len(), failures.join("\n"));
}

/// The unread count `user` gets for all of `conv`.
async fn unread(c: &mut Client, conv: &str) -> Value {
    c.call("conv.unread", json!({"ranges": [{"conv_id": conv, "after_seq": 0, "up_to_seq": 1000}]})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_former_member_sees_up_to_leaving_and_outsiders_only_public_fields() {
    let mut f = Fixture::new().await;
    let olga_head = f.c("olga").ok("msg.pull", json!({"conv_id": "group_pub", "after_seq": 0, "limit": 100})).await;
    let kims = f.c("kim").ok("msg.pull", json!({"conv_id": "group_pub", "after_seq": 0, "limit": 100})).await;
    let kim_end = kims["max_seq"].as_u64().unwrap();
    assert!(kim_end < olga_head["max_seq"].as_u64().unwrap(), "the group went on after the kick");
    let ids: Vec<&str> = kims["msgs"].as_array().unwrap().iter().filter_map(|m| m["msg_id"].as_str()).collect();
    assert!(ids.contains(&"g2") && !ids.contains(&"g3") && !ids.contains(&"g4"), "{ids:?}");

    // Unread: what kim saw (g1, g2), not what came after (g3, g4); a member counts all of it.
    assert_eq!(unread(f.c("kim"), "group_pub").await["body"]["counts"], json!([2]));
    assert_eq!(unread(f.c("adam"), "group_pub").await["body"]["counts"], json!([4]));
    assert_eq!(unread(f.c("otto"), "group_pub").await["code"], DENY, "an outsider learns nothing of the group");
    // A batch naming such a group is refused as a whole: nothing is counted.
    let mixed = f
        .c("otto")
        .call("conv.unread", json!({"ranges": [{"conv_id": "c2c_olga", "after_seq": 0, "up_to_seq": 10}, {"conv_id": "group_work", "after_seq": 0, "up_to_seq": 10}]}))
        .await;
    assert_eq!(mixed["code"], DENY);

    // Reading and clearing end where kim's view ends.
    let read = f.c("kim").ok("msg.read", json!({"conv_id": "group_pub", "seq": 0})).await;
    assert_eq!(read["read_seq"], kim_end);
    let read = f.c("kim").ok("msg.read", json!({"conv_id": "group_pub", "seq": 1000})).await;
    assert_eq!(read["read_seq"], kim_end);
    let cleared = f.c("kim").ok("msg.clear", json!({"conv_id": "group_pub"})).await;
    assert_eq!(cleared["seq"], kim_end);
    // Deleting a message kim never saw hides nothing (no event on kim's stream).
    let before = f.c("kim").ok("msg.pull", json!({"conv_id": "@self", "after_seq": 0, "limit": 100})).await;
    f.c("kim").ok("msg.delete", json!({"conv_id": "group_pub", "msg_ids": ["g3"]})).await;
    let after = f.c("kim").ok("msg.pull", json!({"conv_id": "@self", "after_seq": 0, "limit": 100})).await;
    assert_eq!(before["max_seq"], after["max_seq"], "nothing to delete: g3 is not kim's");

    // The group's profile: members see it all; outsiders and former members a Public group's
    // public fields only, nothing of a Work group.
    let info = |res: &Value, i: usize| res["results"][i].clone();
    let mias = f.c("mia").ok("group.info", json!({"group_ids": ["pub", "work"]})).await;
    assert_eq!(info(&mias, 0)["info"]["notification"], "secret plans");
    assert_eq!(info(&mias, 1)["info"]["notification"], "work secret");
    for outsider in ["otto", "nina", "kim"] {
        let res = f.c(outsider).ok("group.info", json!({"group_ids": ["pub", "work"]})).await;
        let public = info(&res, 0);
        assert_eq!(public["code"], 0);
        assert_eq!((public["info"]["name"].as_str(), public["info"]["owner"].as_str()), (Some("pub"), Some("olga")));
        assert_eq!(public["info"]["member_count"], 3);
        assert_eq!(public["info"]["notification"], "", "{outsider} reads only public fields");
        assert_eq!(public["info"]["role"], 0);
        let work = info(&res, 1);
        assert_eq!(work["code"], DENY, "{outsider} reads nothing of a Work group");
        assert!(!work.to_string().contains("work secret") && !work.to_string().contains("olga"), "{work}");
    }
    f.server.shutdown().await;
}

/// A file uploaded by `user` with `content`.
async fn upload(server: &ServerHandle, user: &str, content: &str) -> oxim_proto::media::UploadedFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("note.txt");
    std::fs::write(&path, content).unwrap();
    let client = media(server, user);
    client.upload(&path, FileKind::File, "note.txt", &|_| {}).await.unwrap()
}

fn media(server: &ServerHandle, user: &str) -> oxim_core::media::MediaClient {
    oxim_core::media::MediaClient::new(&server.http_url(), APP, user, &server.user_sig(user, 600)).unwrap()
}

/// Downloads `url` as `user`: the content, or the error code.
async fn download(server: &ServerHandle, user: &str, url: &str) -> Result<String, i32> {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out");
    match media(server, user).download(url, &dest, &|_, _| {}).await {
        Ok(()) => Ok(std::fs::read_to_string(dest).unwrap()),
        Err(e) => Err(e.code),
    }
}

fn file_msg(id: &str, to: &str, file: &oxim_proto::media::UploadedFile) -> Value {
    json!({"msg_id": id, "receiver": to, "elem": {"type": "file", "file_name": "note.txt", "path": "/home/sender/secret/note.txt",
           "file": {"uuid": file.uuid, "url": file.url, "size": file.size}}})
}

fn merged(id: &str, to: &str, inner: Value) -> Value {
    json!({"msg_id": id, "receiver": to, "elem": {"type": "merger", "title": "history", "abstract_list": ["a"],
           "compatible_text": "merged", "messages": [inner]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_carries_only_files_its_sender_may_read_and_a_revoke_takes_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    let mut c = HashMap::new();
    for user in ["olga", "mia", "nina", "otto"] {
        c.insert(user, Client::login(&server, user).await);
    }
    let file = upload(&server, "olga", "olga's notes").await;
    let forged = |id: &str, to: &str| json!({"msg": file_msg(id, to, &file)});

    // Otto learnt the file id: he can neither download it nor forge a message carrying it, not
    // even inside a merged message.
    assert_eq!(download(&server, "otto", &file.url).await, Err(code::FILE_TRANS_AUTH_FAILED));
    let res = c.get_mut("otto").unwrap().call("msg.send", forged("o1", "nina")).await;
    assert_eq!(res["code"], code::FILE_TRANS_AUTH_FAILED, "{res}");
    let res = c
        .get_mut("otto")
        .unwrap()
        .call("msg.send", json!({"msg": merged("o2", "nina", file_msg("i1", "x", &file))}))
        .await;
    assert_eq!(res["code"], code::FILE_TRANS_AUTH_FAILED, "{res}");
    assert_eq!(download(&server, "otto", &file.url).await, Err(code::FILE_TRANS_AUTH_FAILED));
    assert_eq!(download(&server, "nina", &file.url).await, Err(code::FILE_TRANS_AUTH_FAILED));
    let ninas =
        c.get_mut("nina").unwrap().ok("msg.pull", json!({"conv_id": "c2c_otto", "after_seq": 0, "limit": 10})).await;
    assert_eq!(ninas["msgs"], json!([]), "nothing reached nina");

    // The uploader sends it; the receiver may read it and forward it on.
    c.get_mut("olga").unwrap().ok("msg.send", forged("f1", "mia")).await;
    assert_eq!(download(&server, "mia", &file.url).await.as_deref(), Ok("olga's notes"));
    c.get_mut("mia").unwrap().ok("msg.send", json!({"msg": merged("f2", "nina", file_msg("i2", "x", &file))})).await;
    assert_eq!(download(&server, "nina", &file.url).await.as_deref(), Ok("olga's notes"));

    // No local path of the sender's reached anyone, merged or not.
    for (user, conv) in [("mia", "c2c_olga"), ("nina", "c2c_mia")] {
        let pulled =
            c.get_mut(user).unwrap().ok("msg.pull", json!({"conv_id": conv, "after_seq": 0, "limit": 10})).await;
        assert_eq!(pulled["msgs"].as_array().unwrap().len(), 1);
        assert!(!pulled.to_string().contains("/home/sender"), "{pulled}");
    }

    // A revoke takes the file back from the receivers of that message (the uploader keeps it).
    let other = upload(&server, "olga", "second thoughts").await;
    c.get_mut("olga").unwrap().ok("msg.send", json!({"msg": file_msg("f3", "mia", &other)})).await;
    assert_eq!(download(&server, "mia", &other.url).await.as_deref(), Ok("second thoughts"));
    c.get_mut("olga").unwrap().ok("msg.revoke", json!({"conv_id": "c2c_mia", "msg_id": "f3"})).await;
    assert_eq!(download(&server, "mia", &other.url).await, Err(code::FILE_TRANS_AUTH_FAILED));
    assert_eq!(download(&server, "olga", &other.url).await.as_deref(), Ok("second thoughts"));
    // ... but not a file another message of the conversation still carries.
    c.get_mut("olga").unwrap().ok("msg.send", json!({"msg": file_msg("f4", "mia", &file)})).await;
    c.get_mut("olga").unwrap().ok("msg.revoke", json!({"conv_id": "c2c_mia", "msg_id": "f4"})).await;
    assert_eq!(download(&server, "mia", &file.url).await.as_deref(), Ok("olga's notes"), "f1 still carries it");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_avchatroom_has_nothing_stored_to_read_clear_or_delete_for_its_members_only() {
    let mut f = Fixture::new().await;
    f.c("olga").ok("group.create", json!({"group_type": "AVChatRoom", "group_id": "live", "name": "live"})).await;
    f.c("mia").ok("group.join", json!({"group_id": "live"})).await;
    for user in ["olga", "mia"] {
        assert_eq!(f.c(user).ok("msg.read", json!({"conv_id": "group_live", "seq": 0})).await["read_seq"], 0);
        assert_eq!(f.c(user).ok("msg.clear", json!({"conv_id": "group_live"})).await["seq"], 0);
        f.c(user).ok("msg.delete", json!({"conv_id": "group_live", "msg_ids": ["x"]})).await;
    }
    for outsider in ["otto", "kim"] {
        let read = f.c(outsider).call("msg.read", json!({"conv_id": "group_live", "seq": 0})).await;
        assert_eq!(read["code"], DENY, "{outsider} is not in the room");
    }
    f.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_file_is_served_only_to_members_whose_view_holds_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerConfig::for_tests(dir.path())).await.unwrap();
    let mut c = HashMap::new();
    for user in ["olga", "mia", "kim"] {
        c.insert(user, Client::login(&server, user).await);
    }
    let group_file = |id: &str, file: &oxim_proto::media::UploadedFile| {
        let mut msg = file_msg(id, "x", file);
        msg.as_object_mut().unwrap().remove("receiver");
        msg["group_id"] = json!("w");
        json!({ "msg": msg })
    };
    let olga = |c: &mut HashMap<&str, Client>| c.remove("olga").unwrap();
    let mut owner = olga(&mut c);
    owner
        .ok(
            "group.create",
            json!({"group_type": "Work", "group_id": "w", "name": "w", "members": [{"user_id": "kim"}]}),
        )
        .await;
    let before = upload(&server, "olga", "before mia").await;
    owner.ok("msg.send", group_file("g1", &before)).await;
    assert_eq!(download(&server, "kim", &before.url).await.as_deref(), Ok("before mia"));

    // Mia joins later (a Work group shows her no earlier history): not the file sent before.
    owner.ok("group.invite", json!({"group_id": "w", "user_ids": ["mia"]})).await;
    assert_eq!(download(&server, "mia", &before.url).await, Err(code::FILE_TRANS_AUTH_FAILED));
    let after = upload(&server, "olga", "after mia").await;
    owner.ok("msg.send", group_file("g2", &after)).await;
    assert_eq!(download(&server, "mia", &after.url).await.as_deref(), Ok("after mia"));

    // Kim is kicked: what was sent while he was a member stays his, nothing sent after.
    owner.ok("group.kick", json!({"group_id": "w", "user_ids": ["kim"]})).await;
    let later = upload(&server, "olga", "after kim").await;
    owner.ok("msg.send", group_file("g3", &later)).await;
    assert_eq!(download(&server, "kim", &later.url).await, Err(code::FILE_TRANS_AUTH_FAILED));
    assert_eq!(download(&server, "kim", &before.url).await.as_deref(), Ok("before mia"));
    assert_eq!(download(&server, "mia", &later.url).await.as_deref(), Ok("after kim"));
    // Sent again into the group now that mia is in, the first file becomes hers too.
    owner.ok("msg.send", group_file("g4", &before)).await;
    assert_eq!(download(&server, "mia", &before.url).await.as_deref(), Ok("before mia"));
    server.shutdown().await;
}
