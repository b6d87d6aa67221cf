//! Media files over HTTP: uploading the files of image, sound, video and file messages to
//! oxim-server and downloading them, with progress.
//!
//! [`MediaClient`] talks to the server's `POST /v1/files` and `GET /v1/files/<uuid>`
//! (`docs/protocol.md`, "Files") with the user's UserSig in headers. Files stream from and to
//! disk; nothing reads a 100 MB video into memory. A file that cannot be sent (missing, empty,
//! over its kind's limit, unreadable) is refused before anything goes over the network, with
//! V2TIM's codes (7004, 7006, 7005, 7007).
//!
//! TLS: rustls with the `ring` provider and the Mozilla root store (`webpki-roots`), the same
//! choices as the WebSocket transport; handed to reqwest preconfigured, so nothing depends on a
//! process-wide crypto provider or on platform certificate APIs that need set-up on Android.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use oxim_proto::code;
use oxim_proto::media::{
    FILES_PATH, FileKind, HEADER_SDK_APP_ID, HEADER_USER, HEADER_USER_SIG, MediaError, UploadedFile,
};
use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{Error, Result};

/// How long connecting to the server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a transfer may make no progress (no byte sent or received, no answer) before it
/// fails. There is no limit on the total time: a large file on a slow network takes as long
/// as it takes.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Size of the chunks a file is read and sent in.
const CHUNK: usize = 64 * 1024;
/// Longest file name the server accepts, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// The HTTP base URL of the server whose WebSocket URL is `ws_url`:
/// `ws://h:p/v1/ws` → `http://h:p`, `wss://…` → `https://…`. An `http(s)://` URL keeps its
/// scheme; a URL without a scheme is taken as `http`. The path, query and fragment are dropped.
pub fn http_base_from_ws_url(ws_url: &str) -> String {
    let ws_url = ws_url.trim();
    let (scheme, rest) = match ws_url.split_once("://") {
        Some((s, rest)) => {
            let scheme = match s.to_ascii_lowercase().as_str() {
                "ws" | "http" => "http",
                "wss" | "https" => "https",
                _ => return ws_url.trim_end_matches('/').to_owned(),
            };
            (scheme, rest)
        }
        None => ("http", ws_url),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{scheme}://{authority}")
}

/// The text of an error and of its causes (reqwest's own message is often just "error sending
/// request").
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The error of a refused request: the server's code from its [`MediaError`] body, or
/// `fallback` when the body is not one.
fn server_error(status: reqwest::StatusCode, body: &[u8], fallback: i32) -> Error {
    match serde_json::from_slice::<MediaError>(body) {
        Ok(e) => Error::new(e.code, e.desc),
        Err(_) => Error::new(fallback, format!("the server answered HTTP {status}")),
    }
}

/// Uploads and downloads files for one user.
pub struct MediaClient {
    base: Url,
    sdk_app_id: u64,
    user_id: String,
    user_sig: RwLock<String>,
    http: reqwest::Client,
    stall_timeout: Duration,
}

impl std::fmt::Debug for MediaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaClient")
            .field("base", &self.base.as_str())
            .field("sdk_app_id", &self.sdk_app_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl MediaClient {
    /// A client for the server at `http_base` (e.g. `http://127.0.0.1:8080`; see
    /// [`http_base_from_ws_url`]) acting as `user_id` with `user_sig`. 6017 if the URL is not
    /// `http(s)://host[:port]`.
    pub fn new(http_base: &str, sdk_app_id: u64, user_id: &str, user_sig: &str) -> Result<MediaClient> {
        MediaClient::with_tls(http_base, sdk_app_id, user_id, user_sig, crate::tls::client_config("")?)
    }

    /// [`MediaClient::new`] with a TLS configuration of its own ([`crate::tls::client_config`]:
    /// the SDK's, trusting the app's certificate authorities).
    pub fn with_tls(
        http_base: &str,
        sdk_app_id: u64,
        user_id: &str,
        user_sig: &str,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<MediaClient> {
        let base = Url::parse(http_base.trim_end_matches('/'))
            .map_err(|e| Error::invalid(format!("bad server URL {http_base:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(Error::invalid(format!("bad server URL {http_base:?}: expected http(s)://host[:port]")));
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(rustls::ClientConfig::clone(&tls))
            .connect_timeout(CONNECT_TIMEOUT)
            // The UserSig travels in headers: never follow a redirect to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::new(code::SDK_INTERNAL_ERROR, format!("HTTP client set-up: {}", describe(&e))))?;
        Ok(MediaClient {
            base,
            sdk_app_id,
            user_id: user_id.to_owned(),
            user_sig: RwLock::new(user_sig.to_owned()),
            http,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
        })
    }

    /// The same client with another stall timeout (default [`DEFAULT_STALL_TIMEOUT`]): how long
    /// a transfer may make no progress before it fails with 6008 / 6009.
    pub fn with_stall_timeout(mut self, stall_timeout: Duration) -> MediaClient {
        self.stall_timeout = stall_timeout;
        self
    }

    /// Replaces the UserSig (after the app renewed it).
    pub fn set_user_sig(&self, user_sig: &str) {
        *self.user_sig.write().expect("user_sig lock") = user_sig.to_owned();
    }

    /// The server's HTTP base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let sig = self.user_sig.read().expect("user_sig lock").clone();
        request
            .header(HEADER_SDK_APP_ID, self.sdk_app_id.to_string())
            .header(HEADER_USER, &self.user_id)
            .header(HEADER_USER_SIG, sig)
    }

    /// Uploads the file at `path` as `kind` under the file name `name`.
    ///
    /// Before anything is sent: 7004 if the file does not exist, 7007 if it cannot be opened (or
    /// is not a regular file), 7006 if it is empty, 7005 if it is over `kind.max_bytes()`, 6017
    /// for an unusable name. Then the file streams to the server; `progress` gets percentages,
    /// from 0, increasing, ending with exactly 100 once the server has accepted the file (never
    /// 100 on failure). Server refusals carry the server's code (e.g. 6031 for an image that is
    /// not one, 70001 for an expired UserSig); a network failure is 6008.
    pub async fn upload(
        &self,
        path: &Path,
        kind: FileKind,
        name: &str,
        progress: &(dyn Fn(u32) + Send + Sync),
    ) -> Result<UploadedFile> {
        let len = check_local_file(path, kind).await?;
        if name.is_empty()
            || name.len() > MAX_NAME_BYTES
            || name.chars().any(|c| c.is_control() || c == '/' || c == '\\')
        {
            return Err(Error::invalid(format!("bad file name {name:?}")));
        }
        let file = tokio::fs::File::open(path).await.map_err(|e| open_failed(path, &e))?;

        // The body stream counts what it hands to the connection; the loop below turns the count
        // into percentages (the callback cannot move into the 'static body).
        let (sent_tx, mut sent_rx) = tokio::sync::watch::channel(0u64);
        let chunks = futures_util::stream::try_unfold((file.take(len), sent_tx), |(mut file, sent)| async move {
            let mut buf = vec![0u8; CHUNK];
            let n = file.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(None);
            }
            buf.truncate(n);
            sent.send_modify(|total| *total += n as u64);
            Ok(Some((buf, (file, sent))))
        });

        let mut url = self.base.join(FILES_PATH).map_err(|e| Error::invalid(e.to_string()))?;
        url.query_pairs_mut().append_pair("kind", kind.as_str()).append_pair("name", name);
        let request = self
            .authorized(self.http.post(url))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(reqwest::Body::wrap_stream(chunks));

        let failed = |e: reqwest::Error| {
            Error::new(code::FILE_TRANS_UPLOAD_FAILED, format!("uploading {}: {}", path.display(), describe(&e)))
        };
        let stalled = || {
            Error::new(
                code::FILE_TRANS_UPLOAD_FAILED,
                format!("uploading {}: no progress for {:?}", path.display(), self.stall_timeout),
            )
        };

        progress(0);
        let mut reported = 0u32;
        let mut body_done = false;
        let send = request.send();
        tokio::pin!(send);
        // Fires when nothing moved for the stall timeout; re-armed by every chunk sent. After the
        // last chunk it bounds the wait for the answer.
        let stall = tokio::time::sleep(self.stall_timeout);
        tokio::pin!(stall);
        let response = loop {
            tokio::select! {
                response = &mut send => match response {
                    Ok(response) => break response,
                    Err(e) => return Err(self.why_refused(kind, name, len).await.unwrap_or_else(|| failed(e))),
                },
                changed = sent_rx.changed(), if !body_done => {
                    stall.as_mut().reset(tokio::time::Instant::now() + self.stall_timeout);
                    if changed.is_err() {
                        body_done = true; // the whole file is handed over; wait for the answer
                        continue;
                    }
                    let sent = *sent_rx.borrow_and_update();
                    let percent = (sent.saturating_mul(100) / len).min(99) as u32;
                    if percent > reported {
                        reported = percent;
                        progress(percent);
                    }
                }
                () = &mut stall => return Err(stalled()),
            }
        };
        let status = response.status();
        let body = match tokio::time::timeout(self.stall_timeout, response.bytes()).await {
            Ok(body) => body.map_err(failed)?,
            Err(_) => return Err(stalled()),
        };
        if !status.is_success() {
            return Err(server_error(status, &body, code::FILE_TRANS_UPLOAD_FAILED));
        }
        let uploaded: UploadedFile = serde_json::from_slice(&body)
            .map_err(|e| Error::new(code::PARSE_RESPONSE_FAILED, format!("upload answer: {e}")))?;
        progress(100);
        Ok(uploaded)
    }

    /// After an upload failed on the network: asks the server whether it would refuse this upload
    /// (`GET /v1/files/check`), and if so, the error it would give. A server that refuses early
    /// (e.g. an expired UserSig) closes the connection while the body is still being sent, which
    /// can lose its answer.
    async fn why_refused(&self, kind: FileKind, name: &str, len: u64) -> Option<Error> {
        let mut url = self.base.join(&format!("{FILES_PATH}/check")).ok()?;
        url.query_pairs_mut()
            .append_pair("kind", kind.as_str())
            .append_pair("name", name)
            .append_pair("size", &len.to_string());
        let response =
            tokio::time::timeout(self.stall_timeout, self.authorized(self.http.get(url)).send()).await.ok()?.ok()?;
        let status = response.status();
        if status.is_success() {
            return None;
        }
        let body = tokio::time::timeout(self.stall_timeout, response.bytes()).await.ok()?.ok()?;
        let e: MediaError = serde_json::from_slice(&body).ok()?;
        Some(Error::new(e.code, e.desc))
    }

    /// Downloads `url` (the server's relative `/v1/files/<uuid>`, or an absolute URL) to `dest`.
    ///
    /// The bytes stream to a temporary file next to `dest`, which is renamed to `dest` when
    /// complete (so `dest` never holds a partial file). `progress(current, total)` follows each
    /// chunk and ends with `current == total`. Refusals carry the server's code (6006 not
    /// allowed, 7004 no such file); a network failure or a truncated body is 6009, a local file
    /// error 6022. Credentials are sent only to this client's server, never to another host an
    /// absolute URL names.
    pub async fn download(&self, url: &str, dest: &Path, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<()> {
        let (url, same_origin) = self.resolve(url)?;
        let mut request = self.http.get(url.clone());
        if same_origin {
            request = self.authorized(request);
        }
        let failed = |e: reqwest::Error| {
            Error::new(code::FILE_TRANS_DOWNLOAD_FAILED, format!("downloading {url}: {}", describe(&e)))
        };
        let stalled = || {
            Error::new(
                code::FILE_TRANS_DOWNLOAD_FAILED,
                format!("downloading {url}: no progress for {:?}", self.stall_timeout),
            )
        };
        let response =
            tokio::time::timeout(self.stall_timeout, request.send()).await.map_err(|_| stalled())?.map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            let body = tokio::time::timeout(self.stall_timeout, response.bytes()).await.map_err(|_| stalled())?;
            return Err(server_error(status, &body.unwrap_or_default(), code::FILE_TRANS_DOWNLOAD_FAILED));
        }
        let total = response.content_length();

        let tmp = temp_path_for(dest)?;
        let io_failed = |what: &str, p: &Path, e: std::io::Error| {
            Error::new(code::IO_OPERATION_FAILED, format!("{what} {}: {e}", p.display()))
        };
        let mut file = tokio::fs::File::create(&tmp).await.map_err(|e| io_failed("cannot create", &tmp, e))?;
        let result: Result<()> = async {
            let mut stream = response.bytes_stream();
            let mut current = 0u64;
            let mut last_report = None;
            while let Some(chunk) =
                tokio::time::timeout(self.stall_timeout, stream.next()).await.map_err(|_| stalled())?
            {
                let chunk = chunk.map_err(failed)?;
                current += chunk.len() as u64;
                if total.is_some_and(|t| current > t) {
                    return Err(Error::new(
                        code::FILE_TRANS_DOWNLOAD_FAILED,
                        format!("{url}: more bytes than announced"),
                    ));
                }
                file.write_all(&chunk).await.map_err(|e| io_failed("cannot write", &tmp, e))?;
                let report = (current, total.unwrap_or(0));
                progress(report.0, report.1);
                last_report = Some(report);
            }
            if total.is_some_and(|t| current != t) {
                return Err(Error::new(
                    code::FILE_TRANS_DOWNLOAD_FAILED,
                    format!("{url}: the connection ended after {current} of {} bytes", total.unwrap_or(0)),
                ));
            }
            file.flush().await.map_err(|e| io_failed("cannot write", &tmp, e))?;
            file.sync_all().await.map_err(|e| io_failed("cannot write", &tmp, e))?;
            if last_report != Some((current, current)) {
                progress(current, current);
            }
            Ok(())
        }
        .await;
        drop(file);
        let result = match result {
            Ok(()) => tokio::fs::rename(&tmp, dest).await.map_err(|e| io_failed("cannot rename to", dest, e)),
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    /// The absolute URL of `url`, and whether it is on this client's server.
    fn resolve(&self, url: &str) -> Result<(Url, bool)> {
        if url.starts_with('/') {
            let joined = self.base.join(url).map_err(|e| Error::invalid(format!("bad file URL {url:?}: {e}")))?;
            return Ok((joined, true));
        }
        let parsed = Url::parse(url).map_err(|e| Error::invalid(format!("bad file URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::invalid(format!("bad file URL {url:?}: expected http(s)")));
        }
        let same = parsed.origin() == self.base.origin();
        Ok((parsed, same))
    }
}

fn open_failed(path: &Path, e: &std::io::Error) -> Error {
    Error::new(code::SDK_COMM_FILE_OPEN_FAILED, format!("cannot open {}: {e}", path.display()))
}

/// Checks that `path` can be uploaded as `kind`; returns its size.
async fn check_local_file(path: &Path, kind: FileKind) -> Result<u64> {
    let meta = match tokio::fs::metadata(path).await {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(code::SDK_COMM_FILE_NOT_FOUND, format!("no file {}", path.display())));
        }
        Err(e) => return Err(open_failed(path, &e)),
    };
    if !meta.is_file() {
        return Err(Error::new(code::SDK_COMM_FILE_OPEN_FAILED, format!("{} is not a regular file", path.display())));
    }
    let len = meta.len();
    if len == 0 {
        return Err(Error::new(code::SDK_COMM_FILE_SIZE_EMPTY, format!("{} is empty", path.display())));
    }
    if len > kind.max_bytes() {
        return Err(Error::new(
            code::SDK_COMM_FILE_TOO_LARGE,
            format!("{} has {len} bytes; a {kind} may have at most {}", path.display(), kind.max_bytes()),
        ));
    }
    Ok(len)
}

/// A fresh temporary path in `dest`'s directory (created if missing), hidden, ending `.part`.
fn temp_path_for(dest: &Path) -> Result<PathBuf> {
    let Some(file_name) = dest.file_name() else {
        return Err(Error::invalid(format!("bad download path {}", dest.display())));
    };
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::new(code::IO_OPERATION_FAILED, format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir.join(format!(".{}.{:016x}.part", file_name.to_string_lossy(), fastrand::u64(..))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_base_from_ws_urls() {
        assert_eq!(http_base_from_ws_url("ws://h:8080/v1/ws"), "http://h:8080");
        assert_eq!(http_base_from_ws_url("wss://im.example.com/v1/ws"), "https://im.example.com");
        assert_eq!(http_base_from_ws_url("WSS://im.example.com:443"), "https://im.example.com:443");
        assert_eq!(http_base_from_ws_url("ws://127.0.0.1:9/v1/ws?x=1"), "http://127.0.0.1:9");
        assert_eq!(http_base_from_ws_url("http://h:1/"), "http://h:1");
        assert_eq!(http_base_from_ws_url("h:1/v1/ws"), "http://h:1");
        assert_eq!(http_base_from_ws_url("ws://[::1]:8080/v1/ws"), "http://[::1]:8080");
    }

    #[test]
    fn client_urls() {
        assert_eq!(MediaClient::new("ftp://h", 1, "a", "s").unwrap_err().code, code::INVALID_PARAMETERS);
        assert_eq!(MediaClient::new("not a url", 1, "a", "s").unwrap_err().code, code::INVALID_PARAMETERS);
        // HTTPS needs the TLS set-up to work (no process-wide crypto provider installed).
        let c = MediaClient::new("https://im.example.com/", 1, "a", "s").unwrap();
        assert_eq!(c.base_url(), "https://im.example.com");
        let (u, same) = c.resolve("/v1/files/abc").unwrap();
        assert_eq!((u.as_str(), same), ("https://im.example.com/v1/files/abc", true));
        let (_, same) = c.resolve("https://im.example.com/v1/files/abc").unwrap();
        assert!(same);
        let (_, same) = c.resolve("https://cdn.example.net/abc").unwrap();
        assert!(!same, "credentials must not go to another host");
        let (_, same) = c.resolve("http://im.example.com/v1/files/abc").unwrap();
        assert!(!same, "nor over plain HTTP when the server is HTTPS");
        assert_eq!(c.resolve("v1/files/abc").unwrap_err().code, code::INVALID_PARAMETERS);
    }

    /// The local checks run before any network use: the server URL here has nothing listening,
    /// so reaching the network would give 6008 instead.
    #[tokio::test]
    async fn local_checks_come_before_the_network() {
        let dir = tempfile::tempdir().unwrap();
        let client = MediaClient::new("http://127.0.0.1:9", 1, "alice", "sig").unwrap();
        let calls = std::sync::Mutex::new(Vec::new());
        let progress = |p: u32| calls.lock().unwrap().push(p);

        let missing = dir.path().join("missing.png");
        let e = client.upload(&missing, FileKind::Image, "a.png", &progress).await.unwrap_err();
        assert_eq!(e.code, code::SDK_COMM_FILE_NOT_FOUND, "{e}");

        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, b"").unwrap();
        let e = client.upload(&empty, FileKind::File, "e.bin", &progress).await.unwrap_err();
        assert_eq!(e.code, code::SDK_COMM_FILE_SIZE_EMPTY, "{e}");

        let big = dir.path().join("big.m4a");
        std::fs::File::create(&big).unwrap().set_len(FileKind::Sound.max_bytes() + 1).unwrap();
        let e = client.upload(&big, FileKind::Sound, "big.m4a", &progress).await.unwrap_err();
        assert_eq!(e.code, code::SDK_COMM_FILE_TOO_LARGE, "{e}");
        // The same size is fine for a video (100 MB): it passes the checks and hits the network.
        let e = client.upload(&big, FileKind::Video, "big.mp4", &progress).await.unwrap_err();
        assert_eq!(e.code, code::FILE_TRANS_UPLOAD_FAILED, "{e}");

        let e = client.upload(dir.path(), FileKind::File, "dir", &progress).await.unwrap_err();
        assert_eq!(e.code, code::SDK_COMM_FILE_OPEN_FAILED, "{e}");

        let ok = dir.path().join("ok.txt");
        std::fs::write(&ok, b"x").unwrap();
        let e = client.upload(&ok, FileKind::File, "a/b.txt", &progress).await.unwrap_err();
        assert_eq!(e.code, code::INVALID_PARAMETERS, "{e}");

        // Only the network attempt reported progress, and never 100.
        assert_eq!(*calls.lock().unwrap(), vec![0]);
    }

    /// A server that accepts connections, reads whatever comes and never answers.
    async fn silent_server() -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_silent_server_fails_the_transfer_after_the_stall_timeout() {
        let addr = silent_server().await;
        let stall = Duration::from_millis(300);
        let client = MediaClient::new(&format!("http://{addr}"), 1, "alice", "sig").unwrap().with_stall_timeout(stall);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        std::fs::write(&path, vec![7u8; 200_000]).unwrap();

        let started = std::time::Instant::now();
        let calls = std::sync::Mutex::new(Vec::new());
        let e = client.upload(&path, FileKind::File, "f.bin", &|p| calls.lock().unwrap().push(p)).await.unwrap_err();
        assert_eq!(e.code, code::FILE_TRANS_UPLOAD_FAILED, "{e}");
        assert!(!calls.lock().unwrap().contains(&100));

        let dest = dir.path().join("out.bin");
        let e = client.download("/v1/files/0123456789abcdef0123456789abcdef", &dest, &|_, _| {}).await.unwrap_err();
        assert_eq!(e.code, code::FILE_TRANS_DOWNLOAD_FAILED, "{e}");
        assert!(!dest.exists());
        assert!(started.elapsed() < Duration::from_secs(5), "gave up after {:?}", started.elapsed());
    }
}
