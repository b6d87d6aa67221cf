//! Delivery across interruptions, end to end: sends made without waiting for each other while
//! the server is down, across a restart of the sending device, arrive once each in the order
//! they were made.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use oxim_core::MessageStatus;
use oxim_core::message::SendOptions;
use oxim_tests::{TestClient, TestServer};
use tokio::sync::mpsc;

/// The most messages one catch-up page stores (the SDK's `msg.pull` limit), told with one mark.
const PULL_PAGE: usize = 200;

fn to(user: &str) -> SendOptions {
    SendOptions { receiver: user.into(), ..SendOptions::default() }
}

fn text_of(m: &oxim_core::Message) -> String {
    match &m.elem {
        oxim_core::Elem::Text { text } => text.clone(),
        other => panic!("a text: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_pipelined_while_the_server_is_down_survive_a_device_restart_and_arrive_in_call_order() {
    let mut server = TestServer::start().await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    bob.listen_advanced();
    let alice = TestClient::logged_in(&server, "alice", "android").await;
    let texts: Vec<String> = (0..40).map(|i| format!("{i:02}")).collect();

    // The server goes away; alice sends 40 messages without waiting for any of them.
    server.stop().await;
    let mm = alice.mm();
    let calls: Vec<_> = texts
        .iter()
        .map(|t| {
            let mm = mm.clone();
            let msg = mm.create_text_message(t.clone());
            async move { mm.send_message(msg, to("bob")).await }
        })
        .collect();
    // join_all polls them in the order of the calls (as a foreign caller's calls are made).
    let sending = tokio::spawn(futures_util::future::join_all(calls));
    alice
        .eventually("the 40 sends on record", || async {
            alice.sdk.local_message_count("c2c_bob".into()).await.unwrap_or(0) == 40
        })
        .await;
    // The device goes down with them unsent: the callers hear that they were interrupted.
    alice.sdk.uninit_sdk();
    let results = tokio::time::timeout(oxim_tests::WAIT, sending).await.unwrap().unwrap();
    assert!(results.iter().all(|r| r.is_err()), "nothing was sent: {results:?}");

    // Server and device come back: the queue goes out first, in call order, each message once.
    server.start_again().await;
    alice.init(&server);
    alice.login(&server, "alice").await;
    let later = mm.send_message(mm.create_text_message("40".into()), to("bob")).await.unwrap();
    assert_eq!(later.seq, 41, "sent after the 40 queued before it");
    bob.seen.wait_new(41).await;
    // A sentinel sent after them arrives after anything told twice (delivery is in order).
    mm.send_message(mm.create_text_message("sentinel".into()), to("bob")).await.unwrap();
    bob.seen.wait_new(42).await;
    let mut got = bob.seen.new_messages();
    assert_eq!(text_of(&got.pop().unwrap()), "sentinel", "nothing told twice before the sentinel");
    let want: Vec<String> = (0..=40).map(|i| format!("{i:02}")).collect();
    let got_texts: Vec<String> = got.iter().map(text_of).collect();
    assert_eq!(got_texts, want, "each once, in the order of the calls");
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=41).collect::<Vec<_>>());
    // On alice's device every one of them is sent.
    let history = alice.mm().find_messages(got.iter().map(|m| m.msg_id.clone()).collect()).await.unwrap();
    assert_eq!(history.len(), 41);
    assert!(history.iter().all(|m| m.status == MessageStatus::SendSucc), "{history:?}");
}

/// An SDK instance in its own process (`oxim-device`), killed with SIGKILL when the test says.
struct Device {
    child: Arc<Mutex<Child>>,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Device {
    /// Starts `oxim-device` on `dir` logged in as `user`, doing `job`.
    fn start(server: &TestServer, dir: &Path, user: &str, job: &[&str]) -> Device {
        let mut child = Command::new(env!("CARGO_BIN_EXE_oxim-device"))
            .arg(server.url())
            .arg(server.sdk_app_id().to_string())
            .arg(dir)
            .arg(user)
            .arg(server.sig(user))
            .args(job)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("oxim-device");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            // Complete lines only: a kill can cut the last one short.
            let mut out = BufReader::new(stdout);
            let mut line = String::new();
            while out.read_line(&mut line).is_ok_and(|n| n > 0) && line.ends_with('\n') {
                if tx.send(line.trim_end().to_owned()).is_err() {
                    return;
                }
                line.clear();
            }
        });
        Device { child: Arc::new(Mutex::new(child)), stdin, lines }
    }

    /// The next line it prints (panics after [`oxim_tests::WAIT`] or if it exits).
    async fn line(&mut self, what: &str) -> String {
        match tokio::time::timeout(oxim_tests::WAIT, self.lines.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!("oxim-device exited while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }

    /// Waits for the line `want`.
    async fn expect(&mut self, want: &str) {
        let line = self.line(want).await;
        assert_eq!(line, want);
    }

    /// Writes a line to its stdin.
    fn say(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
    }

    /// SIGKILL; returns the complete lines it printed that were not read yet.
    async fn kill(mut self) -> Vec<String> {
        {
            let mut child = self.child.lock().unwrap();
            let _ = child.kill();
            child.wait().unwrap();
        }
        let mut rest = Vec::new();
        while let Some(line) = tokio::time::timeout(oxim_tests::WAIT, self.lines.recv()).await.expect("stdout closed") {
            rest.push(line);
        }
        rest
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A device's send queue, read from its store file while the device runs.
struct SendQueue(rusqlite::Connection);

impl SendQueue {
    /// The store under `dir` (the device's data directory).
    fn open(dir: &Path) -> SendQueue {
        let mut dirs = vec![dir.to_path_buf()];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.file_name().is_some_and(|n| n == "oxim.db") {
                    return SendQueue(rusqlite::Connection::open(&path).unwrap());
                }
            }
        }
        panic!("no store under {}", dir.display())
    }

    /// How many sends are queued.
    fn len(&self) -> usize {
        self.0.query_row("SELECT count(*) FROM send_queue", [], |r| r.get::<_, i64>(0)).unwrap() as usize
    }
}

/// A message `oxim-device receive` printed.
#[derive(Debug, Clone, PartialEq)]
struct Printed {
    msg_id: String,
    conv: String,
    seq: u64,
    text: String,
}

impl Printed {
    fn parse(line: &str) -> Printed {
        let parts: Vec<&str> = line.splitn(5, ' ').collect();
        match parts.as_slice() {
            ["msg", msg_id, conv, seq, text] => Printed {
                msg_id: msg_id.to_string(),
                conv: conv.to_string(),
                seq: seq.parse().expect("seq"),
                text: text.to_string(),
            },
            _ => panic!("not a message line: {line:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_sends_survive_sigkills_of_the_sending_process_and_arrive_once_in_call_order() {
    const N: usize = 200;
    let mut server = TestServer::start().await;
    let bob = TestClient::logged_in(&server, "bob", "android").await;
    bob.listen_advanced();
    let dir = tempfile::tempdir().unwrap();
    let n = N.to_string();
    let no_sends = ["send", "0", "bob"];

    // The server goes away; alice's device makes 200 sends without waiting for any of them and
    // is killed as soon as they are on record.
    let mut alice = Device::start(&server, dir.path(), "alice", &["send", &n, "bob"]);
    alice.expect("ready").await;
    server.stop().await;
    alice.say("go");
    alice.expect(&format!("on-record {N}")).await;
    alice.kill().await;
    assert!(bob.seen.new_messages().is_empty());

    // The server comes back, then the device, with no new sends: its queue goes out by itself.
    // It is killed again mid-drain, with some sends recorded as sent and the rest answered by
    // the server but not recorded yet, in flight, or not sent at all.
    server.start_again().await;
    let queue = SendQueue::open(dir.path());
    let alice = Device::start(&server, dir.path(), "alice", &no_sends);
    let deadline = Instant::now() + oxim_tests::WAIT;
    // Watched in its store, as closely as the test can: the kill follows the first answer
    // the device recorded, with the next ones in flight.
    while queue.len() == N {
        assert!(Instant::now() < deadline, "the queue did not start to drain");
        tokio::task::yield_now().await;
    }
    alice.kill().await;
    let queued = queue.len();
    eprintln!("still queued when the draining device was killed: {queued} of {N}");
    assert!(queued > 0 && queued < N, "killed mid-drain: {queued} of {N} still queued");

    // The third run sends the rest, each once, in call order.
    let _alice = Device::start(&server, dir.path(), "alice", &no_sends);
    bob.seen.wait_new(N).await;
    // A sentinel from alice's other device, in the same conversation: anything told twice
    // would arrive before it.
    let other = TestClient::logged_in(&server, "alice", "ios").await;
    let sentinel = other.mm().send_message(other.mm().create_text_message("sentinel".into()), to("bob")).await.unwrap();
    assert_eq!(sentinel.seq, N as u64 + 1, "every queued send took one seq, once");
    bob.seen.wait_new(N + 1).await;
    let mut got = bob.seen.new_messages();
    assert_eq!(text_of(&got.pop().unwrap()), "sentinel", "nothing told twice before the sentinel");
    let want: Vec<String> = (0..N).map(|i| format!("{i:02}")).collect();
    assert_eq!(got.iter().map(text_of).collect::<Vec<_>>(), want, "each once, in the order of the calls");
    assert_eq!(got.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=N as u64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_killed_during_catch_up_tells_every_message_after_its_restart() {
    const SENDERS: usize = 4;
    const EACH: usize = 500;
    const TOTAL: usize = SENDERS * EACH;
    // The run is killed after this many printed messages, well before the end of the catch-up.
    const K: usize = 300;
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();

    // bob's device logs in once (what arrives after that is news to it), then is gone.
    let mut bob = Device::start(&server, dir.path(), "bob", &["receive"]);
    bob.expect("ready").await;
    bob.expect("synced").await;
    bob.kill().await;

    // Meanwhile 2,000 messages reach bob in four conversations.
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        senders.push(TestClient::logged_in(&server, &format!("s{i}"), "android").await);
    }
    let sending = senders.iter().enumerate().flat_map(|(i, s)| {
        let mm = s.mm();
        (0..EACH).map(move |j| {
            let mm = mm.clone();
            let msg = mm.create_text_message(format!("s{i}-{j:03}"));
            async move { mm.send_message(msg, to("bob")).await.unwrap() }
        })
    });
    let sent = futures_util::future::join_all(sending).await;
    let sent_ids: HashSet<String> = sent.iter().map(|m| m.msg_id.clone()).collect();
    assert_eq!(sent_ids.len(), TOTAL);

    // The device comes back with an app slower than its store, and is killed in the middle of
    // its catch-up, in the middle of telling a page.
    let mut bob = Device::start(&server, dir.path(), "bob", &["receive", "slow"]);
    bob.expect("ready").await;
    let mut first = Vec::new();
    while first.len() < K {
        match bob.line("the first run's messages").await.as_str() {
            "synced" => panic!("the catch-up ended after {} messages", first.len()),
            line => first.push(Printed::parse(line)),
        }
    }
    first.extend(bob.kill().await.iter().filter(|l| l.starts_with("msg ")).map(|l| Printed::parse(l)));
    assert!(first.len() < TOTAL, "killed before the catch-up ended ({} of {TOTAL} told)", first.len());

    // Restarted on the same data: it tells the rest, then the sentinel.
    let mut bob = Device::start(&server, dir.path(), "bob", &["receive"]);
    let mut second = Vec::new();
    let told = |first: &[Printed], second: &[Printed]| {
        first.iter().chain(second).map(|p| p.msg_id.clone()).collect::<HashSet<_>>().len()
    };
    while told(&first, &second) < TOTAL {
        let what = format!("the rest of the messages ({} of {TOTAL} told)", told(&first, &second));
        match bob.line(&what).await.as_str() {
            "ready" | "synced" => {}
            line => second.push(Printed::parse(line)),
        }
    }
    senders[0].mm().send_message(senders[0].mm().create_text_message("sentinel".into()), to("bob")).await.unwrap();
    loop {
        match bob.line("the sentinel").await.as_str() {
            "ready" | "synced" => {}
            line => {
                let p = Printed::parse(line);
                if p.text == "sentinel" {
                    break;
                }
                second.push(p);
            }
        }
    }

    // Nothing missing, nothing made up.
    let union: HashSet<String> = first.iter().chain(&second).map(|p| p.msg_id.clone()).collect();
    assert_eq!(union, sent_ids, "every message told");
    // Within a run, each is told once, and each conversation in seq order.
    for run in [&first, &second] {
        let ids: HashSet<&str> = run.iter().map(|p| p.msg_id.as_str()).collect();
        assert_eq!(ids.len(), run.len(), "told twice in one run");
        for i in 0..SENDERS {
            let conv = format!("c2c_s{i}");
            let seqs: Vec<u64> = run.iter().filter(|p| p.conv == conv).map(|p| p.seq).collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{conv} in order: {seqs:?}");
        }
    }
    // Told by both runs: only what the first was telling when it was killed. Told means the
    // listener returned; the "told" mark is committed after that (one mark per stored page,
    // written when its last listener call returned), so a kill in between tells them again —
    // at most one stored page, the last the first run printed and the first the second did.
    let first_ids: HashSet<&str> = first.iter().map(|p| p.msg_id.as_str()).collect();
    let twice: Vec<&Printed> = second.iter().filter(|p| first_ids.contains(p.msg_id.as_str())).collect();
    eprintln!("first run told {}, second {}, both {}", first.len(), second.len(), twice.len());
    assert!(twice.len() <= PULL_PAGE, "{} told twice", twice.len());
    let tail: HashSet<&str> = first.iter().rev().take(PULL_PAGE).map(|p| p.msg_id.as_str()).collect();
    let head: HashSet<&str> = second.iter().take(twice.len()).map(|p| p.msg_id.as_str()).collect();
    assert!(
        twice.iter().all(|p| tail.contains(p.msg_id.as_str()) && head.contains(p.msg_id.as_str())),
        "told twice: {twice:?}"
    );
}
