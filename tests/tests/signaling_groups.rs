//! Group signaling end to end: V2TIM's classroom flow (the teacher asks a group of 6 to raise
//! hands: 3 accept, 1 rejects, 2 time out; every member sees every answer; then one student is
//! asked to speak), the rules for group invitations, cancelling and online-only group calls.

use std::time::Duration;

use oxim_core::SignalingAction;
use oxim_tests::{Seen, TestClient, TestServer};

const GROUP: &str = "class1";

async fn device(server: &TestServer, user: &str) -> TestClient {
    let c = TestClient::logged_in(server, user, "android").await;
    c.listen_signaling();
    c.listen_advanced();
    c
}

/// A teacher who created a Meeting group, and `n` students who joined it.
async fn classroom(server: &TestServer, n: usize) -> (TestClient, Vec<TestClient>) {
    let teacher = device(server, "teacher").await;
    let id =
        teacher.sdk.create_group("Meeting".into(), Some(GROUP.into()), "Class 1".into()).await.expect("createGroup");
    assert_eq!(id, GROUP);
    let mut students = Vec::new();
    for i in 1..=n {
        let s = device(server, &format!("s{i}")).await;
        s.sdk.join_group(GROUP.into(), String::new()).await.expect("joinGroup");
        students.push(s);
    }
    (teacher, students)
}

fn names(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|i| format!("s{i}")).collect()
}

fn code<T: std::fmt::Debug>(r: oxim_core::Result<T>) -> i32 {
    r.expect_err("must be refused").code
}

fn accepted(id: &str, who: &str, data: &str) -> Seen {
    Seen::Accepted { invite_id: id.into(), invitee: who.into(), data: data.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classroom_raise_hands_then_speak() {
    let server = TestServer::start().await;
    let (teacher, students) = classroom(&server, 6).await;
    let all = names(1..=6);

    // 1. The teacher asks everyone to raise a hand; every student hears it, with the list.
    let hands = teacher.sm().invite_in_group(GROUP.into(), all.clone(), "raise hand".into(), false, 2).await.unwrap();
    let invitation = Seen::Invited {
        invite_id: hands.clone(),
        inviter: "teacher".into(),
        group_id: GROUP.into(),
        invitees: all.clone(),
        data: "raise hand".into(),
    };
    for s in &students {
        assert_eq!(s.seen.wait_signals(1).await, std::slice::from_ref(&invitation));
    }

    // 2. Three raise a hand, one declines, two do not answer.
    for s in &students[..3] {
        s.sm().accept(hands.clone(), "hand up".into()).await.unwrap();
    }
    students[3].sm().reject(hands.clone(), "not me".into()).await.unwrap();
    let answers = vec![
        accepted(&hands, "s1", "hand up"),
        accepted(&hands, "s2", "hand up"),
        accepted(&hands, "s3", "hand up"),
        Seen::Rejected { invite_id: hands.clone(), invitee: "s4".into(), data: "not me".into() },
    ];
    let timeout = Seen::TimedOut { invite_id: hands.clone(), invitees: names(5..=6) };

    // 3. Everyone sees every answer (but their own), then the timeout of s5 and s6.
    let mut expected_teacher = answers.clone();
    expected_teacher.push(timeout.clone());
    assert_eq!(teacher.seen.wait_signals(5).await, expected_teacher);
    for (i, s) in students.iter().enumerate() {
        let mut expected = vec![invitation.clone()];
        expected.extend(answers.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| a.clone()));
        expected.push(timeout.clone());
        assert_eq!(s.seen.wait_signals(expected.len()).await, expected, "s{}", i + 1);
    }

    // The flow has ended: nothing more can happen to it.
    assert_eq!(code(teacher.sm().cancel(hands.clone(), String::new()).await), 8010);
    assert_eq!(code(students[4].sm().accept(hands.clone(), String::new()).await), 8010);
    assert_eq!(code(students[0].sm().accept(hands.clone(), String::new()).await), 8010);

    // 4. The teacher picks s2 to speak; everyone hears the invitation, s2 accepts, everyone
    // else sees it.
    let speak = teacher.sm().invite_in_group(GROUP.into(), names(2..=2), "speak".into(), false, 0).await.unwrap();
    students[1].seen.wait_signals(6).await;
    students[1].sm().accept(speak.clone(), "speaking".into()).await.unwrap();
    assert_eq!(teacher.seen.wait_signals(6).await[5], accepted(&speak, "s2", "speaking"));
    for (i, s) in students.iter().enumerate().filter(|(i, _)| *i != 1) {
        // Before: the invitation, the answers of the others (s5 and s6 answered nothing, so
        // they saw all four), the timeout.
        let base = if i < 4 { 5 } else { 6 };
        let seen = s.seen.wait_signals(base + 2).await;
        assert!(
            matches!(&seen[base], Seen::Invited { invite_id, invitees, .. } if *invite_id == speak && *invitees == names(2..=2)),
            "s{}: {seen:?}",
            i + 1
        );
        assert_eq!(seen[base + 1], accepted(&speak, "s2", "speaking"), "s{}", i + 1);
        assert_eq!(seen.len(), base + 2, "s{}", i + 1);
    }

    // Everything is in the group's history, decodable.
    let history = students[5].mm().get_group_history_message_list(GROUP.into(), 50, None).await.unwrap();
    let actions: Vec<_> =
        history.iter().filter_map(|m| students[5].sm().get_signaling_info(m)).map(|i| i.action_type).collect();
    use SignalingAction::*;
    assert_eq!(actions, [Accept, Invite, Timeout, Reject, Accept, Accept, Accept, Invite]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_invitation_rules_cancel_and_online_only() {
    let server = TestServer::start().await;
    let (teacher, students) = classroom(&server, 3).await;
    let outsider = device(&server, "outsider").await;
    let sm = teacher.sm();

    // Invitees must be members; the inviter too.
    assert_eq!(code(sm.invite_in_group(GROUP.into(), vec!["outsider".into()], String::new(), false, 0).await), 6017);
    assert_eq!(code(outsider.sm().invite_in_group(GROUP.into(), names(1..=1), String::new(), false, 0).await), 8011);
    assert_eq!(code(sm.invite_in_group("no-such-group".into(), names(1..=1), String::new(), false, 0).await), 10010);

    // A member who is not invited, and a stranger, may not answer; only the inviter cancels.
    let id = sm.invite_in_group(GROUP.into(), names(1..=2), "quiz".into(), false, 0).await.unwrap();
    students[2].seen.wait_signals(1).await;
    assert_eq!(code(students[2].sm().accept(id.clone(), String::new()).await), 8011, "member, not invited");
    assert_eq!(code(outsider.sm().accept(id.clone(), String::new()).await), 8011, "not a member");
    assert_eq!(code(students[0].sm().cancel(id.clone(), String::new()).await), 8011, "invitee cancels");
    students[0].sm().accept(id.clone(), String::new()).await.unwrap();
    sm.cancel(id.clone(), "quiz over".into()).await.unwrap();
    let cancelled = Seen::Cancelled { invite_id: id.clone(), inviter: "teacher".into(), data: "quiz over".into() };
    // Every member but the teacher hears the cancel (s1 after hearing nothing of its own accept).
    assert_eq!(students[0].seen.wait_signals(2).await[1], cancelled);
    assert_eq!(students[1].seen.wait_signals(3).await[2], cancelled);
    assert_eq!(students[2].seen.wait_signals(3).await[2], cancelled);
    assert_eq!(code(students[1].sm().accept(id.clone(), String::new()).await), 8010, "cancelled");
    assert!(outsider.seen.signals().is_empty());

    // Online-only group invitations reach online members and leave no message.
    let before = students[1].mm().get_group_history_message_list(GROUP.into(), 50, None).await.unwrap().len();
    let live = sm.invite_in_group(GROUP.into(), names(2..=3), "live".into(), true, 1).await.unwrap();
    let seen = students[0].seen.wait_signals(4).await;
    assert!(matches!(&seen[2], Seen::Invited { invite_id, .. } if *invite_id == live));
    assert_eq!(seen[3], Seen::TimedOut { invite_id: live.clone(), invitees: names(2..=3) });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = students[1].mm().get_group_history_message_list(GROUP.into(), 50, None).await.unwrap().len();
    assert_eq!(before, after, "online-only leaves no trace");
}
