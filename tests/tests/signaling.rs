//! Signaling end to end (C2C): the 1:1 video call of V2TIM's guide (accept, busy reject), every
//! action in every state by the right and the wrong user, server-owned timeouts (also when the
//! inviter's app died, across a server restart, and for invitees who were away), delivery of
//! pending invitations at login, online-only invitations, history, addInvitedSignaling and
//! the refusals. Group invitations are in `signaling_groups.rs`.

use std::time::{Duration, Instant};

use oxim_core::message::SendOptions;
use oxim_core::{Elem, Message, OfflinePushInfo, SignalingAction, SignalingInfo};
use oxim_tests::{Seen, TestClient, TestServer};

/// A logged-in device listening to signaling and advanced message events.
async fn device(server: &TestServer, user: &str, platform: &str) -> TestClient {
    let c = TestClient::logged_in(server, user, platform).await;
    c.listen_signaling();
    c.listen_advanced();
    c
}

async fn invite(from: &TestClient, to: &str, data: &str, timeout: i32) -> String {
    from.sm().invite(to.into(), data.into(), false, None, timeout).await.expect("invite")
}

fn code<T: std::fmt::Debug>(r: oxim_core::Result<T>) -> i32 {
    r.expect_err("must be refused").code
}

fn invited(invite_id: &str, inviter: &str, invitee: &str, data: &str) -> Seen {
    Seen::Invited {
        invite_id: invite_id.into(),
        inviter: inviter.into(),
        group_id: String::new(),
        invitees: vec![invitee.into()],
        data: data.into(),
    }
}

fn timed_out(invite_id: &str, invitee: &str) -> Seen {
    Seen::TimedOut { invite_id: invite_id.into(), invitees: vec![invitee.into()] }
}

/// The signaling actions of a C2C conversation's history on `c`'s device (cloud first, newest
/// first), decoded with getSignalingInfo (`None` for other messages).
async fn history(c: &TestClient, peer: &str) -> Vec<Option<(String, SignalingAction, String)>> {
    let msgs = c.mm().get_c2c_history_message_list(peer.into(), 50, None).await.expect("history");
    msgs.iter().map(|m| c.sm().get_signaling_info(m).map(|i| (i.invite_id, i.action_type, i.data))).collect()
}

/// Waits until `c`'s advanced listener received the text `text`.
async fn wait_text(c: &TestClient, text: &str) {
    c.seen
        .wait_until(&format!("text {text:?}"), |s| {
            s.iter().any(|x| matches!(x, Seen::New(m) if m.elem == Elem::Text { text: text.into() }))
        })
        .await;
}

/// Waits until `c` heard `n` signaling callbacks and returns the last one.
async fn nth_signal(c: &TestClient, n: usize) -> Seen {
    c.seen.wait_signals(n).await[n - 1].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_call_invite_with_a_room_id_then_accept() {
    let server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    let bob_ipad = device(&server, "bob", "ios").await;

    // The caller puts the room id in data; the push text travels with the invitation.
    let push = OfflinePushInfo { desc: "Alice is calling".into(), ..OfflinePushInfo::default() };
    let room = r#"{"roomID":1234}"#;
    let id = alice.sm().invite("bob".into(), room.into(), false, Some(push), 2).await.unwrap();
    assert_eq!(id.len(), 32, "the SDK makes the inviteID: {id}");
    // Both of bob's devices ring, with the room id.
    assert_eq!(nth_signal(&bob, 1).await, invited(&id, "alice", "bob", room));
    assert_eq!(nth_signal(&bob_ipad, 1).await, invited(&id, "alice", "bob", room));
    // The invitation is also a message: a custom message getSignalingInfo decodes, with the push.
    bob.seen.wait_new(1).await;
    let msg = bob.seen.new_messages()[0].clone();
    assert_eq!((msg.sender.as_str(), msg.is_self), ("alice", false));
    assert!(matches!(msg.elem, Elem::Custom { .. }));
    let info = bob.sm().get_signaling_info(&msg).expect("a signaling message");
    assert_eq!(
        info,
        SignalingInfo {
            invite_id: id.clone(),
            inviter: "alice".into(),
            invitee_list: vec!["bob".into()],
            group_id: String::new(),
            data: room.into(),
            timeout: 2,
            action_type: SignalingAction::Invite,
        }
    );
    assert_eq!(msg.offline_push_info.unwrap().desc, "Alice is calling");

    // The callee answers on the phone; the caller hears it, with the answer's data.
    bob.sm().accept(id.clone(), "picked up".into()).await.unwrap();
    let accepted = Seen::Accepted { invite_id: id.clone(), invitee: "bob".into(), data: "picked up".into() };
    assert_eq!(nth_signal(&alice, 1).await, accepted);

    // The call is settled: past its 2 s timeout nobody hears a timeout, and it cannot be
    // answered or cancelled again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(code(bob.sm().accept(id.clone(), String::new()).await), 8010);
    assert_eq!(code(bob_ipad.sm().reject(id.clone(), String::new()).await), 8010);
    assert_eq!(code(alice.sm().cancel(id.clone(), String::new()).await), 8010);

    // Nobody hears of their own actions: the caller heard only the answer, bob only the call
    // (his iPad hears nothing of his own accept on the phone).
    assert_eq!(alice.seen.signals(), [accepted]);
    assert_eq!(bob.seen.signals(), [invited(&id, "alice", "bob", room)]);
    assert_eq!(bob_ipad.seen.signals(), [invited(&id, "alice", "bob", room)]);

    // History on both sides: invite then accept (newest first); ordinary messages decode to None.
    alice.sdk.send_c2c_text_message("see you".into(), "bob".into()).await.unwrap();
    let expected = vec![
        None,
        Some((id.clone(), SignalingAction::Accept, "picked up".to_string())),
        Some((id.clone(), SignalingAction::Invite, room.to_string())),
    ];
    assert_eq!(history(&alice, "bob").await, expected);
    wait_text(&bob, "see you").await;
    wait_text(&bob_ipad, "see you").await;
    assert_eq!(history(&bob, "alice").await, expected);
    assert_eq!(history(&bob_ipad, "alice").await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_callee_rejects_and_the_call_is_over() {
    let server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    let id = invite(&alice, "bob", r#"{"roomID":77}"#, 30).await;
    nth_signal(&bob, 1).await;
    bob.sm().reject(id.clone(), "line busy".into()).await.unwrap();
    assert_eq!(
        nth_signal(&alice, 1).await,
        Seen::Rejected { invite_id: id.clone(), invitee: "bob".into(), data: "line busy".into() }
    );
    assert_eq!(code(bob.sm().accept(id.clone(), String::new()).await), 8010);
    assert_eq!(code(bob.sm().reject(id.clone(), String::new()).await), 8010);
    assert_eq!(code(alice.sm().cancel(id.clone(), String::new()).await), 8010);
    assert_eq!(
        history(&alice, "bob").await,
        [
            Some((id.clone(), SignalingAction::Reject, "line busy".to_string())),
            Some((id.clone(), SignalingAction::Invite, r#"{"roomID":77}"#.to_string()))
        ]
    );
}

/// The states an invitation can be in, for the action table.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending,
    Accepted,
    Rejected,
    Cancelled,
    TimedOut,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_in_every_state_by_the_right_and_the_wrong_user() {
    let server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    let carol = device(&server, "carol", "android").await;
    let users = [("alice", &alice), ("bob", &bob), ("carol", &carol)];

    // Unknown invitations.
    for (_, c) in users {
        assert_eq!(code(c.sm().accept("unknown-invite".into(), String::new()).await), 8010);
        assert_eq!(code(c.sm().reject("unknown-invite".into(), String::new()).await), 8010);
        assert_eq!(code(c.sm().cancel("unknown-invite".into(), String::new()).await), 8010);
    }

    for state in [State::Pending, State::Accepted, State::Rejected, State::Cancelled, State::TimedOut] {
        // Bring a fresh invitation into `state`; count the callbacks that brings.
        let timeout = if state == State::TimedOut { 1 } else { 0 };
        let (mut at_alice, mut at_bob) = (alice.seen.signals().len(), bob.seen.signals().len() + 1);
        let id = invite(&alice, "bob", "state test", timeout).await;
        assert!(matches!(nth_signal(&bob, at_bob).await, Seen::Invited { invite_id, .. } if invite_id == id));
        match state {
            State::Pending => {}
            State::Accepted => {
                bob.sm().accept(id.clone(), String::new()).await.unwrap();
                at_alice += 1;
            }
            State::Rejected => {
                bob.sm().reject(id.clone(), String::new()).await.unwrap();
                at_alice += 1;
            }
            State::Cancelled => {
                alice.sm().cancel(id.clone(), String::new()).await.unwrap();
                at_bob += 1;
            }
            State::TimedOut => {
                at_alice += 1;
                at_bob += 1;
            }
        }
        alice.seen.wait_signals(at_alice).await;
        bob.seen.wait_signals(at_bob).await;
        let stored = history(&alice, "bob").await.len();

        // The wrong users: 8011 in every state.
        let sm = |c: &TestClient| c.sm();
        assert_eq!(code(sm(&alice).accept(id.clone(), String::new()).await), 8011, "{state:?}: inviter accepts");
        assert_eq!(code(sm(&alice).reject(id.clone(), String::new()).await), 8011, "{state:?}: inviter rejects");
        assert_eq!(code(sm(&bob).cancel(id.clone(), String::new()).await), 8011, "{state:?}: invitee cancels");
        assert_eq!(code(sm(&carol).accept(id.clone(), String::new()).await), 8011, "{state:?}: stranger accepts");
        assert_eq!(code(sm(&carol).reject(id.clone(), String::new()).await), 8011, "{state:?}: stranger rejects");
        assert_eq!(code(sm(&carol).cancel(id.clone(), String::new()).await), 8011, "{state:?}: stranger cancels");

        if state == State::Pending {
            // Still pending after all that: the right user's actions work (on fresh invitations
            // for reject and cancel), each with its callback and nothing else.
            bob.sm().accept(id.clone(), "yes".into()).await.unwrap();
            assert_eq!(
                nth_signal(&alice, at_alice + 1).await,
                Seen::Accepted { invite_id: id.clone(), invitee: "bob".into(), data: "yes".into() }
            );
            let id2 = invite(&alice, "bob", "", 0).await;
            nth_signal(&bob, at_bob + 1).await;
            bob.sm().reject(id2.clone(), "no".into()).await.unwrap();
            assert_eq!(
                nth_signal(&alice, at_alice + 2).await,
                Seen::Rejected { invite_id: id2, invitee: "bob".into(), data: "no".into() }
            );
            let id3 = invite(&alice, "bob", "", 0).await;
            nth_signal(&bob, at_bob + 2).await;
            alice.sm().cancel(id3.clone(), "sorry".into()).await.unwrap();
            assert_eq!(
                nth_signal(&bob, at_bob + 3).await,
                Seen::Cancelled { invite_id: id3, inviter: "alice".into(), data: "sorry".into() }
            );
            continue;
        }

        // The right users, too late: 8010, and nothing changes.
        assert_eq!(code(bob.sm().accept(id.clone(), String::new()).await), 8010, "{state:?}: accept");
        assert_eq!(code(bob.sm().reject(id.clone(), String::new()).await), 8010, "{state:?}: reject");
        assert_eq!(code(alice.sm().cancel(id.clone(), String::new()).await), 8010, "{state:?}: cancel");
        assert_eq!(history(&alice, "bob").await.len(), stored, "{state:?}: refusals store nothing");
        // A marker invitation: whatever a refusal had sent would have arrived before it.
        let marker = invite(&alice, "bob", "marker", 0).await;
        assert_eq!(nth_signal(&bob, at_bob + 1).await, invited(&marker, "alice", "bob", "marker"));
        alice.sm().cancel(marker.clone(), String::new()).await.unwrap();
        assert!(matches!(nth_signal(&bob, at_bob + 2).await, Seen::Cancelled { invite_id, .. } if invite_id == marker));
        assert_eq!(alice.seen.signals().len(), at_alice, "{state:?}: the inviter heard nothing more");
    }
    assert!(carol.seen.signals().is_empty(), "a stranger hears nothing: {:?}", carol.seen.signals());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_reach_inviter_and_invitee_and_0_means_never() {
    let server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    let started = Instant::now();
    let short = invite(&alice, "bob", "short", 1).await;
    let never = invite(&alice, "bob", "never", 0).await;
    assert_eq!(nth_signal(&alice, 1).await, timed_out(&short, "bob"));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(5), "{waited:?}");
    assert_eq!(
        bob.seen.wait_signals(3).await,
        [invited(&short, "alice", "bob", "short"), invited(&never, "alice", "bob", "never"), timed_out(&short, "bob")]
    );
    assert_eq!(code(bob.sm().accept(short.clone(), String::new()).await), 8010);
    assert_eq!(code(alice.sm().cancel(short.clone(), String::new()).await), 8010);

    // Timeout 0: still open well after the other timed out.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    bob.sm().accept(never.clone(), String::new()).await.unwrap();
    assert!(matches!(nth_signal(&alice, 2).await, Seen::Accepted { invite_id, .. } if invite_id == never));
    assert_eq!(alice.seen.signals().len(), 2);
    assert_eq!(bob.seen.signals().len(), 3, "no timeout for a timeout of 0");
    let actions: Vec<_> = history(&bob, "alice").await.into_iter().map(|i| i.map(|(id, a, _)| (id, a))).collect();
    assert_eq!(
        actions,
        [
            Some((never.clone(), SignalingAction::Accept)),
            Some((short.clone(), SignalingAction::Timeout)),
            Some((never.clone(), SignalingAction::Invite)),
            Some((short.clone(), SignalingAction::Invite)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inviters_app_dying_right_after_inviting_does_not_stop_the_timeout() {
    let server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    let id = invite(&alice, "bob", "ring", 1).await;
    alice.sdk.uninit_sdk();

    // The server's timer: bob hears the timeout although the caller's app is gone.
    assert_eq!(bob.seen.wait_signals(2).await, [invited(&id, "alice", "bob", "ring"), timed_out(&id, "bob")]);

    // The caller's app starts again: it learns of the timeout from the server.
    alice.init(&server);
    alice.login(&server, "alice").await;
    assert_eq!(nth_signal(&alice, 1).await, timed_out(&id, "bob"));
    assert_eq!(
        history(&alice, "bob").await,
        [
            Some((id.clone(), SignalingAction::Timeout, String::new())),
            Some((id.clone(), SignalingAction::Invite, "ring".into()))
        ]
    );
    assert_eq!(alice.seen.signals().len(), 1, "no invitation of her own");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitee_away_hears_pending_invitations_at_login_but_not_finished_ones() {
    let server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    bob.sdk.logout().await.unwrap();

    let pending = invite(&alice, "bob", "pending", 0).await;
    let cancelled = invite(&alice, "bob", "cancelled", 0).await;
    alice.sm().cancel(cancelled.clone(), "never mind".into()).await.unwrap();
    let expired = invite(&alice, "bob", "expired", 1).await;
    assert_eq!(nth_signal(&alice, 1).await, timed_out(&expired, "bob"));

    // Back online: the pending invitation rings; the cancelled and timed-out ones are only
    // told as such, never as a (stale) invitation first.
    bob.login(&server, "bob").await;
    assert_eq!(
        bob.seen.wait_signals(3).await,
        [
            invited(&pending, "alice", "bob", "pending"),
            Seen::Cancelled { invite_id: cancelled.clone(), inviter: "alice".into(), data: "never mind".into() },
            timed_out(&expired, "bob"),
        ]
    );
    // All five actions are messages in bob's history.
    assert_eq!(history(&bob, "alice").await.len(), 5);
    bob.sm().accept(pending.clone(), String::new()).await.unwrap();
    assert!(matches!(nth_signal(&alice, 2).await, Seen::Accepted { invite_id, .. } if invite_id == pending));
    assert_eq!(bob.seen.signals().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_keeps_invitations_and_times_out_the_overdue_ones() {
    let mut server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    let overdue = invite(&alice, "bob", "overdue", 2).await;
    let open = invite(&alice, "bob", "open", 0).await;
    bob.seen.wait_signals(2).await;
    server.stop().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.start_again().await;

    // The deadline passed while the server was down: it times out at once after the restart.
    assert_eq!(nth_signal(&alice, 1).await, timed_out(&overdue, "bob"));
    assert_eq!(nth_signal(&bob, 3).await, timed_out(&overdue, "bob"));
    // The other invitation survived and can be answered.
    bob.sm().accept(open.clone(), String::new()).await.unwrap();
    assert!(matches!(nth_signal(&alice, 2).await, Seen::Accepted { invite_id, .. } if invite_id == open));
    assert_eq!(alice.seen.signals().len(), 2, "the timeout was told once");
    assert_eq!(bob.seen.signals().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_only_invitations_reach_online_users_and_leave_no_trace() {
    let server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    let carol = device(&server, "carol", "android").await;
    carol.sdk.logout().await.unwrap();
    let sm = alice.sm();

    let call = sm.invite("bob".into(), "live".into(), true, None, 0).await.unwrap();
    assert_eq!(nth_signal(&bob, 1).await, invited(&call, "alice", "bob", "live"));
    bob.sm().accept(call.clone(), "ok".into()).await.unwrap();
    assert_eq!(
        nth_signal(&alice, 1).await,
        Seen::Accepted { invite_id: call.clone(), invitee: "bob".into(), data: "ok".into() }
    );
    // The server's state machine applies as for stored invitations.
    assert_eq!(code(bob.sm().accept(call.clone(), String::new()).await), 8010);

    // Timeouts of online-only invitations reach whoever is online.
    let unanswered = sm.invite("bob".into(), String::new(), true, None, 1).await.unwrap();
    assert_eq!(nth_signal(&alice, 2).await, timed_out(&unanswered, "bob"));
    assert_eq!(nth_signal(&bob, 3).await, timed_out(&unanswered, "bob"));

    // Offline users never learn of online-only invitations.
    let missed = sm.invite("carol".into(), String::new(), true, None, 1).await.unwrap();
    assert_eq!(nth_signal(&alice, 3).await, timed_out(&missed, "carol"));
    carol.login(&server, "carol").await;
    alice.sdk.send_c2c_text_message("call me".into(), "carol".into()).await.unwrap();
    wait_text(&carol, "call me").await;
    assert!(carol.seen.signals().is_empty(), "{:?}", carol.seen.signals());

    // No trace: no messages, no history anywhere.
    assert!(bob.seen.new_messages().is_empty());
    assert!(history(&alice, "bob").await.is_empty());
    assert!(history(&bob, "alice").await.is_empty());
    assert_eq!(alice.sdk.local_message_count("c2c_bob".into()).await.unwrap(), 0);
    assert_eq!(history(&carol, "alice").await, [None], "only the text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_invited_signaling_makes_an_invitation_known_once() {
    let server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    let carol = device(&server, "carol", "android").await;
    // Online-only: bob's iPad, not logged in yet, never hears of it (as after an app kill).
    let id = alice.sm().invite("bob".into(), "room 9".into(), true, None, 0).await.unwrap();
    nth_signal(&bob, 1).await;
    let bob_ipad = device(&server, "bob", "ios").await;
    let info = SignalingInfo {
        invite_id: id.clone(),
        inviter: "alice".into(),
        invitee_list: vec!["bob".into()],
        group_id: String::new(),
        data: "room 9".into(),
        timeout: 0,
        action_type: SignalingAction::Invite,
    };
    bob_ipad.sm().add_invited_signaling(info.clone()).await.unwrap();
    assert_eq!(code(bob_ipad.sm().add_invited_signaling(info.clone()).await), 8012, "added twice");
    assert_eq!(code(bob.sm().add_invited_signaling(info.clone()).await), 8012, "pushed to this device");
    assert_eq!(code(alice.sm().add_invited_signaling(info.clone()).await), 8012, "the inviter's own");
    assert_eq!(code(carol.sm().add_invited_signaling(info.clone()).await), 8011, "not carol's");
    let unknown = SignalingInfo { invite_id: "no-such-invitation".into(), ..info.clone() };
    assert_eq!(code(bob_ipad.sm().add_invited_signaling(unknown).await), 8010);
    // The iPad answers it.
    bob_ipad.sm().accept(id.clone(), "from the iPad".into()).await.unwrap();
    assert_eq!(
        nth_signal(&alice, 1).await,
        Seen::Accepted { invite_id: id, invitee: "bob".into(), data: "from the iPad".into() }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_and_forged_signaling_messages_are_refused() {
    let server = TestServer::start().await;
    let alice = device(&server, "alice", "android").await;
    let bob = device(&server, "bob", "android").await;
    let sm = alice.sm();
    assert_eq!(code(sm.invite("alice".into(), String::new(), false, None, 0).await), 6017, "self");
    assert_eq!(code(sm.invite(String::new(), String::new(), false, None, 0).await), 6017, "empty");
    assert_eq!(code(sm.invite("bob".into(), String::new(), false, None, -1).await), 6017, "timeout");
    assert_eq!(code(sm.invite("bob".into(), "x".repeat(13 * 1024), false, None, 0).await), 8001, "data");
    assert_eq!(code(sm.invite("nobody".into(), String::new(), false, None, 0).await), 20003, "unknown user");
    assert_eq!(code(sm.invite_in_group("g1".into(), vec!["bob".into()], String::new(), false, 0).await), 10010);
    assert_eq!(code(sm.invite_in_group("g1".into(), vec![], String::new(), false, 0).await), 6017);
    assert_eq!(code(sm.accept(String::new(), String::new()).await), 6017);
    assert_eq!(code(sm.cancel("has#hash".into(), String::new()).await), 6017);

    // A client cannot forge a signaling message (it could ring a phone for nothing).
    let forged = SignalingInfo {
        invite_id: "forged".into(),
        inviter: "alice".into(),
        invitee_list: vec!["bob".into()],
        group_id: String::new(),
        data: String::new(),
        timeout: 0,
        action_type: SignalingAction::Invite,
    };
    let mm = alice.mm();
    let msg: Message = mm.create_custom_message(forged.to_json().into_bytes(), String::new(), String::new());
    let opts = SendOptions { receiver: "bob".into(), ..SendOptions::default() };
    assert_eq!(code(mm.send_message(msg, opts).await), 6017);
    // Nothing reached bob: after a text, his conversation holds only the text.
    alice.sdk.send_c2c_text_message("after".into(), "bob".into()).await.unwrap();
    wait_text(&bob, "after").await;
    assert_eq!(history(&bob, "alice").await, [None]);
    assert!(bob.seen.signals().is_empty());
}
