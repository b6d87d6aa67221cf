//! Group attributes end to end: V2TIM's limits at the boundary, the SDK's and the server's rate
//! limits, full-map callbacks to every member, and version-checked writes (a race of 20 users
//! for one mic seat has exactly one winner).

use std::collections::BTreeMap;
use std::time::Duration;

use oxim_core::group::{GroupCreation, GroupEvent, group_type};
use oxim_tests::{RawClient, TestClient, TestServer};
use serde_json::json;

async fn users(server: &TestServer, prefix: &str, n: usize) -> Vec<TestClient> {
    let mut out = Vec::new();
    for i in 0..n {
        let c = TestClient::logged_in(server, &format!("{prefix}{i}"), "android").await;
        c.listen_group();
        out.push(c);
    }
    out
}

/// A Meeting group (free join) owned by `members[0]` that all of `members` joined.
async fn group_of(id: &str, members: &[TestClient]) -> String {
    let req = GroupCreation {
        group_type: group_type::MEETING.into(),
        group_id: id.into(),
        name: id.into(),
        ..Default::default()
    };
    let g = members[0].gm().create_group(req).await.unwrap();
    for m in &members[1..] {
        assert!(m.sdk.join_group(g.clone(), String::new()).await.unwrap());
    }
    g
}

fn map(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

fn code<T: std::fmt::Debug>(r: Result<T, oxim_core::Error>) -> i32 {
    r.expect_err("should be refused").code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_at_the_boundary() {
    let server = TestServer::start().await;
    let u = users(&server, "lim", 4).await;
    let g = group_of("attrs", &u).await;

    // 16 keys are fine; a 17th is refused and nothing changes.
    let sixteen: BTreeMap<String, String> = (0..16).map(|i| (format!("k{i:02}"), "v".to_string())).collect();
    u[0].gm().init_group_attributes(g.clone(), sixteen.clone()).await.unwrap();
    assert_eq!(code(u[1].gm().set_group_attributes(g.clone(), map(&[("k16", "v".into())])).await), 10004);
    assert_eq!(u[1].gm().group_attributes(g.clone(), None).await.unwrap(), sixteen);

    // One attribute: key + value up to 4 KB.
    let v4095 = "x".repeat(4095);
    u[2].gm().init_group_attributes(g.clone(), map(&[("a", v4095.clone())])).await.unwrap();
    let too_big = map(&[("b", "x".repeat(4096))]);
    assert_eq!(code(u[2].gm().set_group_attributes(g.clone(), too_big).await), 6017, "the SDK checks first");
    // The server checks too (a client that skips the SDK's checks).
    let mut raw = RawClient::connect(&server).await;
    raw.login(&server, "lim3").await;
    let current = raw.call("group.attrs.get", json!({"group_id": g})).await;
    let version = current["body"]["version"].as_u64().unwrap();
    let res = raw
        .call(
            "group.attrs.write",
            json!({"group_id": g, "mode": "set", "attrs": {"b": "x".repeat(4096)}, "base_version": version}),
        )
        .await;
    assert_eq!(res["code"], 10004, "{res}");

    // All attributes together: up to 16 KB. Four of 4 KB fill it; one byte more is refused.
    let full: BTreeMap<String, String> =
        ["a", "b", "c", "d"].iter().map(|k| (k.to_string(), "x".repeat(4095))).collect();
    u[3].gm().init_group_attributes(g.clone(), full.clone()).await.unwrap();
    assert_eq!(code(u[3].gm().set_group_attributes(g.clone(), map(&[("e", String::new())])).await), 10004);
    assert_eq!(u[0].gm().group_attributes(g.clone(), None).await.unwrap(), full);
    // Keys that do not exist are absent from a filtered read; deleting all empties the map.
    let some = u[0].gm().group_attributes(g.clone(), Some(vec!["a".into(), "zz".into()])).await.unwrap();
    assert_eq!(some.keys().collect::<Vec<_>>(), ["a"]);
    u[0].gm().delete_group_attributes(g.clone(), None).await.unwrap();
    assert!(u[1].gm().group_attributes(g.clone(), None).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sdk_and_the_server_limit_the_rate() {
    let server = TestServer::start().await;
    let u = users(&server, "rate", 3).await;
    let g = group_of("rates", &u).await;

    // The SDK: 20 reads per 5 s, then 8511 (without asking the server).
    for _ in 0..20 {
        u[1].gm().group_attributes(g.clone(), None).await.unwrap();
    }
    assert_eq!(code(u[1].gm().group_attributes(g.clone(), None).await), 8511);

    // The server: 5 writes per second per group, whoever writes. Two clients write 6 times in
    // well under a second (each stays under the SDK's 10 per 5 s).
    let mut refused = Vec::new();
    for i in 0..6 {
        let c = &u[i % 2];
        if let Err(e) = c.gm().set_group_attributes(g.clone(), map(&[(&format!("k{i}"), "v".into())])).await {
            refused.push((i, e.code));
        }
    }
    assert_eq!(refused, [(5, 10049)], "the 6th write within a second is refused");
    let attrs = u[2].gm().group_attributes(g.clone(), None).await.unwrap();
    assert_eq!(attrs.len(), 5, "the refused write changed nothing");

    // The SDK: 10 writes per 5 s. Spaced so the server's 5 per second never bites.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for i in 0..10 {
        u[2].gm().set_group_attributes(g.clone(), map(&[("w", i.to_string())])).await.unwrap();
        tokio::time::sleep(Duration::from_millis(220)).await;
    }
    assert_eq!(code(u[2].gm().set_group_attributes(g.clone(), map(&[("w", "x".into())])).await), 8511);
    assert_eq!(u[0].gm().group_attributes(g.clone(), Some(vec!["w".into()])).await.unwrap()["w"], "9");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_member_gets_the_full_map_and_outsiders_nothing() {
    let server = TestServer::start().await;
    let u = users(&server, "cb", 4).await;
    let (members, outsider) = (&u[..3], &u[3]);
    let g = group_of("cb", members).await;
    members[0].gm().init_group_attributes(g.clone(), map(&[("a", "1".into()), ("b", "2".into())])).await.unwrap();
    members[1].gm().set_group_attributes(g.clone(), map(&[("b", "3".into())])).await.unwrap();
    let expected = map(&[("a", "1".into()), ("b", "3".into())]);
    for m in members {
        // Every change arrives as the complete map; the last one is the current state.
        m.seen
            .wait_group(
                "full map",
                |e| matches!(e, GroupEvent::AttributeChanged { attributes, .. } if *attributes == expected),
            )
            .await;
        let maps = m.seen.count_group(|e| matches!(e, GroupEvent::AttributeChanged { .. }));
        assert_eq!(maps, 2, "one callback per change");
    }
    // Outsiders: no callback, no reads, no writes.
    assert_eq!(code(outsider.gm().group_attributes(g.clone(), None).await), 10007);
    assert_eq!(code(outsider.gm().set_group_attributes(g.clone(), map(&[("a", "x".into())])).await), 10007);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(outsider.seen.count_group(|e| matches!(e, GroupEvent::AttributeChanged { .. })), 0);
    assert_eq!(members[2].gm().group_attributes(g.clone(), None).await.unwrap(), expected);
    // Unknown group.
    assert_eq!(code(members[0].gm().group_attributes("nope".into(), None).await), 10010);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_users_race_for_one_seat_and_exactly_one_wins() {
    let server = TestServer::start().await;
    let u = users(&server, "seat", 20).await;
    let req = GroupCreation {
        group_type: group_type::AVCHATROOM.into(),
        group_id: "live".into(),
        name: "live".into(),
        ..Default::default()
    };
    let g = u[0].gm().create_group(req).await.unwrap();
    for c in &u[1..] {
        c.sdk.join_group(g.clone(), String::new()).await.unwrap();
    }
    u[0].gm()
        .init_group_attributes(g.clone(), map(&[("seat1", String::new()), ("seat2", String::new())]))
        .await
        .unwrap();
    // Everyone sees the same starting state...
    for c in &u {
        assert_eq!(c.gm().group_attributes(g.clone(), None).await.unwrap()["seat1"], "");
    }
    // ...and everyone grabs seat 1 at once.
    let attempts = u.iter().enumerate().map(|(i, c)| {
        let (gm, g) = (c.gm(), g.clone());
        async move { (i, gm.set_group_attributes(g, map(&[("seat1", format!("seat{i}"))])).await) }
    });
    let results = futures_util::future::join_all(attempts).await;
    let winners: Vec<usize> = results.iter().filter(|(_, r)| r.is_ok()).map(|(i, _)| *i).collect();
    assert_eq!(winners.len(), 1, "exactly one wins: {results:?}");
    let losers: Vec<i32> = results.iter().filter_map(|(_, r)| r.as_ref().err().map(|e| e.code)).collect();
    assert_eq!(losers, vec![10056; 19]);
    let winner = format!("seat{}", winners[0]);
    // The losers see the winner, by callback and by reading.
    for c in &u {
        c.seen
            .wait_group(
                "the winner's map",
                |e| matches!(e, GroupEvent::AttributeChanged { attributes, .. } if attributes["seat1"] == winner),
            )
            .await;
        assert_eq!(c.gm().group_attributes(g.clone(), Some(vec!["seat1".into()])).await.unwrap()["seat1"], winner);
    }
    // A loser, now up to date, takes the other seat; the winner leaves theirs.
    let loser = (winners[0] + 1) % 20;
    u[loser].gm().set_group_attributes(g.clone(), map(&[("seat2", format!("seat{loser}"))])).await.unwrap();
    u[winners[0]].gm().set_group_attributes(g.clone(), map(&[("seat1", String::new())])).await.unwrap();
    let now = u[5].gm().group_attributes(g.clone(), None).await.unwrap();
    assert_eq!(now, map(&[("seat1", String::new()), ("seat2", format!("seat{loser}"))]));
}

/// Ten members, five of them at a time each taking their own seat at once, round after round:
/// every member's last `onGroupAttributeChanged` is the group's map after each round, and a
/// member's connection gets the snapshots in version order (the server pushes them in its
/// commit order; before, two writers' pushes could leave in either order and a member keep an
/// older map until the next write).
async fn concurrent_writers_leave_everyone_with_the_newest_map(kind: &str, id: &str) {
    let server = TestServer::start_configured(|c| c.attr_writes_per_sec = 100_000).await;
    let u = users(&server, id, 10).await;
    let room = kind == group_type::AVCHATROOM;
    // A Work group is made with its members (nobody may apply); a room is joined.
    let members = if room {
        Vec::new()
    } else {
        (1..10).map(|i| oxim_core::group::CreateMember { user_id: format!("{id}{i}"), role: 0 }).collect()
    };
    let req =
        GroupCreation { group_type: kind.into(), group_id: id.into(), name: id.into(), members, ..Default::default() };
    let g = u[0].gm().create_group(req).await.unwrap();
    if room {
        for c in &u[1..] {
            c.sdk.join_group(g.clone(), String::new()).await.unwrap();
        }
    }
    // A raw session of member 0 sees the pushes themselves.
    let mut raw = RawClient::connect(&server).await;
    raw.login(&server, &format!("{id}0")).await;
    if room {
        assert_eq!(raw.call("group.join", json!({"group_id": g, "message": ""})).await["code"], 0);
    }
    // Eight rounds per member keeps each under the SDK's 10 writes per 5 s.
    for round in 0..16usize {
        let half = (round % 2) * 5;
        let writes = u[half..half + 5].iter().enumerate().map(|(i, c)| {
            let (gm, g, seat) = (c.gm(), g.clone(), half + i);
            async move { gm.set_group_attributes(g, map(&[(&format!("seat{seat}"), format!("round{round}"))])).await }
        });
        for r in futures_util::future::join_all(writes).await {
            r.expect("a write of its own seat succeeds");
        }
        let now = u[0].gm().group_attributes(g.clone(), None).await.unwrap();
        assert!((half..half + 5).all(|s| now[&format!("seat{s}")] == format!("round{round}")), "{now:?}");
        for c in &u {
            c.eventually(&format!("round {round}: the newest map is the last one told"), || async {
                let last = c.seen.group_events().into_iter().rev().find_map(|e| match e {
                    GroupEvent::AttributeChanged { attributes, .. } => Some(attributes),
                    _ => None,
                });
                last.as_ref() == Some(&now)
            })
            .await;
        }
    }
    // Every snapshot the raw session got is newer than the one before.
    let mut versions = Vec::new();
    while let Some(push) = raw.next_push(Duration::from_millis(300)).await {
        if push["op"] == "group_attrs" {
            versions.push(push["body"]["version"].as_u64().unwrap());
        }
    }
    assert!(versions.len() >= 16 * 5, "{} snapshots pushed", versions.len());
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "pushed out of version order: {versions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_in_a_work_group_leave_everyone_with_the_newest_map() {
    concurrent_writers_leave_everyone_with_the_newest_map(group_type::WORK, "cw").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_in_an_avchatroom_leave_everyone_with_the_newest_map() {
    concurrent_writers_leave_everyone_with_the_newest_map(group_type::AVCHATROOM, "cr").await;
}
