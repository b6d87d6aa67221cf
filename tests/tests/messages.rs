//! The message manager end to end: every message type with every field, media with progress,
//! history across the local/cloud boundary, revoke, receipts, deletion on other devices,
//! online-only messages, exactly-once under connection drops, and the refusals.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use oxim_core::message::{SendOptions, Source};
use oxim_core::{
    ConvId, Elem, ElemType, HistoryGetType, HistoryOption, Message, MessageStatus, OfflinePushInfo, image_type,
};
use oxim_tests::{Seen, TestClient, TestServer};

fn to(user: &str) -> SendOptions {
    SendOptions { receiver: user.into(), ..SendOptions::default() }
}

async fn send(c: &TestClient, msg: Message, user: &str) -> Message {
    c.mm().send_message(msg, to(user)).await.expect("send")
}

/// A test image of `w` x `h` pixels, as a PNG or JPEG file in `dir`.
fn image_file(dir: &std::path::Path, name: &str, w: u32, h: u32) -> String {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let path = dir.join(name);
    img.save(&path).unwrap();
    path.to_string_lossy().into_owned()
}

fn bytes_file(dir: &std::path::Path, name: &str, len: usize) -> String {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_type_arrives_with_every_field() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    bob.listen_advanced();
    let mm = alice.mm();
    let dir = alice.dir().to_path_buf();

    // Text with cloud data, priority and offline push settings.
    let mut text = mm.create_text_message("hello".into());
    text.cloud_custom_data = "cloud".into();
    let push = OfflinePushInfo { title: "T".into(), desc: "D".into(), ext: "E".into(), ..OfflinePushInfo::default() };
    let opts = SendOptions {
        receiver: "bob".into(),
        priority: 1,
        offline_push_info: Some(push.clone()),
        ..SendOptions::default()
    };
    let sent_text = mm.send_message(text, opts).await.unwrap();
    let at = mm.create_text_at_message("hi @bob".into(), vec!["bob".into()]).unwrap();
    let sent_at = send(&alice, at, "bob").await;
    let custom = mm.create_custom_message(vec![1, 2, 3], "desc".into(), "ext".into());
    let sent_custom = send(&alice, custom, "bob").await;
    let location = mm.create_location_message("home".into(), 116.39, 39.9).unwrap();
    let sent_location = send(&alice, location, "bob").await;
    let face = mm.create_face_message(7, b"smile".to_vec());
    let sent_face = send(&alice, face, "bob").await;

    // Image with upload progress; variants are made by the server.
    let image_path = image_file(&dir, "photo.png", 1000, 1500);
    let progress = Arc::new(Mutex::new(Vec::new()));
    let p = progress.clone();
    let image_opts = SendOptions {
        receiver: "bob".into(),
        progress: Some(Arc::new(move |v: u32| p.lock().unwrap().push(v))),
        ..SendOptions::default()
    };
    let sent_image = mm.send_message(mm.create_image_message(image_path.clone()).unwrap(), image_opts).await.unwrap();
    let steps = progress.lock().unwrap().clone();
    assert_eq!(steps.last(), Some(&100), "upload progress ends at 100: {steps:?}");
    assert!(steps.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {steps:?}");

    let sound_path = bytes_file(&dir, "voice.aac", 30_000);
    let sent_sound = send(&alice, mm.create_sound_message(sound_path.clone(), 12).unwrap(), "bob").await;
    let video_path = bytes_file(&dir, "clip.mp4", 200_000);
    let snapshot_path = image_file(&dir, "snap.jpg", 320, 240);
    let video = mm.create_video_message(video_path.clone(), "mp4".into(), 9, snapshot_path).unwrap();
    let sent_video = send(&alice, video, "bob").await;
    let file_path = bytes_file(&dir, "report.bin", 70_000);
    let sent_file = send(&alice, mm.create_file_message(file_path.clone(), "Report.pdf".into()).unwrap(), "bob").await;

    // Merged and forwarded messages.
    let merger = mm
        .create_merger_message(
            vec![sent_text.clone(), sent_custom.clone()],
            "Chat of Alice and Bob".into(),
            vec!["alice: hello".into()],
            "[Chat history]".into(),
        )
        .unwrap();
    let sent_merger = send(&alice, merger, "bob").await;
    let forward = mm.create_forward_message(&sent_image).unwrap();
    let sent_forward = send(&alice, forward, "bob").await;

    bob.seen.wait_new(11).await;
    let got = bob.seen.new_messages();
    let by_id = |id: &str| got.iter().find(|m| m.msg_id == id).cloned().unwrap_or_else(|| panic!("{id} not received"));
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=11).collect::<Vec<_>>(), "in seq order");

    let t = by_id(&sent_text.msg_id);
    assert_eq!(t.elem, Elem::Text { text: "hello".into() });
    assert_eq!((t.sender.as_str(), t.user_id.as_str(), t.is_self, t.is_read), ("alice", "alice", false, false));
    assert_eq!((t.priority, t.cloud_custom_data.as_str()), (1, "cloud"));
    assert_eq!(t.offline_push_info, Some(push));
    assert_eq!(t.status, MessageStatus::SendSucc);
    assert_eq!(t.timestamp, sent_text.timestamp);
    assert_eq!(by_id(&sent_at.msg_id).group_at_user_list, ["bob"]);
    assert_eq!(
        by_id(&sent_custom.msg_id).elem,
        Elem::Custom { data: vec![1, 2, 3], description: "desc".into(), extension: "ext".into() }
    );
    assert_eq!(
        by_id(&sent_location.msg_id).elem,
        Elem::Location { desc: "home".into(), longitude: 116.39, latitude: 39.9 }
    );
    assert_eq!(by_id(&sent_face.msg_id).elem, Elem::Face { index: 7, data: b"smile".to_vec() });

    // Image: three variants with V2TIM's sizes (shorter side 720 and 198), no local path.
    let Elem::Image { path, images } = by_id(&sent_image.msg_id).elem else { panic!("not an image") };
    assert!(path.is_empty(), "the sender's path is not sent");
    let variant = |kind| images.iter().find(|i| i.kind == kind).unwrap().clone();
    let (origin, large, thumb) = (variant(image_type::ORIGIN), variant(image_type::LARGE), variant(image_type::THUMB));
    assert_eq!((origin.width, origin.height), (1000, 1500));
    assert_eq!((large.width, large.height), (720, 1080));
    assert_eq!((thumb.width, thumb.height), (198, 297));
    assert_eq!(origin.size, std::fs::metadata(&image_path).unwrap().len());
    // The sender's copy keeps its path and has the same variants.
    let Elem::Image { path: own_path, images: own } = &sent_image.elem else { panic!() };
    assert_eq!((own_path, own), (&image_path, &images));

    // Download with progress: the bytes are the uploaded ones.
    let bob_mm = bob.mm();
    let dl = bob.dir().join("dl.png");
    let last = Arc::new(Mutex::new((0u64, 0u64)));
    let l = last.clone();
    bob_mm
        .download(
            origin.url.clone(),
            dl.to_string_lossy().into_owned(),
            Arc::new(move |c, t| *l.lock().unwrap() = (c, t)),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dl).unwrap(), std::fs::read(&image_path).unwrap());
    let (cur, total) = *last.lock().unwrap();
    assert_eq!((cur, total), (origin.size, origin.size), "download progress reaches the total");
    let thumb_file = bob.dir().join("thumb.png");
    bob_mm.download(thumb.url.clone(), thumb_file.to_string_lossy().into_owned(), Arc::new(|_, _| {})).await.unwrap();
    let decoded = image::open(&thumb_file).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (198, 297));

    let Elem::Sound { file, duration, .. } = by_id(&sent_sound.msg_id).elem else { panic!("not a sound") };
    assert_eq!((duration, file.size), (12, 30_000));
    let out = bob.dir().join("voice.aac");
    bob_mm.download(file.url, out.to_string_lossy().into_owned(), Arc::new(|_, _| {})).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&sound_path).unwrap());

    let Elem::Video { video, snapshot, snapshot_width, snapshot_height, video_type, duration, .. } =
        by_id(&sent_video.msg_id).elem
    else {
        panic!("not a video")
    };
    assert_eq!((video_type.as_str(), duration, video.size), ("mp4", 9, 200_000));
    assert_eq!((snapshot_width, snapshot_height), (320, 240));
    assert!(snapshot.size > 0);
    let out = bob.dir().join("clip.mp4");
    bob_mm.download(video.url, out.to_string_lossy().into_owned(), Arc::new(|_, _| {})).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&video_path).unwrap());

    let Elem::File { file_name, file, .. } = by_id(&sent_file.msg_id).elem else { panic!("not a file") };
    assert_eq!((file_name.as_str(), file.size), ("Report.pdf", 70_000));

    let merged = by_id(&sent_merger.msg_id);
    assert_eq!(merged.elem_type(), ElemType::Merger);
    let inner = bob_mm.download_merger_message(merged).await.unwrap();
    assert_eq!(
        inner.iter().map(|m| m.msg_id.clone()).collect::<Vec<_>>(),
        [sent_text.msg_id.clone(), sent_custom.msg_id.clone()]
    );
    assert_eq!(inner[0].elem, Elem::Text { text: "hello".into() });

    // The forward carries the same files under a new message id.
    let fwd = by_id(&sent_forward.msg_id);
    assert_ne!(fwd.msg_id, sent_image.msg_id);
    assert!(matches!(&fwd.elem, Elem::Image { images: i, .. } if *i == images));

    // A third user who never got the image may not download it.
    let carol = TestClient::logged_in(&server, "carol", "android").await;
    let denied = carol
        .mm()
        .download(origin.url.clone(), carol.dir().join("x").to_string_lossy().into_owned(), Arc::new(|_, _| {}))
        .await
        .unwrap_err();
    assert_eq!(denied.code, 6006);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_pages_through_500_messages_without_duplicates_or_gaps() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    TestClient::logged_in(&server, "bob", "android").await;
    let mut sent = Vec::new();
    for i in 0..500 {
        sent.push(alice.sdk.send_c2c_text_message(format!("h{i:03}"), "bob".into()).await.unwrap().msg_id);
    }
    // A new device of bob's, with an empty store: it roams the latest messages only.
    let bob = TestClient::logged_in(&server, "bob", "ios").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored = bob.sdk.local_message_count("c2c_alice".into()).await.unwrap();
    assert!(stored < 500, "a new device does not download everything at login ({stored})");

    let mm = bob.mm();
    let mut pages = Vec::new();
    let mut last: Option<Message> = None;
    loop {
        let page = mm.get_c2c_history_message_list("alice".into(), 20, last.clone()).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.windows(2).all(|w| w[0].seq > w[1].seq), "newest first within a page");
        last = page.last().cloned();
        pages.extend(page);
    }
    let ids: Vec<String> = pages.iter().map(|m| m.msg_id.clone()).collect();
    let mut expected = sent.clone();
    expected.reverse();
    assert_eq!(ids, expected, "every message exactly once, newest to oldest");
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 500, "history is now local");

    // Local pages now serve the same, even offline from the server's point of view.
    let local = mm
        .get_history_message_list(HistoryOption {
            get_type: HistoryGetType::LocalOlder,
            user_id: "alice".into(),
            group_id: String::new(),
            count: 100,
            last_msg: None,
            last_msg_seq: 0,
        })
        .await
        .unwrap();
    assert_eq!(local.len(), 100);
    assert_eq!(local[0].msg_id, sent[499]);
    // Newer than a message, by seq, from the cloud.
    let newer = mm
        .get_history_message_list(HistoryOption {
            get_type: HistoryGetType::CloudNewer,
            user_id: "alice".into(),
            group_id: String::new(),
            count: 5,
            last_msg: None,
            last_msg_seq: 0,
        })
        .await
        .unwrap();
    assert_eq!(newer.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    let _ = Source::Auto;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_within_the_window_reaches_everyone_and_after_it_is_refused() {
    let server = TestServer::start_configured(|c| c.revoke_window = Duration::from_secs(2)).await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let alice_pad = TestClient::logged_in(&server, "alice", "ios").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    for c in [&alice, &alice_pad, &bob] {
        c.listen_advanced();
    }
    let msg = alice.sdk.send_c2c_text_message("oops".into(), "bob".into()).await.unwrap();
    bob.seen.wait_new(1).await;
    alice_pad.seen.wait_new(1).await;

    // Only the sender may revoke.
    let bobs_copy = bob.mm().find_messages(vec![msg.msg_id.clone()]).await.unwrap().remove(0);
    assert_eq!(bob.mm().revoke_message(bobs_copy).await.unwrap_err().code, 10032);

    alice.mm().revoke_message(msg.clone()).await.unwrap();
    for c in [&bob, &alice_pad] {
        c.seen.wait_until("onRecvMessageRevoked", |s| s.contains(&Seen::Revoked(msg.msg_id.clone()))).await;
        let stored = c.mm().find_messages(vec![msg.msg_id.clone()]).await.unwrap();
        assert_eq!(stored[0].status, MessageStatus::LocalRevoked);
    }
    let own = alice.mm().find_messages(vec![msg.msg_id.clone()]).await.unwrap();
    assert_eq!(own[0].status, MessageStatus::LocalRevoked);
    assert!(
        !alice.seen.all().iter().any(|s| matches!(s, Seen::Revoked(_))),
        "the revoking device is answered, not told"
    );
    // Revoke notices are not messages: nothing new arrived, history shows the revoked message.
    assert_eq!(bob.seen.new_messages().len(), 1);
    let history = bob.mm().get_c2c_history_message_list("alice".into(), 10, None).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, MessageStatus::LocalRevoked);
    // A device that logs in later sees it revoked too.
    let late = TestClient::logged_in(&server, "bob", "ios").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen_late = late.mm().get_c2c_history_message_list("alice".into(), 10, None).await.unwrap();
    assert_eq!(seen_late[0].status, MessageStatus::LocalRevoked);

    // After the window: refused with V2TIM's code, nothing changes.
    let old = alice.sdk.send_c2c_text_message("too late".into(), "bob".into()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(alice.mm().revoke_message(old.clone()).await.unwrap_err().code, 20016);
    let still = bob.mm().find_messages(vec![old.msg_id.clone()]).await.unwrap();
    assert_eq!(still[0].status, MessageStatus::SendSucc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_receipts_reach_the_sender_and_mark_its_messages_peer_read() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    let bob_pad = TestClient::logged_in(&server, "bob", "ios").await;
    alice.listen_advanced();
    let m1 = alice.sdk.send_c2c_text_message("one".into(), "bob".into()).await.unwrap();
    let m2 = alice.sdk.send_c2c_text_message("two".into(), "bob".into()).await.unwrap();
    bob.seen.wait_texts(2).await;
    let before = bob.mm().find_messages(vec![m2.msg_id.clone()]).await.unwrap();
    assert!(!before[0].is_read);

    bob.mm().mark_c2c_message_as_read("alice".into()).await.unwrap();
    alice.seen.wait_until("onRecvC2CReadReceipt", |s| s.iter().any(|x| matches!(x, Seen::Receipts(_)))).await;
    let receipt = alice
        .seen
        .all()
        .into_iter()
        .find_map(|s| match s {
            Seen::Receipts(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(receipt.len(), 1);
    assert_eq!(receipt[0].user_id, "bob");
    assert!(receipt[0].timestamp >= m2.timestamp);
    let mine = alice.mm().find_messages(vec![m1.msg_id.clone(), m2.msg_id.clone()]).await.unwrap();
    assert!(mine.iter().all(|m| m.is_peer_read), "{mine:?}");
    let read = bob.mm().find_messages(vec![m2.msg_id.clone()]).await.unwrap();
    assert!(read[0].is_read);

    // Bob's other device learns the read position through his own stream (after any next change).
    bob.sdk.send_c2c_text_message("ok".into(), "alice".into()).await.unwrap();
    let mut pad_read = false;
    for _ in 0..50 {
        pad_read = bob_pad.mm().find_messages(vec![m2.msg_id.clone()]).await.unwrap()[0].is_read;
        if pad_read {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(pad_read, "the read position synced to bob's other device");

    // A second read report with nothing new sends no second receipt.
    bob.mm().mark_c2c_message_as_read("alice".into()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let receipts = alice.seen.all().iter().filter(|s| matches!(s, Seen::Receipts(_))).count();
    assert_eq!(receipts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_and_clears_reach_the_users_other_devices_and_stay_local_when_asked() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    let bob_pad = TestClient::logged_in(&server, "bob", "ios").await;
    let mut sent = Vec::new();
    for i in 0..6 {
        sent.push(alice.sdk.send_c2c_text_message(format!("d{i}"), "bob".into()).await.unwrap());
    }
    bob.seen.wait_texts(6).await;
    bob_pad.seen.wait_texts(6).await;
    let mm = bob.mm();
    let copies = mm.find_messages(sent.iter().map(|m| m.msg_id.clone()).collect()).await.unwrap();

    mm.delete_messages(copies[0..2].to_vec()).await.unwrap();
    // Once per second only.
    assert_eq!(mm.delete_messages(copies[2..3].to_vec()).await.unwrap_err().code, 7008);
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 4);
    // Bob's other device deletes them too; alice keeps hers.
    let mut pad_count = 6;
    for _ in 0..50 {
        pad_count = bob_pad.sdk.local_message_count("c2c_alice".into()).await.unwrap();
        if pad_count == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pad_count, 4, "the delete reached bob's other device");
    assert_eq!(alice.sdk.local_message_count("c2c_bob".into()).await.unwrap(), 6);
    // A new device never sees them.
    let fresh = TestClient::logged_in(&server, "bob", "mac").await;
    let history = fresh.mm().get_c2c_history_message_list("alice".into(), 20, None).await.unwrap();
    assert_eq!(history.len(), 4);

    // Local-only delete: gone here, nowhere else.
    mm.delete_message_from_local_storage(copies[5].clone()).await.unwrap();
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bob_pad.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 4);

    // Too many at once.
    let many: Vec<Message> = (0..31).map(|_| copies[3].clone()).collect();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(mm.delete_messages(many).await.unwrap_err().code, 6017);

    // Clearing: everything goes here and on bob's other devices.
    mm.clear_c2c_history_message("alice".into()).await.unwrap();
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 0);
    for _ in 0..50 {
        if bob_pad.sdk.local_message_count("c2c_alice".into()).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(bob_pad.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 0);
    assert!(mm.get_c2c_history_message_list("alice".into(), 20, None).await.unwrap().is_empty());
    // New messages after the clear arrive as usual.
    alice.sdk.send_c2c_text_message("after clear".into(), "bob".into()).await.unwrap();
    bob.seen.wait_texts(7).await;
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_import_lookup_and_device_data() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let mm = alice.mm();
    let draft = mm.create_text_message("imported".into());
    let imported = mm.insert_c2c_message_to_local_storage(draft.clone(), "bob".into(), "bob".into()).await.unwrap();
    assert_eq!((imported.status, imported.seq, imported.is_self), (MessageStatus::LocalImported, 0, false));
    assert_eq!(mm.insert_c2c_message_to_local_storage(draft, "bob".into(), "bob".into()).await.unwrap_err().code, 6017);
    mm.set_local_custom_data(imported.msg_id.clone(), "played".into()).await.unwrap();
    mm.set_local_custom_int(imported.msg_id.clone(), 1).await.unwrap();
    let found = mm.find_messages(vec![imported.msg_id.clone(), "unknown".into()]).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].local_custom_data.as_str(), found[0].local_custom_int), ("played", 1));
    let history = mm.get_c2c_history_message_list("bob".into(), 10, None).await.unwrap();
    assert_eq!(history.iter().map(|m| m.msg_id.as_str()).collect::<Vec<_>>(), [imported.msg_id.as_str()]);
    assert_eq!(alice.sdk.local_message_count(ConvId::C2C("bob".into()).to_string()).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_only_messages_are_never_stored_and_listeners_never_hear_twice() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    bob.listen_advanced(); // and the simple listener, registered by the harness

    let typing = alice.mm().create_custom_message(b"typing".to_vec(), String::new(), String::new());
    let opts = SendOptions { receiver: "bob".into(), online_user_only: true, ..SendOptions::default() };
    let sent = alice.mm().send_message(typing, opts).await.unwrap();
    assert_eq!(sent.seq, 0);
    bob.seen.wait_new(1).await;
    assert!(bob.seen.new_messages()[0].online_user_only);
    assert_eq!(alice.sdk.local_message_count("c2c_bob".into()).await.unwrap(), 0, "not stored by the sender");
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 0, "not stored by the receiver");
    // A device that was offline never gets it; nor does history.
    let later = TestClient::logged_in(&server, "bob", "ios").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(later.mm().get_c2c_history_message_list("alice".into(), 10, None).await.unwrap().is_empty());

    // With both listener kinds registered, a text arrives once (advanced only).
    alice.sdk.send_c2c_text_message("once".into(), "bob".into()).await.unwrap();
    bob.seen.wait_new(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(bob.seen.texts().is_empty(), "the simple listener stays quiet while an advanced one is registered");
    assert_eq!(bob.seen.new_messages().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_v2tim_codes_and_stores_nothing() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    TestClient::logged_in(&server, "bob", "android").await;
    let mm = alice.mm();
    let text = || mm.create_text_message("x".into());

    // Unknown receiver: 20003 (stored as failed, as V2TIM keeps failed messages).
    let failed = mm.send_message(text(), to("nobody")).await.unwrap_err();
    assert_eq!(failed.code, 20003);
    // Both or neither of receiver and group: 6017, nothing stored.
    let both = SendOptions { receiver: "bob".into(), group_id: "g".into(), ..SendOptions::default() };
    assert_eq!(mm.send_message(text(), both).await.unwrap_err().code, 6017);
    assert_eq!(mm.send_message(text(), SendOptions::default()).await.unwrap_err().code, 6017);
    // Groups do not exist yet: the server's real check answers 10010.
    let group = SendOptions { group_id: "nogroup".into(), ..SendOptions::default() };
    assert_eq!(mm.send_message(text(), group).await.unwrap_err().code, 10010);
    // Oversize payloads: 8001.
    let big = mm.create_custom_message(vec![0; 12 * 1024 + 1], String::new(), String::new());
    assert_eq!(mm.send_message(big, to("bob")).await.unwrap_err().code, 8001);
    // Files: missing 7004, empty 7006, over the image limit 7005.
    assert_eq!(mm.create_image_message("/nonexistent/a.png".into()).unwrap_err().code, 7004);
    let empty = bytes_file(alice.dir(), "empty.bin", 0);
    assert_eq!(mm.create_file_message(empty, "e".into()).unwrap_err().code, 7006);
    let huge = alice.dir().join("huge.png");
    std::fs::File::create(&huge).unwrap().set_len(28 * 1024 * 1024 + 1).unwrap();
    assert_eq!(mm.create_image_message(huge.to_string_lossy().into_owned()).unwrap_err().code, 7005);
    // A file that disappeared between create and send: 7004 at send, nothing stored.
    let gone = image_file(alice.dir(), "gone.png", 10, 10);
    let msg = mm.create_image_message(gone.clone()).unwrap();
    std::fs::remove_file(&gone).unwrap();
    assert_eq!(mm.send_message(msg, to("bob")).await.unwrap_err().code, 7004);
    // History page sizes.
    assert_eq!(mm.get_c2c_history_message_list("bob".into(), 0, None).await.unwrap_err().code, 6017);
    assert_eq!(mm.get_c2c_history_message_list("bob".into(), 101, None).await.unwrap_err().code, 6017);
    // Revoking a message that was never sent: 6017.
    assert_eq!(mm.revoke_message(text()).await.unwrap_err().code, 6017);

    assert_eq!(alice.sdk.local_message_count("c2c_bob".into()).await.unwrap(), 0, "nothing refused was stored");
    assert_eq!(alice.sdk.local_message_count("c2c_nobody".into()).await.unwrap(), 1, "the 20003 one is kept as failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_whose_connection_keeps_dropping_gets_1000_messages_exactly_once_in_order() {
    let server = TestServer::start().await;
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    // Reconnect quickly: this test cuts the connection ten times in a few seconds.
    let bob =
        TestClient::new_configured(&server, "android", |c| c.reconnect_max_delay = Duration::from_millis(300)).await;
    bob.login(&server, "bob").await;
    bob.listen_advanced();
    let total = 1000;
    // Ten rounds of 100 messages; in each, bob's connection is cut while they flow, and the next
    // round starts once he is back (so every round really crosses a reconnect).
    let mut cuts = 0;
    for round in 0..10 {
        let sdk = alice.sdk.clone();
        let batch = tokio::spawn(async move {
            for i in 0..100 {
                sdk.send_c2c_text_message(format!("{:04}", round * 100 + i), "bob".into()).await.unwrap();
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let connects_before = bob.seen.all().iter().filter(|s| **s == Seen::ConnectSuccess).count();
        if server.handle().disconnect_user("bob") > 0 {
            cuts += 1;
            bob.seen
                .wait_until("bob reconnected", |s| {
                    s.iter().filter(|x| **x == Seen::ConnectSuccess).count() > connects_before
                })
                .await;
        }
        batch.await.unwrap();
    }
    let sender = tokio::spawn(async {});
    sender.await.unwrap();
    bob.seen.wait_new(total).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = bob.seen.new_messages();
    assert_eq!(got.len(), total, "each exactly once");
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=total as u64).collect::<Vec<_>>(), "in seq order");
    assert!(cuts >= 8, "the connection was cut {cuts} times while messages flowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_message_resent_keeps_its_id_and_arrives_once() {
    let mut server = TestServer::start().await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    let alice = TestClient::new_configured(&server, "android", |c| c.send_timeout = Duration::from_secs(1)).await;
    alice.login(&server, "alice").await;
    let mm = alice.mm();

    server.stop().await;
    let msg = mm.create_text_message("retry me".into());
    let err = mm.send_message(msg.clone(), to("bob")).await.unwrap_err();
    assert_eq!(err.code, 9508, "{err}");
    let failed = mm.find_messages(vec![msg.msg_id.clone()]).await.unwrap();
    assert_eq!(failed[0].status, MessageStatus::SendFail, "stored as failed, with the same id");

    alice.seen.clear();
    server.start_again().await;
    alice.wait_connected().await;
    let sent = mm.send_message(failed[0].clone(), to("bob")).await.unwrap();
    assert_eq!((sent.msg_id.as_str(), sent.status), (msg.msg_id.as_str(), MessageStatus::SendSucc));
    // And once more, as an app retrying a message it believes failed: still one message.
    mm.send_message(failed[0].clone(), to("bob")).await.unwrap();
    bob.seen.wait_texts(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bob.seen.texts(), ["retry me"]);
    assert_eq!(alice.sdk.local_message_count("c2c_bob".into()).await.unwrap(), 1);
    assert_eq!(bob.sdk.local_message_count("c2c_alice".into()).await.unwrap(), 1);
}
