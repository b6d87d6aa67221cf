//! Media files end to end: `oxim_server::media::routes` on a loopback port with a
//! `FsBlobStore` in a temporary directory, driven by the SDK's `MediaClient` and, where a client
//! that skips the SDK's checks is needed, by raw HTTP/1.1 over TCP.

use std::collections::HashSet;
use std::io::Cursor;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use image::{DynamicImage, ImageFormat, RgbImage};
use oxim_core::media::MediaClient;
use oxim_proto::code;
use oxim_proto::media::{FileKind, ImageVariantKind, MB, UploadedFile};
use oxim_server::media::{AllowOwnerOnly, FileAccess, FsBlobStore, MediaLimits, MediaState, UploadLimits, routes};
use oxim_server::usersig::UserSigKey;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const APP: u64 = 1_400_000_001;
const SECRET: &str = "media-test-secret";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

struct TestServer {
    addr: SocketAddr,
    data: tempfile::TempDir,
    key: UserSigKey,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    async fn start() -> TestServer {
        TestServer::start_with(MediaLimits::default(), Arc::new(AllowOwnerOnly)).await
    }

    async fn start_with(limits: MediaLimits, access: Arc<dyn FileAccess>) -> TestServer {
        TestServer::start_full(limits, access, UploadLimits::default()).await
    }

    async fn start_full(limits: MediaLimits, access: Arc<dyn FileAccess>, uploads: UploadLimits) -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let blobs = Arc::new(FsBlobStore::open(data.path()).unwrap());
        let key = UserSigKey::new(APP, SECRET);
        let state = MediaState { sigs: key.clone(), sdk_app_id: APP, blobs, access, limits, uploads };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = routes(state);
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        TestServer { addr, data, key, task }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn sig(&self, user: &str) -> String {
        self.key.sign(user, now(), 3600)
    }

    fn client(&self, user: &str) -> MediaClient {
        MediaClient::new(&self.base(), APP, user, &self.sig(user)).unwrap()
    }

    /// Every object file and sidecar stored (partial uploads in `files/tmp` excluded).
    fn stored(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let root = self.data.path().join("files");
        for shard in std::fs::read_dir(&root).unwrap() {
            let shard = shard.unwrap().path();
            if shard.file_name().unwrap() == "tmp" {
                continue;
            }
            for f in std::fs::read_dir(&shard).unwrap() {
                out.push(f.unwrap().path());
            }
        }
        out
    }

    /// Files left in the staging directory (must be none between uploads).
    fn staged(&self) -> usize {
        std::fs::read_dir(self.data.path().join("files/tmp")).unwrap().count()
    }

    fn auth_headers(&self, user: &str, sig: &str) -> String {
        format!("x-oxim-sdkappid: {APP}\r\nx-oxim-user: {user}\r\nx-oxim-usersig: {sig}\r\n")
    }
}

/// Sends `head` (request line and headers, without the blank line; `Connection: close` is
/// added) and `body` over a fresh TCP connection; returns the status and the JSON body.
async fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, Value) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(format!("{head}Host: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut response))
        .await
        .expect("the server answers and closes")
        .unwrap();
    parse_response(&response)
}

fn parse_response(response: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response head");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let json = if body.is_empty() { Value::Null } else { serde_json::from_str(body).expect("a JSON body") };
    (status, json)
}

fn make_image(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * 3 + y) % 256) as u8]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// Deterministic pseudo-random bytes (xorshift), so the content is not compressible or uniform.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn download_bytes(client: &MediaClient, url: &str, dir: &Path, name: &str) -> Result<Vec<u8>, oxim_core::Error> {
    let dest = dir.join(name);
    client.download(url, &dest, &|_, _| {}).await?;
    Ok(std::fs::read(dest).unwrap())
}

// ---- images ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_upload_makes_v2tim_variants() {
    let server = TestServer::start().await;
    let alice = server.client("alice");
    let dir = tempfile::tempdir().unwrap();
    // (width, height, format, large, thumb)
    let cases = [
        (1000, 1500, ImageFormat::Png, (720, 1080), (198, 297)),
        (1600, 900, ImageFormat::Jpeg, (1280, 720), (352, 198)),
        (500, 300, ImageFormat::Jpeg, (500, 300), (330, 198)),
        (100, 80, ImageFormat::Png, (100, 80), (100, 80)),
        (400, 300, ImageFormat::Gif, (400, 300), (264, 198)),
    ];
    let mut all_uuids = HashSet::new();
    for (w, h, format, large, thumb) in cases {
        let bytes = make_image(w, h, format);
        let name = format!("{w}x{h}.{}", format.extensions_str()[0]);
        let path = dir.path().join(&name);
        std::fs::write(&path, &bytes).unwrap();
        let up = alice.upload(&path, FileKind::Image, &name, &|_| {}).await.unwrap();

        assert_eq!((up.kind, up.size, up.name.as_str()), (FileKind::Image, bytes.len() as u64, name.as_str()));
        assert_eq!(up.url, format!("/v1/files/{}", up.uuid));
        let kinds: Vec<_> = up.variants.iter().map(|v| v.kind).collect();
        assert_eq!(kinds, [ImageVariantKind::Origin, ImageVariantKind::Large, ImageVariantKind::Thumb]);
        let origin = &up.variants[0];
        assert_eq!((origin.uuid.as_str(), origin.size), (up.uuid.as_str(), up.size), "origin is the upload");
        let expected = [(w, h), large, thumb];
        for (variant, (ew, eh)) in up.variants.iter().zip(expected) {
            assert_eq!((variant.width, variant.height), (ew, eh), "{name} {:?}", variant.kind);
            assert_eq!(variant.url, format!("/v1/files/{}", variant.uuid));
            assert!(all_uuids.insert(variant.uuid.clone()), "uuids are unique");
            let got = download_bytes(&alice, &variant.url, dir.path(), "variant").await.unwrap();
            assert_eq!(got.len() as u64, variant.size, "{name} {:?} size", variant.kind);
            assert_eq!(image::guess_format(&got).unwrap(), format, "variants keep the format");
            let decoded = image::load_from_memory(&got).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (ew, eh), "{name} {:?} pixels", variant.kind);
            if variant.kind == ImageVariantKind::Origin {
                assert_eq!(got, bytes, "the origin is the uploaded bytes");
            }
        }
    }
    assert_eq!(server.staged(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_image_as_image_is_6031_and_nothing_is_kept() {
    let server = TestServer::start().await;
    let alice = server.client("alice");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.png");
    std::fs::write(&path, b"this is text pretending to be a picture").unwrap();
    let e = alice.upload(&path, FileKind::Image, "notes.png", &|_| {}).await.unwrap_err();
    assert_eq!(e.code, code::IMAGE_UPLOAD_FAILED_NOTIMAGE, "{e}");
    // A truncated PNG: right magic number, broken data.
    let mut png = make_image(300, 300, ImageFormat::Png);
    png.truncate(png.len() / 2);
    std::fs::write(&path, &png).unwrap();
    let e = alice.upload(&path, FileKind::Image, "half.png", &|_| {}).await.unwrap_err();
    assert_eq!(e.code, code::IMAGE_UPLOAD_FAILED_NOTIMAGE, "{e}");
    assert!(server.stored().is_empty(), "refused images leave nothing: {:?}", server.stored());
    assert_eq!(server.staged(), 0);
    // The same bytes are a fine *file*.
    let up = alice.upload(&path, FileKind::File, "half.png", &|_| {}).await.unwrap();
    assert!(up.variants.is_empty());
}

// ---- progress and content ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_and_download_report_progress_and_keep_the_bytes() {
    let server = TestServer::start().await;
    let alice = server.client("alice");
    let dir = tempfile::tempdir().unwrap();
    for (len, seed) in [(5 * MB as usize + 12_345, 7), (10, 8)] {
        let bytes = noise(len, seed);
        let path = dir.path().join("clip.mp4");
        std::fs::write(&path, &bytes).unwrap();

        let ups = Mutex::new(Vec::new());
        let up = alice.upload(&path, FileKind::Video, "clip.mp4", &|p| ups.lock().unwrap().push(p)).await.unwrap();
        let ups = ups.into_inner().unwrap();
        assert_eq!(up.size, len as u64);
        assert_eq!(ups.first(), Some(&0), "{ups:?}");
        assert_eq!(ups.last(), Some(&100), "{ups:?}");
        assert!(ups.windows(2).all(|w| w[0] < w[1]), "upload progress increases: {ups:?}");
        assert_eq!(ups.iter().filter(|p| **p == 100).count(), 1);
        if len > MB as usize {
            // Steps between 0 and 100; how many depends on scheduling (progress is a watch
            // channel: a loaded machine coalesces steps), so at least one.
            assert!(ups.len() >= 3, "a 5 MB upload reports steps in between: {ups:?}");
        }

        let downs = Mutex::new(Vec::new());
        let dest = dir.path().join("out/clip-copy.mp4");
        alice.download(&up.url, &dest, &|c, t| downs.lock().unwrap().push((c, t))).await.unwrap();
        let downs = downs.into_inner().unwrap();
        assert_eq!(downs.last(), Some(&(len as u64, len as u64)), "download ends with current == total");
        assert!(downs.iter().all(|(_, t)| *t == len as u64), "total is known from the start");
        assert!(downs.windows(2).all(|w| w[0].0 < w[1].0), "download progress increases");
        if len > MB as usize {
            assert!(downs.len() > 10, "a 5 MB download reports steps in between");
        }
        assert!(std::fs::read(&dest).unwrap() == bytes, "downloaded bytes equal the uploaded ones");
        let leftovers: Vec<_> =
            std::fs::read_dir(dest.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, ["clip-copy.mp4"], "no temporary file is left next to the destination");

        // The absolute form of the URL works too.
        let abs = format!("{}{}", server.base(), up.url);
        assert!(download_bytes(&alice, &abs, dir.path(), "abs").await.unwrap() == bytes);
    }
}

// ---- limits --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_refuses_bad_files_before_uploading() {
    let server = TestServer::start().await;
    let alice = server.client("alice");
    let dir = tempfile::tempdir().unwrap();
    let calls = Mutex::new(Vec::new());
    let progress = |p: u32| calls.lock().unwrap().push(p);

    // One byte over the image limit (a sparse file: nothing is really written).
    let big = dir.path().join("big.jpg");
    std::fs::File::create(&big).unwrap().set_len(28 * MB + 1).unwrap();
    let e = alice.upload(&big, FileKind::Image, "big.jpg", &progress).await.unwrap_err();
    assert_eq!(e.code, code::SDK_COMM_FILE_TOO_LARGE, "{e}");
    let video = dir.path().join("big.mp4");
    std::fs::File::create(&video).unwrap().set_len(100 * MB + 1).unwrap();
    let e = alice.upload(&video, FileKind::Video, "big.mp4", &progress).await.unwrap_err();
    assert_eq!(e.code, code::SDK_COMM_FILE_TOO_LARGE, "{e}");

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    let e = alice.upload(&empty, FileKind::File, "empty.txt", &progress).await.unwrap_err();
    assert_eq!(e.code, code::SDK_COMM_FILE_SIZE_EMPTY, "{e}");

    let e = alice.upload(&dir.path().join("nope.m4a"), FileKind::Sound, "nope.m4a", &progress).await.unwrap_err();
    assert_eq!(e.code, code::SDK_COMM_FILE_NOT_FOUND, "{e}");

    assert!(calls.lock().unwrap().is_empty(), "nothing was sent: {:?}", calls.lock().unwrap());
    assert!(server.stored().is_empty());
    assert_eq!(server.staged(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_refuses_oversized_bodies_from_raw_clients() {
    let server = TestServer::start().await;
    let auth = server.auth_headers("alice", &server.sig("alice"));

    // Content-Length over the limit: refused from the headers alone, before any body is sent.
    for (kind, limit) in [("video", 100 * MB), ("file", 100 * MB), ("image", 28 * MB), ("sound", 28 * MB)] {
        let head = format!("POST /v1/files?kind={kind}&name=x.bin HTTP/1.1\r\n{auth}Content-Length: {}\r\n", limit + 1);
        let (status, body) = raw(server.addr, &head, b"").await;
        assert_eq!(
            (status, body["code"].as_i64()),
            (413, Some(code::SDK_COMM_FILE_TOO_LARGE as i64)),
            "{kind}: {body}"
        );
    }
    // An empty body.
    let head = format!("POST /v1/files?kind=file&name=x.bin HTTP/1.1\r\n{auth}Content-Length: 0\r\n");
    let (status, body) = raw(server.addr, &head, b"").await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(code::SDK_COMM_FILE_SIZE_EMPTY as i64)), "{body}");
    let head = format!("POST /v1/files?kind=file&name=x.bin HTTP/1.1\r\n{auth}Transfer-Encoding: chunked\r\n");
    let (status, body) = raw(server.addr, &head, b"0\r\n\r\n").await;
    assert_eq!((status, body["code"].as_i64()), (400, Some(code::SDK_COMM_FILE_SIZE_EMPTY as i64)), "{body}");
    assert!(server.stored().is_empty());
}

/// A chunked body has no Content-Length: the server counts while streaming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_counts_streamed_bodies_against_the_limit() {
    let limit = 64 * 1024;
    let limits = MediaLimits { file: limit, ..MediaLimits::default() };
    let server = TestServer::start_with(limits, Arc::new(AllowOwnerOnly)).await;
    let auth = server.auth_headers("alice", &server.sig("alice"));
    let head = format!("POST /v1/files?kind=file&name=x.bin HTTP/1.1\r\n{auth}Transfer-Encoding: chunked\r\n");
    let chunked = |sizes: &[usize], finish: bool| {
        let mut body = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            body.extend_from_slice(format!("{size:x}\r\n").as_bytes());
            body.extend_from_slice(&noise(*size, i as u64 + 1));
            body.extend_from_slice(b"\r\n");
        }
        if finish {
            body.extend_from_slice(b"0\r\n\r\n");
        }
        body
    };

    // One byte over, in several chunks; the last chunk is never announced as the end: the
    // server refuses as soon as it has counted past the limit.
    let over = chunked(&[16 * 1024, 16 * 1024, 16 * 1024, 16 * 1024, 1], false);
    let (status, body) = raw(server.addr, &head, &over).await;
    assert_eq!((status, body["code"].as_i64()), (413, Some(code::SDK_COMM_FILE_TOO_LARGE as i64)), "{body}");
    assert!(server.stored().is_empty(), "nothing kept of a refused upload");
    assert_eq!(server.staged(), 0, "the partial upload was deleted");

    // Exactly at the limit is accepted, and reads back whole.
    let (status, body) = raw(server.addr, &head, &chunked(&[32 * 1024, 32 * 1024], true)).await;
    assert_eq!(status, 200, "{body}");
    let up: UploadedFile = serde_json::from_value(body).unwrap();
    assert_eq!(up.size, limit);
    let mut expected = noise(32 * 1024, 1);
    expected.extend(noise(32 * 1024, 2));
    let dir = tempfile::tempdir().unwrap();
    assert!(download_bytes(&server.client("alice"), &up.url, dir.path(), "f").await.unwrap() == expected);
    assert_eq!(server.stored().len(), 2, "the file and its description");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kind_and_name_are_checked() {
    let server = TestServer::start().await;
    let auth = server.auth_headers("alice", &server.sig("alice"));
    for query in
        ["kind=picture&name=a.png", "name=a.png", "kind=file", "kind=file&name=", "kind=file&name=..%2Fetc%2Fpasswd"]
    {
        let head = format!("POST /v1/files?{query} HTTP/1.1\r\n{auth}Content-Length: 0\r\n");
        let (status, body) = raw(server.addr, &head, b"").await;
        assert_eq!((status, body["code"].as_i64()), (400, Some(code::INVALID_PARAMETERS as i64)), "{query}: {body}");
    }
    // A URL-encoded non-ASCII name arrives intact.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, b"%PDF-1.4").unwrap();
    let up = server.client("alice").upload(&path, FileKind::File, "报告 & notes #1.pdf", &|_| {}).await.unwrap();
    assert_eq!(up.name, "报告 & notes #1.pdf");
}

// ---- authentication and access ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_downloads_need_a_valid_usersig() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    std::fs::write(&path, b"hello").unwrap();
    // Refused requests carry no body: the server answers before reading one, and unread bytes
    // would make the closing socket reset the connection under the answer.
    let upload_head =
        |extra: &str| format!("POST /v1/files?kind=file&name=a.txt HTTP/1.1\r\n{extra}Content-Length: 0\r\n");

    // No credentials at all.
    let (status, body) = raw(server.addr, &upload_head(""), b"").await;
    assert_eq!((status, body["code"].as_i64()), (401, Some(code::FILE_TRANS_AUTH_FAILED as i64)), "{body}");

    // Forged: signed with another secret key.
    let forged = UserSigKey::new(APP, "not-the-secret").sign("alice", now(), 3600);
    let (status, body) = raw(server.addr, &upload_head(&server.auth_headers("alice", &forged)), b"").await;
    assert_eq!((status, body["code"].as_i64()), (401, Some(code::USERSIG_VERIFY_FAILED as i64)), "{body}");
    let e = MediaClient::new(&server.base(), APP, "alice", &forged)
        .unwrap()
        .upload(&path, FileKind::File, "a.txt", &|_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code, code::USERSIG_VERIFY_FAILED, "{e}");

    // Expired.
    let expired = server.key.sign("alice", now() - 7200, 3600);
    let (status, body) = raw(server.addr, &upload_head(&server.auth_headers("alice", &expired)), b"").await;
    assert_eq!((status, body["code"].as_i64()), (401, Some(code::USERSIG_EXPIRED as i64)), "{body}");
    let stale = MediaClient::new(&server.base(), APP, "alice", &expired).unwrap();
    let e = stale.upload(&path, FileKind::File, "a.txt", &|_| {}).await.unwrap_err();
    assert_eq!(e.code, code::USERSIG_EXPIRED, "{e}");

    // Bob's UserSig presented as Alice's; and another SDKAppID.
    let (status, body) = raw(server.addr, &upload_head(&server.auth_headers("alice", &server.sig("bob"))), b"").await;
    assert_eq!((status, body["code"].as_i64()), (401, Some(code::USERSIG_IDENTIFIER_MISMATCH as i64)), "{body}");
    let other_app =
        format!("x-oxim-sdkappid: {}\r\nx-oxim-user: alice\r\nx-oxim-usersig: {}\r\n", APP + 1, server.sig("alice"));
    let (status, body) = raw(server.addr, &upload_head(&other_app), b"").await;
    assert_eq!((status, body["code"].as_i64()), (401, Some(code::SDKAPPID_NOT_FOUND as i64)), "{body}");
    assert!(server.stored().is_empty(), "no refused upload was stored");

    // Downloads: a real file, fetched without / with bad credentials.
    let up = server.client("alice").upload(&path, FileKind::File, "a.txt", &|_| {}).await.unwrap();
    let (status, body) = raw(server.addr, &format!("GET {} HTTP/1.1\r\n", up.url), b"").await;
    assert_eq!((status, body["code"].as_i64()), (401, Some(code::FILE_TRANS_AUTH_FAILED as i64)), "{body}");
    let e = download_bytes(&stale, &up.url, dir.path(), "x").await.unwrap_err();
    assert_eq!(e.code, code::USERSIG_EXPIRED, "{e}");
    assert!(!dir.path().join("x").exists(), "a refused download creates no file");

    // A renewed UserSig works on the same client.
    stale.set_user_sig(&server.sig("alice"));
    assert_eq!(download_bytes(&stale, &up.url, dir.path(), "x").await.unwrap(), b"hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allowed_users_download() {
    let server = TestServer::start().await;
    let (alice, bob) = (server.client("alice"), server.client("bob"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.png");
    std::fs::write(&path, make_image(800, 600, ImageFormat::Png)).unwrap();
    let up = alice.upload(&path, FileKind::Image, "p.png", &|_| {}).await.unwrap();

    for variant in &up.variants {
        let e = download_bytes(&bob, &variant.url, dir.path(), "stolen").await.unwrap_err();
        assert_eq!(e.code, code::FILE_TRANS_AUTH_FAILED, "bob reads {:?}: {e}", variant.kind);
        assert_eq!(download_bytes(&alice, &variant.url, dir.path(), "mine").await.unwrap().len() as u64, variant.size);
    }
    assert!(!dir.path().join("stolen").exists());
    let auth = server.auth_headers("bob", &server.sig("bob"));
    let (status, body) = raw(server.addr, &format!("GET {} HTTP/1.1\r\n{auth}", up.url), b"").await;
    assert_eq!((status, body["code"].as_i64()), (403, Some(code::FILE_TRANS_AUTH_FAILED as i64)), "{body}");

    // Unknown files: a well-formed uuid nobody uploaded, and garbage.
    for url in ["/v1/files/0123456789abcdef0123456789abcdef", "/v1/files/..%2F..%2Fetc%2Fpasswd", "/v1/files/ABC"] {
        let e = download_bytes(&alice, url, dir.path(), "none").await.unwrap_err();
        assert_eq!(e.code, code::SDK_COMM_FILE_NOT_FOUND, "{url}: {e}");
    }
}

/// A [`FileAccess`] like the message layer's: alice's files are readable by those she sent
/// them to. Records what it was asked.
#[derive(Default)]
struct SharedWith {
    grants: Mutex<HashSet<(String, String)>>,
    asked: Mutex<Vec<(String, String, String)>>,
}

#[async_trait]
impl FileAccess for SharedWith {
    async fn may_read(&self, user: &str, uuid: &str, owner: &str) -> bool {
        self.asked.lock().unwrap().push((user.into(), uuid.into(), owner.into()));
        user == owner || self.grants.lock().unwrap().contains(&(user.to_owned(), uuid.to_owned()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_follow_the_access_of_their_original() {
    let access = Arc::new(SharedWith::default());
    let server = TestServer::start_with(MediaLimits::default(), access.clone()).await;
    let (alice, bob, carol) = (server.client("alice"), server.client("bob"), server.client("carol"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.jpg");
    std::fs::write(&path, make_image(1200, 800, ImageFormat::Jpeg)).unwrap();
    let up = alice.upload(&path, FileKind::Image, "p.jpg", &|_| {}).await.unwrap();
    access.grants.lock().unwrap().insert(("bob".into(), up.uuid.clone()));

    for variant in &up.variants {
        let got = download_bytes(&bob, &variant.url, dir.path(), "v").await.unwrap();
        assert_eq!(got.len() as u64, variant.size, "bob received the message: he reads {:?}", variant.kind);
        let e = download_bytes(&carol, &variant.url, dir.path(), "v").await.unwrap_err();
        assert_eq!(e.code, code::FILE_TRANS_AUTH_FAILED, "carol did not: {e}");
    }
    // Every check was made against the original's uuid and owner.
    let asked = access.asked.lock().unwrap();
    assert_eq!(asked.len(), 6);
    assert!(asked.iter().all(|(_, uuid, owner)| *uuid == up.uuid && owner == "alice"), "{asked:?}");
}

/// A server refusing an upload early closes the connection under the body being sent, and the
/// client may lose the answer; the SDK then asks the server why, and reports the real reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_refused_early_reports_the_servers_reason() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.mp4");
    std::fs::write(&path, noise(40 * MB as usize, 3)).unwrap();
    let expired = server.key.sign("alice", now() - 7200, 3600);
    let stale = MediaClient::new(&server.base(), APP, "alice", &expired).unwrap();
    for _ in 0..5 {
        let e = stale.upload(&path, FileKind::Video, "big.mp4", &|_| {}).await.unwrap_err();
        assert_eq!(e.code, code::USERSIG_EXPIRED, "{e}");
    }
    assert!(server.stored().is_empty());

    // The check route itself.
    let auth = server.auth_headers("alice", &server.sig("alice"));
    let check = |query: &str| format!("GET /v1/files/check?{query} HTTP/1.1\r\n{auth}");
    let (status, _) = raw(server.addr, &check("kind=video&name=a.mp4&size=1000"), b"").await;
    assert_eq!(status, 204);
    for (query, status, want) in [
        ("kind=video&name=a.mp4&size=104857601", 413, code::SDK_COMM_FILE_TOO_LARGE),
        ("kind=image&name=a.png&size=0", 400, code::SDK_COMM_FILE_SIZE_EMPTY),
        ("kind=image&name=a.png", 400, code::INVALID_PARAMETERS),
        ("kind=gif&name=a.png&size=1", 400, code::INVALID_PARAMETERS),
    ] {
        let (got, body) = raw(server.addr, &check(query), b"").await;
        assert_eq!((got, body["code"].as_i64()), (status, Some(want as i64)), "{query}: {body}");
    }
    let (status, body) = raw(server.addr, "GET /v1/files/check?kind=video&name=a.mp4&size=1 HTTP/1.1\r\n", b"").await;
    assert_eq!((status, body["code"].as_i64()), (401, Some(code::FILE_TRANS_AUTH_FAILED as i64)), "{body}");
}

/// A client that announces a body and stops sending (slow loris) holds its upload only until
/// the stall timeout; while uploads are at their cap, another is refused at once.
#[tokio::test]
async fn a_stalled_upload_times_out_and_uploads_beyond_the_cap_are_refused() {
    let uploads = UploadLimits { concurrent: 1, per_user: 1, stall: Duration::from_secs(2), ..UploadLimits::default() };
    let server = TestServer::start_full(MediaLimits::default(), Arc::new(AllowOwnerOnly), uploads).await;
    let auth = server.auth_headers("alice", &server.sig("alice"));
    let started = std::time::Instant::now();
    let mut loris = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /v1/files?kind=file&name=slow.bin HTTP/1.1\r\n{auth}Host: {}\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n",
        server.addr
    );
    loris.write_all(head.as_bytes()).await.unwrap();
    loris.write_all(&[7u8; 10]).await.unwrap();

    // The stalled upload holds the only place: another is refused at once with 503 / 6008.
    let small = format!("POST /v1/files?kind=file&name=x.bin HTTP/1.1\r\n{auth}Content-Length: 5\r\n");
    let refused = loop {
        let (status, body) = raw(server.addr, &small, b"hello").await;
        if status == 503 {
            break body;
        }
        assert!(started.elapsed() < Duration::from_millis(1500), "never refused: {status} {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(refused["code"], code::FILE_TRANS_UPLOAD_FAILED);

    // The stalled one ends with 408 / 6008 after the stall timeout; nothing of it is kept.
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), loris.read_to_end(&mut response)).await.expect("answered").unwrap();
    let (status, body) = parse_response(&response);
    assert_eq!((status, body["code"].as_i64()), (408, Some(code::FILE_TRANS_UPLOAD_FAILED as i64)), "{body}");
    assert!(started.elapsed() >= Duration::from_secs(2), "not before the stall timeout");
    assert_eq!(server.staged(), 0, "the partial upload was deleted");
    // The place is free again.
    let (status, body) = raw(server.addr, &small, b"hello").await;
    assert_eq!(status, 200, "{body}");
}

/// One user's uploads beyond their share are refused while theirs run; other users still upload.
#[tokio::test]
async fn one_users_slow_uploads_cannot_take_every_place() {
    let uploads =
        UploadLimits { concurrent: 8, per_user: 2, stall: Duration::from_secs(30), ..UploadLimits::default() };
    let server = TestServer::start_full(MediaLimits::default(), Arc::new(AllowOwnerOnly), uploads).await;
    let alice = server.auth_headers("alice", &server.sig("alice"));
    // Two uploads of alice's that send a little and then nothing more (within the stall timeout).
    let mut lorises = Vec::new();
    for i in 0..2 {
        let mut loris = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST /v1/files?kind=file&name=slow{i}.bin HTTP/1.1\r\n{alice}Host: {}\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n",
            server.addr
        );
        loris.write_all(head.as_bytes()).await.unwrap();
        loris.write_all(&[7u8; 10]).await.unwrap();
        lorises.push(loris);
    }
    let small = |auth: &str| format!("POST /v1/files?kind=file&name=x.bin HTTP/1.1\r\n{auth}Content-Length: 5\r\n");
    let started = std::time::Instant::now();
    let refused = loop {
        let (status, body) = raw(server.addr, &small(&alice), b"hello").await;
        if status == 503 {
            break body;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "alice's third upload never refused: {status} {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(refused["code"], code::FILE_TRANS_UPLOAD_FAILED);
    // Bob is not held up by alice's uploads.
    let bob = server.auth_headers("bob", &server.sig("bob"));
    let (status, body) = raw(server.addr, &small(&bob), b"hello").await;
    assert_eq!(status, 200, "{body}");
    // Alice's place comes back when one of hers ends.
    drop(lorises.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = raw(server.addr, &small(&alice), b"hello").await;
        if status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "alice's place never came back: {status} {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends an upload of `total` bytes in pieces of `piece` bytes every `every`, on a raw socket,
/// until the server answers; returns the answer and how many bytes went out before it.
async fn trickle(server: &TestServer, total: usize, piece: usize, every: Duration) -> ((u16, Value), usize) {
    let auth = server.auth_headers("alice", &server.sig("alice"));
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut read, mut write) = tcp.into_split();
    let head = format!(
        "POST /v1/files?kind=file&name=trickle.bin HTTP/1.1\r\n{auth}Host: {}\r\nConnection: close\r\nContent-Length: {total}\r\n\r\n",
        server.addr
    );
    write.write_all(head.as_bytes()).await.unwrap();
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = sent.clone();
    let sender = tokio::spawn(async move {
        let mut done = 0;
        while done < total {
            let n = piece.min(total - done);
            if write.write_all(&vec![7u8; n]).await.is_err() {
                break;
            }
            done += n;
            counted.store(done, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(every).await;
        }
    });
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), read.read_to_end(&mut response)).await.expect("answered").unwrap();
    sender.abort();
    (parse_response(&response), sent.load(std::sync::atomic::Ordering::Relaxed))
}

/// An upload that keeps sending, but on average under the floor after the grace period, is
/// closed as a stalled one is (408 / 6008), before the stall timeout could catch it; one above
/// the floor (slow at first, or steady) is not.
#[tokio::test]
async fn an_upload_under_the_minimum_rate_after_the_grace_period_is_closed() {
    let uploads = UploadLimits {
        stall: Duration::from_secs(30),
        min_bytes_per_sec: 1024,
        grace: Duration::from_secs(1),
        ..UploadLimits::default()
    };
    let server = TestServer::start_full(MediaLimits::default(), Arc::new(AllowOwnerOnly), uploads).await;
    let started = std::time::Instant::now();
    // 50 bytes every 100 ms: at most 500 bytes/s, each piece well within the stall timeout.
    let ((status, body), sent) = trickle(&server, 100_000, 50, Duration::from_millis(100)).await;
    assert_eq!((status, body["code"].as_i64()), (408, Some(code::FILE_TRANS_UPLOAD_FAILED as i64)), "{body}");
    assert!(body["desc"].as_str().unwrap_or_default().contains("too slow"), "{body}");
    assert!(sent < 100_000, "closed before the end");
    assert!(started.elapsed() < Duration::from_secs(15), "long before the stall timeout");
    assert_eq!(server.staged(), 0, "the partial upload was deleted");

    // 6 KiB every 500 ms (12 KiB/s): above the floor throughout; it is stored whole.
    let ((status, body), _) = trickle(&server, 30 * 1024, 6 * 1024, Duration::from_millis(500)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["size"].as_u64(), Some(30 * 1024));
}
