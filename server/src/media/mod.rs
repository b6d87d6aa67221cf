//! Media files over HTTP: upload (`POST /v1/files`), download (`GET /v1/files/{uuid}`) and the
//! large and thumbnail versions of images; `GET /v1/files/check` tells why an upload would be
//! refused.
//!
//! Requests carry the same credentials as a WebSocket login, in headers
//! (`x-oxim-sdkappid`, `x-oxim-user`, `x-oxim-usersig`). Bodies stream straight to a
//! [`BlobStore`] (never whole in memory, except an image, at most 28 MB, while its variants are
//! made); sizes are checked against the kind's limit from `Content-Length` before reading and
//! again while streaming. Errors are an HTTP status with a
//! [`MediaError`](oxim_proto::media::MediaError) JSON body carrying a V2TIM code.
//!
//! Who may download a file is the message layer's decision ([`FileAccess`]): a file is readable
//! by its uploader and by the users who received a message referencing it. An image's variants
//! are readable whenever the original is.
//!
//! - [`blob`]: the storage trait and the file-system store.
//! - [`image`]: decoding and scaling images.
//!
//! [`routes`] gives an axum router with the two routes, for the server's router to merge.

pub mod blob;
pub mod image;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use oxim_proto::code;
use oxim_proto::ids::is_valid_user_id;
use oxim_proto::media::{
    FILES_PATH, FileKind, HEADER_SDK_APP_ID, HEADER_USER, HEADER_USER_SIG, ImageVariant, ImageVariantKind, MB,
    MediaError, UploadQuery, UploadedFile, file_url, is_valid_file_name, is_valid_file_uuid,
};
use tokio::sync::Semaphore;

pub use blob::{Blob, BlobError, BlobMeta, BlobStore, ByteStream, FsBlobStore};

use crate::usersig::UserSigKey;

/// Longest file name accepted, in bytes.
pub const MAX_NAME_BYTES: usize = oxim_proto::media::MAX_FILE_NAME_BYTES;

/// How many images may be decoded and scaled at the same time (each may take a few hundred MB
/// and a core for a moment).
const IMAGE_JOBS: usize = 2;

/// Decides who may download a file. The message layer implements it: a file is readable by its
/// uploader and by the users who received a message referencing it.
#[async_trait]
pub trait FileAccess: Send + Sync + 'static {
    /// Whether `user` may read the file `uuid` uploaded by `owner`. For an image variant, `uuid`
    /// and `owner` are those of the uploaded original.
    async fn may_read(&self, user: &str, uuid: &str, owner: &str) -> bool;
}

/// A [`FileAccess`] that lets only the uploader read a file (for tests, and until the message
/// layer provides its own).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowOwnerOnly;

#[async_trait]
impl FileAccess for AllowOwnerOnly {
    async fn may_read(&self, user: &str, _uuid: &str, owner: &str) -> bool {
        user == owner
    }
}

/// Size limits per [`FileKind`], in bytes. The default is V2TIM's ([`FileKind::max_bytes`]);
/// tests make them small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    /// Limit for [`FileKind::Image`].
    pub image: u64,
    /// Limit for [`FileKind::Sound`].
    pub sound: u64,
    /// Limit for [`FileKind::Video`].
    pub video: u64,
    /// Limit for [`FileKind::File`].
    pub file: u64,
    /// Limit for [`FileKind::Snapshot`].
    pub snapshot: u64,
}

impl Default for MediaLimits {
    fn default() -> MediaLimits {
        MediaLimits {
            image: FileKind::Image.max_bytes(),
            sound: FileKind::Sound.max_bytes(),
            video: FileKind::Video.max_bytes(),
            file: FileKind::File.max_bytes(),
            snapshot: FileKind::Snapshot.max_bytes(),
        }
    }
}

impl MediaLimits {
    /// The limit for `kind`.
    pub fn max_bytes(&self, kind: FileKind) -> u64 {
        match kind {
            FileKind::Image => self.image,
            FileKind::Sound => self.sound,
            FileKind::Video => self.video,
            FileKind::File => self.file,
            FileKind::Snapshot => self.snapshot,
        }
    }

    /// The largest of the limits.
    pub fn largest(&self) -> u64 {
        FileKind::ALL.into_iter().map(|k| self.max_bytes(k)).max().unwrap_or(0)
    }
}

/// How many uploads may run at once, how long one may make no progress, and how slowly it may
/// go. Together they bound what slow or stalled clients hold (a stalled upload keeps a
/// connection, a partial file and, for an image, the bytes so far in memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// Uploads at the same time (server-wide); beyond it an upload is refused at once with
    /// HTTP 503 and 6008 (the SDK reports the failure; the app may retry).
    pub concurrent: usize,
    /// Uploads of one user at the same time; beyond it, 503 and 6008 likewise. One account's
    /// slow uploads (a byte now and then keeps each under the stall timeout) cannot take every
    /// place of the server.
    pub per_user: usize,
    /// Longest wait for the next bytes of an upload; then it fails with HTTP 408 and 6008.
    pub stall: std::time::Duration,
    /// Slowest average (bytes per second since the upload began) an upload may keep once
    /// `grace` has passed; below it, it fails with HTTP 408 and 6008 as a stalled one does. Many
    /// accounts together, each trickling a byte now and then, cannot hold every place. 0: none.
    pub min_bytes_per_sec: u64,
    /// How long an upload may go slower than `min_bytes_per_sec` at first (a connection
    /// warming up).
    pub grace: std::time::Duration,
}

impl Default for UploadLimits {
    fn default() -> UploadLimits {
        UploadLimits {
            concurrent: 32,
            per_user: 4,
            stall: std::time::Duration::from_secs(30),
            min_bytes_per_sec: 1024,
            grace: std::time::Duration::from_secs(10),
        }
    }
}

/// What the media routes need.
#[derive(Clone)]
pub struct MediaState {
    /// UserSig verification for the served app.
    pub sigs: UserSigKey,
    /// The served SDKAppID.
    pub sdk_app_id: u64,
    /// Where the bytes go.
    pub blobs: Arc<dyn BlobStore>,
    /// Who may download what.
    pub access: Arc<dyn FileAccess>,
    /// Size limits per kind.
    pub limits: MediaLimits,
    /// Concurrent uploads and their stall timeout.
    pub uploads: UploadLimits,
}

impl MediaState {
    /// State with V2TIM's size limits.
    pub fn new(sigs: UserSigKey, sdk_app_id: u64, blobs: Arc<dyn BlobStore>, access: Arc<dyn FileAccess>) -> Self {
        MediaState { sigs, sdk_app_id, blobs, access, limits: MediaLimits::default(), uploads: UploadLimits::default() }
    }
}

struct Shared {
    state: MediaState,
    image_jobs: Semaphore,
    /// One permit per upload running ([`UploadLimits::concurrent`]).
    uploads: Semaphore,
    /// Uploads running per user ([`UploadLimits::per_user`]).
    per_user: Mutex<HashMap<String, usize>>,
}

/// A user's place among their uploads running, given back when dropped.
struct UserUpload<'a> {
    shared: &'a Shared,
    user: String,
}

impl Shared {
    /// A place for one more upload of `user`, if they have fewer than the limit running.
    fn user_upload(&self, user: &str) -> Option<UserUpload<'_>> {
        let mut running = self.per_user.lock().expect("uploads lock");
        let n = running.entry(user.to_owned()).or_default();
        if *n >= self.state.uploads.per_user {
            return None;
        }
        *n += 1;
        Some(UserUpload { shared: self, user: user.to_owned() })
    }
}

impl Drop for UserUpload<'_> {
    fn drop(&mut self) {
        let mut running = self.shared.per_user.lock().expect("uploads lock");
        if let Some(n) = running.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.user);
            }
        }
    }
}

/// The media routes: `POST /v1/files?kind=..&name=..`, `GET /v1/files/{uuid}` and
/// `GET /v1/files/check?kind=..&name=..&size=..`.
pub fn routes(state: MediaState) -> Router {
    // The handlers stream the body and enforce the per-kind limit themselves; this only keeps
    // axum's 2 MB default for buffered bodies from applying to these routes.
    let body_limit = usize::try_from(state.limits.largest().saturating_add(MB)).unwrap_or(usize::MAX);
    let uploads = Semaphore::new(state.uploads.concurrent);
    let shared =
        Arc::new(Shared { state, image_jobs: Semaphore::new(IMAGE_JOBS), uploads, per_user: Mutex::default() });
    Router::new()
        .route(FILES_PATH, post(upload))
        .route(&format!("{FILES_PATH}/check"), get(check))
        .route(&format!("{FILES_PATH}/{{uuid}}"), get(download))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(shared)
}

/// A refused request: HTTP status and [`MediaError`] body.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    error: MediaError,
}

fn fail(status: StatusCode, code: i32, desc: impl Into<String>) -> Failure {
    Failure { status, error: MediaError { code, desc: desc.into() } }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.error)).into_response()
    }
}

use oxim_proto::clock::now_ms;

/// Checks the credential headers; returns the user.
fn authenticate(state: &MediaState, headers: &HeaderMap) -> Result<String, Failure> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(app), Some(user), Some(sig)) = (header(HEADER_SDK_APP_ID), header(HEADER_USER), header(HEADER_USER_SIG))
    else {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            code::FILE_TRANS_AUTH_FAILED,
            format!("the {HEADER_SDK_APP_ID}, {HEADER_USER} and {HEADER_USER_SIG} headers are required"),
        ));
    };
    let Ok(app) = app.parse::<u64>() else {
        return Err(fail(StatusCode::UNAUTHORIZED, code::FILE_TRANS_AUTH_FAILED, "malformed SDKAppID"));
    };
    if app != state.sdk_app_id {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            code::SDKAPPID_NOT_FOUND,
            format!("SDKAppID {app} is not served here"),
        ));
    }
    if !is_valid_user_id(user) {
        return Err(fail(StatusCode::UNAUTHORIZED, code::FILE_TRANS_AUTH_FAILED, "malformed user id"));
    }
    state
        .sigs
        .verify(sig, user, now_ms() / 1000)
        .map_err(|e| fail(StatusCode::UNAUTHORIZED, e.code(), e.to_string()))?;
    Ok(user.to_owned())
}

/// A new file uuid: 128 random bits from the OS, as 32 hex characters.
fn new_uuid() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// MIME type from a file name's extension (for non-images).
fn content_type_for_name(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        "amr" => "audio/amr",
        "wav" => "audio/wav",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "silk" => "audio/silk",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "3gp" => "video/3gpp",
        "mkv" => "video/x-matroska",
        "pdf" => "application/pdf",
        "txt" => "text/plain; charset=utf-8",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

fn storage_failure(what: &str, e: BlobError, code: i32) -> Failure {
    tracing::warn!("media: {what}: {e}");
    fail(StatusCode::INTERNAL_SERVER_ERROR, code, format!("{what}: {e}"))
}

/// An upload that passed the checks made before any body is read.
struct Admitted {
    user: String,
    kind: FileKind,
    name: String,
    limit: u64,
}

fn too_large(kind: FileKind, limit: u64) -> Failure {
    fail(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::SDK_COMM_FILE_TOO_LARGE,
        format!("a {kind} may have at most {limit} bytes"),
    )
}

fn empty() -> Failure {
    fail(StatusCode::BAD_REQUEST, code::SDK_COMM_FILE_SIZE_EMPTY, "the file is empty")
}

/// The checks of an upload that need no body: credentials, kind, name, and the announced size
/// (`Content-Length` for an upload, `size` for a check) against the kind's limit.
fn admit(
    state: &MediaState,
    headers: &HeaderMap,
    query: Result<Query<UploadQuery>, QueryRejection>,
    announced: Option<u64>,
) -> Result<Admitted, Failure> {
    let user = authenticate(state, headers)?;
    let Ok(Query(query)) = query else {
        return Err(fail(StatusCode::BAD_REQUEST, code::INVALID_PARAMETERS, "malformed query string"));
    };
    let Some(kind) = query.kind.as_deref().and_then(FileKind::parse) else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            code::INVALID_PARAMETERS,
            "kind must be one of image, sound, video, file, snapshot",
        ));
    };
    let name = query.name.unwrap_or_default();
    if !is_valid_file_name(&name) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            code::INVALID_PARAMETERS,
            "name must be 1-255 bytes without control characters or path separators",
        ));
    }
    let limit = state.limits.max_bytes(kind);
    match announced {
        Some(len) if len > limit => Err(too_large(kind, limit)),
        Some(0) => Err(empty()),
        _ => Ok(Admitted { user, kind, name, limit }),
    }
}

/// `GET /v1/files/check?kind=..&name=..&size=..`: whether an upload with these parameters and
/// these credentials would be admitted (204), or the error it would get. The SDK asks after an
/// upload failed on the network, because a server that refuses an upload early (an expired
/// UserSig, say) closes the connection under a body still being sent, and the client may lose
/// the answer.
async fn check(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Result<Query<UploadQuery>, QueryRejection>,
) -> Result<StatusCode, Failure> {
    let size = match &query {
        Ok(Query(q)) => q.size.as_deref().and_then(|s| s.parse::<u64>().ok()),
        Err(_) => None,
    };
    // Credentials, kind and name are checked first, as for an upload; then the size.
    admit(&shared.state, &headers, query, size)?;
    if size.is_none() {
        return Err(fail(StatusCode::BAD_REQUEST, code::INVALID_PARAMETERS, "size must be a number of bytes"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Why the server cut an upload's body short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// No bytes for [`UploadLimits::stall`].
    Stalled,
    /// Under [`UploadLimits::min_bytes_per_sec`] on average after the grace period.
    TooSlow,
}

/// `body`'s chunks, ending with an error (and `cut` set) once no chunk came for `limits.stall`,
/// or once the average since the start falls under `limits.min_bytes_per_sec` after
/// `limits.grace`.
fn paced(
    body: axum::body::BodyDataStream,
    limits: UploadLimits,
    cut: Arc<Mutex<Option<Cut>>>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send {
    let start = tokio::time::Instant::now();
    futures_util::stream::unfold(Some((body, 0u64)), move |state| {
        let cut = cut.clone();
        async move {
            let (mut body, received) = state?;
            let stall_at = tokio::time::Instant::now() + limits.stall;
            // When the bytes so far stop being enough for the floor (not before the grace ends).
            let slow_at = (limits.min_bytes_per_sec > 0).then(|| {
                let earned = std::time::Duration::from_secs_f64(received as f64 / limits.min_bytes_per_sec as f64);
                start + limits.grace.max(earned)
            });
            let (until, why) = match slow_at {
                Some(at) if at < stall_at => (at, Cut::TooSlow),
                _ => (stall_at, Cut::Stalled),
            };
            // A chunk that is ready wins over a deadline already passed: the floor is checked
            // again with it counted.
            match tokio::time::timeout_at(until, body.next()).await {
                Ok(Some(Ok(chunk))) => {
                    let received = received + chunk.len() as u64;
                    Some((Ok(chunk), Some((body, received))))
                }
                Ok(Some(Err(e))) => Some((Err(std::io::Error::other(e)), Some((body, received)))),
                Ok(None) => None,
                Err(_) => {
                    *cut.lock().expect("upload cut lock") = Some(why);
                    Some((Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "upload too slow")), None))
                }
            }
        }
    })
}

async fn upload(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Result<Query<UploadQuery>, QueryRejection>,
    body: Body,
) -> Result<axum::Json<UploadedFile>, Failure> {
    let state = &shared.state;
    let content_length =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let Admitted { user, kind, name, limit } = admit(state, &headers, query, content_length)?;
    let Some(_mine) = shared.user_upload(&user) else {
        return Err(fail(
            StatusCode::SERVICE_UNAVAILABLE,
            code::FILE_TRANS_UPLOAD_FAILED,
            "too many uploads of yours at the moment; try again when one has finished",
        ));
    };
    let Ok(_running) = shared.uploads.try_acquire() else {
        return Err(fail(
            StatusCode::SERVICE_UNAVAILABLE,
            code::FILE_TRANS_UPLOAD_FAILED,
            "too many uploads at the moment; try again shortly",
        ));
    };

    let uuid = new_uuid();
    // An image is also kept in memory (at most its limit) for making the variants.
    let kept: Option<Arc<Mutex<Vec<Bytes>>>> = (kind == FileKind::Image).then(Default::default);
    let tee = kept.clone();
    let limits = state.uploads;
    let cut = Arc::new(Mutex::new(None));
    let body = paced(body.into_data_stream(), limits, cut.clone());
    let stream: ByteStream = Box::pin(body.map(move |r| {
        let chunk = r?;
        if let Some(tee) = &tee {
            tee.lock().expect("upload buffer lock").push(chunk.clone());
        }
        Ok(chunk)
    }));
    let stored = state.blobs.put(&uuid, stream, limit).await;
    let cut = *cut.lock().expect("upload cut lock");
    let size = match stored {
        Ok(size) => size,
        Err(BlobError::TooLarge { .. }) => return Err(too_large(kind, limit)),
        Err(BlobError::Body(_)) if cut == Some(Cut::Stalled) => {
            return Err(fail(
                StatusCode::REQUEST_TIMEOUT,
                code::FILE_TRANS_UPLOAD_FAILED,
                format!("upload stalled: no bytes for {} s", limits.stall.as_secs_f32()),
            ));
        }
        // Answered as a stall is: the client is told its upload took too long.
        Err(BlobError::Body(_)) if cut == Some(Cut::TooSlow) => {
            return Err(fail(
                StatusCode::REQUEST_TIMEOUT,
                code::FILE_TRANS_UPLOAD_FAILED,
                format!(
                    "upload too slow: under {} bytes/s on average after {} s",
                    limits.min_bytes_per_sec,
                    limits.grace.as_secs_f32()
                ),
            ));
        }
        Err(BlobError::Body(e)) => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                code::FILE_TRANS_UPLOAD_FAILED,
                format!("upload interrupted: {e}"),
            ));
        }
        Err(e) => return Err(storage_failure("cannot store the upload", e, code::FILE_TRANS_UPLOAD_FAILED)),
    };
    if size == 0 {
        let _ = state.blobs.delete(&uuid).await;
        return Err(empty());
    }

    let created_ms = now_ms();
    let mut meta = BlobMeta {
        owner: user,
        kind,
        name: name.clone(),
        size,
        created_ms,
        content_type: content_type_for_name(&name).to_owned(),
        width: None,
        height: None,
        original: None,
        variant: None,
        variants: Vec::new(),
    };
    if let Some(kept) = kept {
        let chunks = std::mem::take(&mut *kept.lock().expect("upload buffer lock"));
        let mut original = Vec::with_capacity(size as usize);
        for chunk in chunks {
            original.extend_from_slice(&chunk);
        }
        let mut written = Vec::new();
        let result = store_image_variants(&shared, &uuid, Bytes::from(original), &mut meta, &mut written).await;
        if let Err(failure) = result {
            for key in written.iter().chain(std::iter::once(&uuid)) {
                let _ = state.blobs.delete(key).await;
            }
            return Err(failure);
        }
    }
    if let Err(e) = state.blobs.put_meta(&uuid, &meta).await {
        for key in meta.variants.iter().map(|v| &v.uuid).filter(|k| **k != uuid).chain(std::iter::once(&uuid)) {
            let _ = state.blobs.delete(key).await;
        }
        return Err(storage_failure("cannot store the upload", e, code::FILE_TRANS_UPLOAD_FAILED));
    }
    tracing::debug!("media: {} uploaded {kind} {uuid} ({size} bytes)", meta.owner);
    Ok(axum::Json(UploadedFile { url: file_url(&uuid), uuid, size, name, kind, variants: meta.variants }))
}

/// Makes the variants of the uploaded image `original`, stores them (their descriptions written
/// before the original's, so a visible original always has visible variants) and fills in
/// `meta`. `written` collects the keys stored, for cleaning up on failure.
async fn store_image_variants(
    shared: &Shared,
    uuid: &str,
    original: Bytes,
    meta: &mut BlobMeta,
    written: &mut Vec<String>,
) -> Result<(), Failure> {
    let blobs = &shared.state.blobs;
    let processed = {
        let _permit = shared.image_jobs.acquire().await.expect("the semaphore is never closed");
        let bytes = original.clone();
        tokio::task::spawn_blocking(move || image::process(&bytes))
            .await
            .map_err(|e| {
                fail(StatusCode::INTERNAL_SERVER_ERROR, code::FILE_TRANS_UPLOAD_FAILED, format!("image task: {e}"))
            })?
            .map_err(|e| fail(StatusCode::BAD_REQUEST, code::IMAGE_UPLOAD_FAILED_NOTIMAGE, e.to_string()))?
    };

    meta.width = Some(processed.width);
    meta.height = Some(processed.height);
    meta.content_type = processed.content_type.to_owned();
    meta.variants.push(ImageVariant {
        kind: ImageVariantKind::Origin,
        uuid: uuid.to_owned(),
        url: file_url(uuid),
        size: meta.size,
        width: processed.width,
        height: processed.height,
    });
    let store_failed =
        |e: BlobError| storage_failure("cannot store an image variant", e, code::FILE_TRANS_UPLOAD_FAILED);
    for variant in processed.variants {
        let key = new_uuid();
        let bytes = match variant.bytes {
            Some(b) => Bytes::from(b),
            None => original.clone(),
        };
        let stream: ByteStream = Box::pin(futures_util::stream::once(async move { Ok(bytes) }));
        written.push(key.clone());
        let size = blobs.put(&key, stream, u64::MAX).await.map_err(store_failed)?;
        let variant_meta = BlobMeta {
            owner: meta.owner.clone(),
            kind: FileKind::Image,
            name: meta.name.clone(),
            size,
            created_ms: meta.created_ms,
            content_type: variant.content_type.to_owned(),
            width: Some(variant.width),
            height: Some(variant.height),
            original: Some(uuid.to_owned()),
            variant: Some(variant.kind),
            variants: Vec::new(),
        };
        blobs.put_meta(&key, &variant_meta).await.map_err(store_failed)?;
        meta.variants.push(ImageVariant {
            kind: variant.kind,
            url: file_url(&key),
            uuid: key,
            size,
            width: variant.width,
            height: variant.height,
        });
    }
    Ok(())
}

async fn download(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, Failure> {
    let state = &shared.state;
    let user = authenticate(state, &headers)?;
    let not_found = || fail(StatusCode::NOT_FOUND, code::SDK_COMM_FILE_NOT_FOUND, format!("no file {uuid}"));
    if !is_valid_file_uuid(&uuid) {
        return Err(not_found());
    }
    let read_failed = |e: BlobError| storage_failure("cannot read the file", e, code::FILE_TRANS_DOWNLOAD_FAILED);
    let Some(meta) = state.blobs.stat(&uuid).await.map_err(read_failed)? else {
        return Err(not_found());
    };
    // A variant is readable whenever its original is.
    let governing = meta.original.as_deref().unwrap_or(&uuid);
    if !state.access.may_read(&user, governing, &meta.owner).await {
        return Err(fail(
            StatusCode::FORBIDDEN,
            code::FILE_TRANS_AUTH_FAILED,
            format!("{user} may not read file {uuid}"),
        ));
    }
    let Some(blob) = state.blobs.get(&uuid).await.map_err(read_failed)? else {
        return Err(not_found());
    };
    let content_type =
        HeaderValue::from_str(&blob.meta.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = Response::new(Body::from_stream(blob.body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.meta.size));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Files never change once uploaded.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uuids() {
        assert!(is_valid_file_name("photo 1.jpg"));
        assert!(is_valid_file_name("报告.pdf"));
        for bad in ["", ".", "..", "a/b", "a\\b", "a\nb", &"x".repeat(256)] {
            assert!(!is_valid_file_name(bad), "{bad:?}");
        }
        let a = new_uuid();
        assert!(is_valid_file_uuid(&a));
        assert_ne!(a, new_uuid());
    }

    #[test]
    fn limits_default_to_v2tim() {
        let l = MediaLimits::default();
        assert_eq!(l.max_bytes(FileKind::Image), 28 * MB);
        assert_eq!(l.max_bytes(FileKind::Video), 100 * MB);
        assert_eq!(l.largest(), 100 * MB);
    }
}
