//! Conversations end to end: unread counts after every kind of change, on this device and the
//! user's others; ordering with pins and drafts; paging; new-device roaming; listener events
//! once per change; bad input.

use std::time::Duration;

use oxim_core::group::{CreateMember, GroupCreation, group_type};
use oxim_core::{Elem, HistoryGetType, HistoryOption, Message};
use oxim_tests::{RawClient, Seen, TestClient, TestServer};

fn code<T: std::fmt::Debug>(r: Result<T, oxim_core::Error>) -> i32 {
    r.expect_err("should be refused").code
}

async fn text(from: &TestClient, to: &str, text: &str) -> Message {
    from.sdk.send_c2c_text_message(text.into(), to.into()).await.expect("send")
}

async fn expect_unread(c: &TestClient, conv: &str, n: Option<u64>) {
    c.eventually(&format!("{conv} unread {n:?}"), || async { c.unread(conv).await == n }).await;
}

async fn expect_total(c: &TestClient, n: u64) {
    c.eventually(&format!("total unread {n}"), || async { c.cm().total_unread_message_count().await.unwrap() == n })
        .await;
}

/// The stored messages of a conversation on a device, newest first.
async fn local(c: &TestClient, user: &str) -> Vec<Message> {
    let opt = HistoryOption {
        get_type: HistoryGetType::LocalOlder,
        user_id: user.into(),
        group_id: String::new(),
        count: 100,
        last_msg: None,
        last_msg_seq: 0,
    };
    c.mm().get_history_message_list(opt).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unread_after_every_kind_of_change() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    let bob2 = TestClient::logged_in(&server, "bob", "ios").await;

    // Receiving.
    for i in 0..3 {
        text(&alice, "bob", &format!("m{i}")).await;
    }
    for c in [&bob, &bob2] {
        expect_unread(c, "c2c_alice", Some(3)).await;
        expect_total(c, 3).await;
    }
    // The sender's own messages never count.
    expect_unread(&alice, "c2c_bob", Some(0)).await;
    // Reading here; the other device follows.
    bob.mm().mark_c2c_message_as_read("alice".into()).await.unwrap();
    expect_unread(&bob, "c2c_alice", Some(0)).await;
    expect_unread(&bob2, "c2c_alice", Some(0)).await;
    expect_total(&bob2, 0).await;
    // Reading on the other device.
    let a = text(&alice, "bob", "a").await;
    let b = text(&alice, "bob", "b").await;
    expect_unread(&bob, "c2c_alice", Some(2)).await;
    // Revoke of an unread message.
    alice.mm().revoke_message(a).await.unwrap();
    for c in [&bob, &bob2] {
        expect_unread(c, "c2c_alice", Some(1)).await;
    }
    // Deleting the unread message (on bob2: bob follows).
    bob2.eventually("b stored on bob2", || async { local(&bob2, "alice").await.iter().any(|m| m.msg_id == b.msg_id) })
        .await;
    let stored = local(&bob2, "alice").await.into_iter().find(|m| m.msg_id == b.msg_id).unwrap();
    bob2.mm().delete_messages(vec![stored]).await.unwrap();
    for c in [&bob, &bob2] {
        expect_unread(c, "c2c_alice", Some(0)).await;
    }
    // Read on bob2 after more messages.
    text(&alice, "bob", "c").await;
    expect_unread(&bob, "c2c_alice", Some(1)).await;
    bob2.mm().mark_c2c_message_as_read("alice".into()).await.unwrap();
    expect_unread(&bob, "c2c_alice", Some(0)).await;
    // Deleting the conversation: gone everywhere, back (with only the new message) on the next.
    text(&alice, "bob", "d").await;
    expect_unread(&bob2, "c2c_alice", Some(1)).await;
    bob.cm().delete_conversation("c2c_alice".into()).await.unwrap();
    expect_unread(&bob, "c2c_alice", None).await;
    expect_unread(&bob2, "c2c_alice", None).await;
    expect_total(&bob2, 0).await;
    assert!(local(&bob2, "alice").await.is_empty(), "its messages went with it");
    text(&alice, "bob", "e").await;
    for c in [&bob, &bob2] {
        expect_unread(c, "c2c_alice", Some(1)).await;
    }
    // A muted conversation (receive, no notification) still counts, but not in the total.
    bob.cm().set_c2c_receive_message_opt(vec!["alice".into()], 2).await.unwrap();
    text(&alice, "bob", "f").await;
    for c in [&bob, &bob2] {
        expect_unread(c, "c2c_alice", Some(2)).await;
        expect_total(c, 0).await;
        c.eventually("recv opt 2", || async { c.cm().conversation("c2c_alice".into()).await.unwrap().recv_opt == 2 })
            .await;
    }
    let opts = bob2.cm().c2c_receive_message_opt(vec!["alice".into(), "carol".into()]).await.unwrap();
    assert_eq!(opts.iter().map(|o| o.opt).collect::<Vec<_>>(), [2, 0]);
    // Receiving nothing: nothing arrives, nothing changes.
    bob.cm().set_c2c_receive_message_opt(vec!["alice".into()], 1).await.unwrap();
    text(&alice, "bob", "unseen").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bob.unread("c2c_alice").await, Some(2));
    assert!(!local(&bob, "alice").await.iter().any(|m| matches!(&m.elem, Elem::Text { text } if text == "unseen")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_unread_counts_messages_not_tips_and_meetings_have_none() {
    let server = TestServer::start().await;
    let owner = TestClient::logged_in(&server, "owner", "android").await;
    let member = TestClient::logged_in(&server, "member", "android").await;
    let req = GroupCreation {
        group_type: group_type::WORK.into(),
        group_id: "team".into(),
        name: "Team".into(),
        members: vec![CreateMember { user_id: "member".into(), role: 0 }],
        ..GroupCreation::default()
    };
    owner.gm().create_group(req).await.unwrap();
    owner.sdk.send_group_text_message("hello".into(), "team".into(), 0).await.unwrap();
    let at = owner.mm().create_text_at_message("@you".into(), vec!["member".into()]).unwrap();
    owner
        .mm()
        .send_message(at, oxim_core::message::SendOptions { group_id: "team".into(), ..Default::default() })
        .await
        .unwrap();
    // A tip (the profile changed) is in the history but not unread.
    let change = oxim_core::group::GroupInfoChange {
        group_id: "team".into(),
        notification: Some("n".into()),
        ..Default::default()
    };
    owner.gm().set_group_info(change).await.unwrap();
    expect_unread(&member, "group_team", Some(2)).await;
    let conv = member.cm().conversation("group_team".into()).await.unwrap();
    assert_eq!((conv.group_type.as_str(), conv.show_name.as_str(), conv.conv_type), ("Work", "Team", 2));
    assert_eq!(
        conv.group_at_info_list.iter().map(|a| a.at_type).collect::<Vec<_>>(),
        [oxim_core::conversation::at_type::AT_ME]
    );
    member.mm().mark_group_message_as_read("team".into()).await.unwrap();
    expect_unread(&member, "group_team", Some(0)).await;
    assert!(member.cm().conversation("group_team".into()).await.unwrap().group_at_info_list.is_empty());

    let meeting = GroupCreation {
        group_type: group_type::MEETING.into(),
        group_id: "meet".into(),
        name: "Meet".into(),
        ..Default::default()
    };
    owner.gm().create_group(meeting).await.unwrap();
    member.sdk.join_group("meet".into(), String::new()).await.unwrap();
    owner.sdk.send_group_text_message("in the meeting".into(), "meet".into(), 0).await.unwrap();
    member.eventually("meeting listed", || async { member.unread("group_meet").await.is_some() }).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(member.unread("group_meet").await, Some(0), "Meeting groups have no unread count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pins_and_drafts_order_the_list() {
    let server = TestServer::start().await;
    let me = TestClient::logged_in(&server, "me", "android").await;
    let mut peers = Vec::new();
    for p in ["p1", "p2", "p3"] {
        peers.push(TestClient::logged_in(&server, p, "android").await);
    }
    for p in &peers {
        text(p, "me", "hi").await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let order = || async {
        let page = me.cm().conversation_list(0, 100).await.unwrap();
        page.conversation_list.iter().map(|c| c.conversation_id.clone()).collect::<Vec<_>>()
    };
    me.eventually("three conversations", || async { order().await.len() == 3 }).await;
    assert_eq!(order().await, ["c2c_p3", "c2c_p2", "c2c_p1"], "newest activity first");
    // Pinned first.
    me.cm().pin_conversation("c2c_p1".into(), true).await.unwrap();
    assert_eq!(order().await, ["c2c_p1", "c2c_p3", "c2c_p2"]);
    assert!(me.cm().conversation("c2c_p1".into()).await.unwrap().is_pinned);
    // A draft is activity: it moves the conversation up among the unpinned.
    me.cm().set_conversation_draft("c2c_p2".into(), Some("unfinished".into())).await.unwrap();
    assert_eq!(order().await, ["c2c_p1", "c2c_p2", "c2c_p3"]);
    let c = me.cm().conversation("c2c_p2".into()).await.unwrap();
    assert_eq!(c.draft_text, "unfinished");
    assert!(c.draft_timestamp > 0);
    // A new message moves its conversation up.
    text(&peers[2], "me", "again").await;
    me.eventually("p3 up", || async { order().await == ["c2c_p1", "c2c_p3", "c2c_p2"] }).await;
    // Unpinning; the pin roams to another device.
    let me2 = TestClient::logged_in(&server, "me", "ios").await;
    me2.eventually("p1 pinned on the other device", || async {
        me2.cm().conversation("c2c_p1".into()).await.map(|c| c.is_pinned).unwrap_or(false)
    })
    .await;
    me.cm().pin_conversation("c2c_p1".into(), false).await.unwrap();
    assert_eq!(order().await, ["c2c_p3", "c2c_p2", "c2c_p1"]);
    me2.eventually("unpinned on the other device", || async {
        !me2.cm().conversation("c2c_p1".into()).await.unwrap().is_pinned
    })
    .await;
    // Clearing the draft.
    me.cm().set_conversation_draft("c2c_p2".into(), None).await.unwrap();
    assert_eq!(me.cm().conversation("c2c_p2".into()).await.unwrap().draft_timestamp, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paging_through_2500_conversations_without_duplicates_or_gaps() {
    let server = TestServer::start().await;
    // 2,500 peers exist (each logged in once over a raw connection), then each writes to `me`.
    let n = 2500;
    let me = TestClient::logged_in(&server, "me", "android").await;
    let mut raw = RawClient::connect(&server).await;
    for i in 0..n {
        raw.login(&server, &format!("u{i:04}")).await;
        let msg = serde_json::json!({"msg": {"msg_id": format!("m{i:04}"), "receiver": "me", "elem": {"type": "text", "text": "hi"}}});
        let res = raw.call("msg.send", msg).await;
        assert_eq!(res["code"], 0, "{res}");
    }
    me.eventually("2500 conversations", || async { me.cm().total_unread_message_count().await.unwrap() == n }).await;
    let mut seen = std::collections::BTreeSet::new();
    let mut next = 0;
    let mut pages = 0;
    let mut last_key = i64::MAX;
    loop {
        let page = me.cm().conversation_list(next, 100).await.unwrap();
        pages += 1;
        for c in &page.conversation_list {
            assert!(c.order_key < last_key, "strictly descending order keys");
            last_key = c.order_key;
            assert!(seen.insert(c.conversation_id.clone()), "duplicate {}", c.conversation_id);
            assert_eq!(c.unread_count, 1);
        }
        if page.is_finished {
            break;
        }
        next = page.next_seq;
    }
    assert_eq!((seen.len(), pages), (n as usize, 25));
    // The newest first: u2499 wrote last.
    assert_eq!(me.cm().conversation_list(0, 1).await.unwrap().conversation_list[0].conversation_id, "c2c_u2499");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_device_roams_the_list_with_unread_counts_without_downloading_everything() {
    let server = TestServer::start().await;
    let me = TestClient::logged_in(&server, "me", "android").await;
    let mut expected = Vec::new();
    let mut early_unread = None;
    let mut peers = Vec::new();
    for (i, unread) in [0u64, 3, 25, 60].iter().enumerate() {
        let peer = TestClient::logged_in(&server, &format!("peer{i}"), "android").await;
        for j in 0..(*unread + 5) {
            text(&peer, "me", &format!("{j}")).await;
        }
        let conv = format!("c2c_peer{i}");
        expect_unread(&me, &conv, Some(unread + 5)).await;
        // Read all but the last `unread`: read the whole conversation, then receive `unread` more.
        me.mm().mark_c2c_message_as_read(format!("peer{i}")).await.unwrap();
        for j in 0..*unread {
            let m = text(&peer, "me", &format!("late {j}")).await;
            if i == 2 && j == 0 {
                // The oldest unread of 25: in the part a new device does not download.
                early_unread = Some(m);
            }
        }
        expected.push((conv, *unread, format!("peer{i}")));
        peers.push(peer);
    }
    for (conv, unread, _) in &expected {
        expect_unread(&me, conv, Some(*unread)).await;
    }
    let phone = TestClient::new(&server, "ios").await;
    phone.listen_conversations();
    phone.login(&server, "me").await;
    phone.seen.wait_until("onSyncServerFinish", |s| s.contains(&Seen::SyncFinish)).await;
    // Complete at onSyncServerFinish, without waiting.
    for (conv, unread, peer) in &expected {
        let c = phone.cm().conversation(conv.clone()).await.unwrap();
        assert_eq!(c.unread_count, *unread, "{conv}");
        let last = c.last_message.expect("last message");
        let want = if *unread > 0 { format!("late {}", unread - 1) } else { "4".to_string() };
        assert!(matches!(&last.elem, Elem::Text { text } if *text == want), "{conv}: {:?}", last.elem);
        let stored = phone.sdk.local_message_count(conv.clone()).await.unwrap();
        assert!(stored <= 20, "{conv}: {stored} messages downloaded");
        let _ = peer;
    }
    assert_eq!(phone.cm().total_unread_message_count().await.unwrap(), 88);
    // The part that was not downloaded still answers to changes: a revoke in it...
    let early = early_unread.unwrap();
    assert!(phone.mm().find_messages(vec![early.msg_id.clone()]).await.unwrap().is_empty(), "not downloaded");
    peers[2].mm().revoke_message(early).await.unwrap();
    expect_unread(&phone, "c2c_peer2", Some(24)).await;
    // ...and reading it elsewhere.
    me.mm().mark_c2c_message_as_read("peer3".into()).await.unwrap();
    expect_unread(&phone, "c2c_peer3", Some(0)).await;
    expect_total(&phone, 27).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listener_events_fire_once_per_change_in_order() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let bob = TestClient::new(&server, "android").await;
    bob.listen_conversations();
    bob.login(&server, "bob").await;
    bob.seen.wait_until("first sync", |s| s.contains(&Seen::SyncFinish)).await;
    bob.seen.clear();
    for i in 0..3 {
        text(&alice, "bob", &format!("m{i}")).await;
        bob.seen.wait_until("total", |s| s.contains(&Seen::TotalUnread(i + 1))).await;
    }
    bob.mm().mark_c2c_message_as_read("alice".into()).await.unwrap();
    bob.seen.wait_until("read", |s| s.contains(&Seen::TotalUnread(0))).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let events: Vec<(String, u64)> = bob
        .seen
        .all()
        .into_iter()
        .filter_map(|s| match s {
            Seen::NewConversations(l) => Some(("new".to_string(), l[0].unread_count)),
            Seen::ConversationsChanged(l) => Some(("changed".to_string(), l[0].unread_count)),
            Seen::TotalUnread(t) => Some(("total".to_string(), t)),
            _ => None,
        })
        .collect();
    let expected: Vec<(String, u64)> = [
        ("new", 1),
        ("total", 1),
        ("changed", 2),
        ("total", 2),
        ("changed", 3),
        ("total", 3),
        ("changed", 0),
        ("total", 0),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), *v))
    .collect();
    assert_eq!(events, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_conversation_input_gets_v2tim_codes() {
    let server = TestServer::start().await;
    let me = TestClient::logged_in(&server, "me", "android").await;
    let cm = me.cm();
    assert_eq!(code(cm.conversation_list(0, 0).await), 6017);
    assert_eq!(code(cm.conversation_list(0, 101).await), 6017);
    assert_eq!(code(cm.conversation("c2c_nobody".into()).await), 6004);
    assert_eq!(code(cm.conversation("nonsense".into()).await), 6004);
    assert_eq!(code(cm.conversation("@self".into()).await), 6004);
    assert_eq!(code(cm.pin_conversation("c2c_nobody".into(), true).await), 6004);
    assert_eq!(code(cm.delete_conversation("bad id".into()).await), 6004);
    let many: Vec<String> = (0..31).map(|i| format!("u{i}")).collect();
    assert_eq!(code(cm.set_c2c_receive_message_opt(many, 1).await), 6017);
    assert_eq!(code(cm.set_c2c_receive_message_opt(vec!["x".into()], 3).await), 6017);
    assert!(cm.conversation_list(0, 100).await.unwrap().is_finished);
    let fresh = TestClient::new(&server, "ios").await;
    assert_eq!(code(fresh.cm().conversation_list(0, 10).await), 6014);
}

/// Unread counts of `user`'s conversations recomputed from the server's database: messages
/// after the read (or clear) position that are someone else's, not revoked, not deleted for the
/// user, not notices or tips. Deleted conversations count 0. Also the receive option.
fn unread_from_server(server: &TestServer, user: &str) -> std::collections::BTreeMap<String, (u64, i32)> {
    let db = rusqlite::Connection::open_with_flags(
        server.data_dir().join("oxim.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = db
        .prepare(
            "SELECT uc.conv_id, uc.deleted, uc.recv_opt,
                    (SELECT count(*) FROM msg m
                      WHERE m.conv_key = uc.conv_key AND m.seq > max(uc.read_seq, uc.cleared_seq)
                        AND (uc.until_seq = 0 OR m.seq <= uc.until_seq)
                        AND m.kind = 0 AND m.revoked = 0 AND m.sender != uc.user_id
                        AND NOT EXISTS (SELECT 1 FROM msg_hidden h
                                         WHERE h.user_id = uc.user_id AND h.conv_key = uc.conv_key AND h.seq = m.seq))
               FROM user_conv uc WHERE uc.user_id = ?1 AND uc.conv_id != '@self'",
        )
        .unwrap();
    stmt.query_map([user], |r| {
        let deleted: bool = r.get(1)?;
        let unread: i64 = r.get(3)?;
        Ok((r.get::<_, String>(0)?, (if deleted { 0 } else { unread as u64 }, r.get::<_, i32>(2)?)))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// The whole list of a device: conversation → unread.
async fn device_unread(c: &TestClient) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    let mut next = 0;
    loop {
        let page = c.cm().conversation_list(next, 100).await.unwrap();
        for conv in page.conversation_list {
            out.insert(conv.conversation_id, conv.unread_count);
        }
        if page.is_finished {
            return out;
        }
        next = page.next_seq;
    }
}

/// Several users on two devices each send, read, revoke and delete at random for thousands of
/// steps; at every checkpoint every device's unread counts (and total) equal the values
/// recomputed from the server's messages and read positions.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn randomized_unread_never_drifts() {
    let seed: u64 = std::env::var("OXIM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    eprintln!("randomized_unread_never_drifts: OXIM_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let steps: usize = std::env::var("OXIM_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let server = TestServer::start().await;
    let users = ["ann", "ben", "cat"];
    let mut devices: Vec<(String, TestClient)> = Vec::new();
    for u in users {
        for platform in ["android", "ios"] {
            devices.push((u.to_string(), TestClient::logged_in(&server, u, platform).await));
        }
    }
    let group = GroupCreation {
        group_type: group_type::WORK.into(),
        group_id: "all".into(),
        name: "All".into(),
        members: vec![CreateMember { user_id: "ben".into(), role: 0 }, CreateMember { user_id: "cat".into(), role: 0 }],
        ..GroupCreation::default()
    };
    devices[0].1.gm().create_group(group).await.unwrap();
    let convs_of = |user: &str| -> Vec<String> {
        let mut v: Vec<String> = users.iter().filter(|u| **u != user).map(|u| format!("c2c_{u}")).collect();
        v.push("group_all".into());
        v
    };
    // Messages each device sent (for revokes), and when each last deleted (1 per second).
    let mut sent: Vec<Vec<Message>> = vec![Vec::new(); devices.len()];
    let mut last_delete: Vec<Option<std::time::Instant>> = vec![None; devices.len()];
    let mut counts = [0usize; 5];

    for step in 1..=steps {
        let d = rng.usize(..devices.len());
        let (user, dev) = (&devices[d].0, &devices[d].1);
        let convs = convs_of(user);
        let conv = &convs[rng.usize(..convs.len())];
        let roll = rng.u32(..100);
        if roll < 50 {
            let body = format!("s{step}");
            let m = match conv.strip_prefix("c2c_") {
                Some(peer) => dev.sdk.send_c2c_text_message(body, peer.into()).await.unwrap(),
                None => dev.sdk.send_group_text_message(body, "all".into(), 0).await.unwrap(),
            };
            sent[d].push(m);
            counts[0] += 1;
        } else if roll < 72 {
            match conv.strip_prefix("c2c_") {
                Some(peer) => dev.mm().mark_c2c_message_as_read(peer.into()).await.unwrap(),
                None => dev.mm().mark_group_message_as_read("all".into()).await.unwrap(),
            }
            counts[1] += 1;
        } else if roll < 84 {
            if !sent[d].is_empty() {
                let i = rng.usize(..sent[d].len());
                let m = sent[d].swap_remove(i);
                // Revoking a message twice (or one whose conversation was deleted) is fine.
                let _ = dev.mm().revoke_message(m).await;
                counts[2] += 1;
            }
        } else if roll < 96 {
            if last_delete[d].is_none_or(|t| t.elapsed() > Duration::from_millis(1100)) {
                let opt = HistoryOption {
                    get_type: HistoryGetType::LocalOlder,
                    user_id: conv.strip_prefix("c2c_").unwrap_or_default().into(),
                    group_id: if conv.starts_with("group_") { "all".into() } else { String::new() },
                    count: 30,
                    last_msg: None,
                    last_msg_seq: 0,
                };
                let local: Vec<Message> = dev.mm().get_history_message_list(opt).await.unwrap();
                let candidates: Vec<Message> = local.into_iter().filter(|m| m.seq > 0).collect();
                if !candidates.is_empty() {
                    let m = candidates[rng.usize(..candidates.len())].clone();
                    dev.mm().delete_messages(vec![m]).await.unwrap();
                    last_delete[d] = Some(std::time::Instant::now());
                    counts[3] += 1;
                }
            }
        } else if dev.unread(conv).await.is_some() {
            dev.cm().delete_conversation(conv.clone()).await.unwrap();
            counts[4] += 1;
        }

        if step % 250 == 0 || step == steps {
            for (user, dev) in &devices {
                let expected = unread_from_server(&server, user);
                let total: u64 = expected.values().filter(|(_, opt)| *opt == 0).map(|(n, _)| n).sum();
                let deadline = std::time::Instant::now() + oxim_tests::WAIT;
                loop {
                    let got = device_unread(dev).await;
                    let got_total = dev.cm().total_unread_message_count().await.unwrap();
                    let mismatch: Vec<_> = expected
                        .iter()
                        .filter(|(conv, (n, _))| got.get(*conv).copied().unwrap_or(0) != *n)
                        .map(|(conv, (n, _))| (conv.clone(), *n, got.get(conv).copied()))
                        .collect();
                    if mismatch.is_empty() && got_total == total {
                        break;
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "step {step} (OXIM_SEED={seed}): {user}'s device drifted: (conv, server, device) {mismatch:?}; total {got_total} vs {total}"
                    );
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            }
        }
    }
    eprintln!("sends, reads, revokes, deletes, conversation deletes: {counts:?}");
    assert!(counts.iter().all(|n| *n > 0), "every kind of step happened: {counts:?}");
}
