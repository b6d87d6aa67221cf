//! Where file bytes live: the [`BlobStore`] trait and its file-system implementation
//! [`FsBlobStore`].
//!
//! An object is its bytes plus a small JSON description ([`BlobMeta`]). Writing is two steps:
//! [`BlobStore::put`] streams the bytes in (counting them, refusing more than a limit), then
//! [`BlobStore::put_meta`] writes the description, which is what makes the object visible to
//! [`BlobStore::stat`] and [`BlobStore::get`]. A reader therefore never sees a half-written
//! file, and an upload that fails halfway leaves nothing that can be downloaded.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use oxim_proto::media::{FileKind, ImageVariant, ImageVariantKind};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

/// A stream of bytes going into or coming out of a [`BlobStore`].
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// The description stored next to each object (for [`FsBlobStore`]: `<uuid>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMeta {
    /// The user who uploaded the file (for a variant: who uploaded the original).
    pub owner: String,
    /// What the file is for.
    pub kind: FileKind,
    /// File name given by the uploader.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Upload time, Unix milliseconds.
    pub created_ms: i64,
    /// MIME type served on download.
    pub content_type: String,
    /// Image width in pixels (images and their variants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Image height in pixels (images and their variants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// For an image variant: the uuid of the uploaded original, whose access rule applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// For an image variant: which one it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<ImageVariantKind>,
    /// For an uploaded image: its variants (origin, large, thumb).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<ImageVariant>,
}

/// A stored object opened for reading.
pub struct Blob {
    /// Its description.
    pub meta: BlobMeta,
    /// Its bytes (exactly `meta.size` of them).
    pub body: ByteStream,
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The body was longer than the limit given to [`BlobStore::put`]; nothing was kept.
    #[error("more than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        limit: u64,
    },
    /// The incoming body failed (the client went away, or sent a malformed body); nothing was kept.
    #[error("reading the body: {0}")]
    Body(io::Error),
    /// A key this store cannot hold.
    #[error("invalid key {0:?}")]
    InvalidKey(String),
    /// The storage itself failed.
    #[error("storage: {0}")]
    Io(#[from] io::Error),
}

/// Storage of file objects by key (the file uuid).
///
/// Implementations stream: a 100 MB upload must never be held in memory as a whole. The trait
/// is deliberately small (put bytes, put description, stat, get, delete) so that an
/// S3-compatible object store can implement it later: `put` as a (multipart) upload of the
/// stream, `put_meta` as a small JSON object or object metadata written last, `get` as a GET
/// of the object, `stat` as a read of the description.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `body` into the object `key`, refusing it with [`BlobError::TooLarge`] as soon as
    /// it exceeds `limit` bytes. Returns the number of bytes stored. On any error nothing is
    /// kept. The object is not visible until [`BlobStore::put_meta`].
    async fn put(&self, key: &str, body: ByteStream, limit: u64) -> Result<u64, BlobError>;

    /// Writes (or replaces) the description of the object `key`, whose bytes were `put`; from
    /// then on the object is visible.
    async fn put_meta(&self, key: &str, meta: &BlobMeta) -> Result<(), BlobError>;

    /// The description of a visible object, or `None`.
    async fn stat(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;

    /// Opens a visible object for streaming, or `None`.
    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError>;

    /// Removes the object and its description, if present.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}

/// Chunk size for reading objects back.
const READ_CHUNK: usize = 64 * 1024;

/// A [`BlobStore`] in a directory: `<data_dir>/files/<first 2 chars of key>/<key>` holds the
/// bytes and `<key>.json` the [`BlobMeta`]. Uploads are written to `<data_dir>/files/tmp/` and
/// renamed into place when complete; that directory is emptied when the store opens.
pub struct FsBlobStore {
    root: PathBuf,
    tmp: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating if needed) the store under `<data_dir>/files/`, and removes the partial
    /// uploads a crash may have left.
    pub fn open(data_dir: &Path) -> io::Result<FsBlobStore> {
        let root = data_dir.join("files");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        for entry in std::fs::read_dir(&tmp)? {
            let _ = std::fs::remove_file(entry?.path());
        }
        Ok(FsBlobStore { root, tmp })
    }

    /// The directory objects are stored in (`<data_dir>/files`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Paths of the bytes and of the description of `key`. Keys are 3 to 64 characters of
    /// `[0-9a-z]`, so they can never name anything outside the store.
    fn paths(&self, key: &str) -> Result<(PathBuf, PathBuf), BlobError> {
        let valid = (3..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
        if !valid {
            return Err(BlobError::InvalidKey(key.to_owned()));
        }
        let dir = self.root.join(&key[..2]);
        Ok((dir.join(key), dir.join(format!("{key}.json"))))
    }

    fn tmp_path(&self, key: &str, what: &str) -> PathBuf {
        self.tmp.join(format!("{key}.{what}.{:016x}", random_suffix()))
    }
}

/// A random suffix for temporary files (not security relevant: they are created exclusively).
fn random_suffix() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap_or_default();
    u64::from_le_bytes(b)
}

/// Renames the complete file `from` to `to` (in a shard directory under `root`) durably: the
/// file's own fsync does not cover its name, so the directory that holds the new name is
/// fsynced too (and `root`, when the shard directory is new). Only then is an upload answered.
async fn place(root: &Path, from: &Path, to: &Path) -> io::Result<()> {
    let shard = to.parent().expect("shard dir");
    let new_shard = !tokio::fs::try_exists(shard).await?;
    tokio::fs::create_dir_all(shard).await?;
    tokio::fs::rename(from, to).await?;
    sync_dir(shard).await?;
    if new_shard {
        sync_dir(root).await?;
    }
    Ok(())
}

/// fsyncs a directory (its entries: names created, renamed or removed).
async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all()).await.map_err(io::Error::other)?
}

/// Removes a temporary file when dropped, unless it was renamed into place: an upload whose
/// request is dropped halfway (the connection task ended) leaves nothing behind either.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes `body` to the new file `path`, at most `limit` bytes; returns the count.
async fn write_limited(path: &Path, mut body: ByteStream, limit: u64) -> Result<u64, BlobError> {
    let mut file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(path).await?;
    let mut written: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(BlobError::Body)?;
        written += chunk.len() as u64;
        if written > limit {
            return Err(BlobError::TooLarge { limit });
        }
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    file.sync_all().await?;
    Ok(written)
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, key: &str, body: ByteStream, limit: u64) -> Result<u64, BlobError> {
        let (data, _) = self.paths(key)?;
        let mut tmp = TempFile { path: self.tmp_path(key, "part"), keep: false };
        let written = write_limited(&tmp.path, body, limit).await?;
        place(&self.root, &tmp.path, &data).await?;
        tmp.keep = true;
        Ok(written)
    }

    async fn put_meta(&self, key: &str, meta: &BlobMeta) -> Result<(), BlobError> {
        let (_, side) = self.paths(key)?;
        let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
        let mut tmp = TempFile { path: self.tmp_path(key, "json"), keep: false };
        let mut file = tokio::fs::File::create(&tmp.path).await?;
        file.write_all(&json).await?;
        file.sync_all().await?;
        drop(file);
        place(&self.root, &tmp.path, &side).await?;
        tmp.keep = true;
        Ok(())
    }

    async fn stat(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        let (_, side) = self.paths(key)?;
        match tokio::fs::read(&side).await {
            Ok(json) => Ok(Some(serde_json::from_slice(&json).map_err(io::Error::other)?)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        let Some(meta) = self.stat(key).await? else { return Ok(None) };
        let (data, _) = self.paths(key)?;
        let file = tokio::fs::File::open(&data).await?;
        let body = tokio_util::io::ReaderStream::with_capacity(file, READ_CHUNK);
        Ok(Some(Blob { meta, body: Box::pin(body) }))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let (data, side) = self.paths(key)?;
        // The description first: the object stops being visible before its bytes go.
        for path in [side, data] {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(size: u64) -> BlobMeta {
        BlobMeta {
            owner: "alice".into(),
            kind: FileKind::File,
            name: "a.bin".into(),
            size,
            created_ms: 1,
            content_type: "application/octet-stream".into(),
            width: None,
            height: None,
            original: None,
            variant: None,
            variants: vec![],
        }
    }

    fn chunks(parts: &[&'static [u8]]) -> ByteStream {
        let items: Vec<io::Result<Bytes>> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        Box::pin(futures_util::stream::iter(items))
    }

    async fn read_all(blob: Blob) -> Vec<u8> {
        let mut out = Vec::new();
        let mut body = blob.body;
        while let Some(c) = body.next().await {
            out.extend_from_slice(&c.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn put_is_invisible_until_meta_then_readable_and_deletable() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let key = "ab0123456789abcdef0123456789abcd";
        assert_eq!(store.put(key, chunks(&[b"hello ", b"world"]), 100).await.unwrap(), 11);
        assert!(store.stat(key).await.unwrap().is_none());
        assert!(store.get(key).await.unwrap().is_none());
        store.put_meta(key, &meta(11)).await.unwrap();
        assert!(dir.path().join("files/ab").join(key).is_file());
        assert!(dir.path().join("files/ab").join(format!("{key}.json")).is_file());
        assert_eq!(store.stat(key).await.unwrap(), Some(meta(11)));
        assert_eq!(read_all(store.get(key).await.unwrap().unwrap()).await, b"hello world");
        store.delete(key).await.unwrap();
        assert!(store.get(key).await.unwrap().is_none());
        assert!(!dir.path().join("files/ab").join(key).exists());
    }

    #[tokio::test]
    async fn over_the_limit_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let key = "cd0123456789abcdef0123456789abcd";
        let err = store.put(key, chunks(&[b"12345", b"67890", b"x"]), 10).await.unwrap_err();
        assert!(matches!(err, BlobError::TooLarge { limit: 10 }), "{err}");
        assert!(!dir.path().join("files/cd").join(key).exists());
        assert_eq!(std::fs::read_dir(dir.path().join("files/tmp")).unwrap().count(), 0);
        // Exactly at the limit is fine.
        assert_eq!(store.put(key, chunks(&[b"12345", b"67890"]), 10).await.unwrap(), 10);
    }

    #[tokio::test]
    async fn a_put_dropped_halfway_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let key = "ef0123456789abcdef0123456789abcd";
        // One chunk, then a body that never continues (a client gone quiet).
        let body: ByteStream = Box::pin(
            futures_util::stream::iter([Ok(Bytes::from_static(b"partial"))]).chain(futures_util::stream::pending()),
        );
        let put = store.put(key, body, 100);
        assert!(tokio::time::timeout(std::time::Duration::from_millis(100), put).await.is_err());
        assert_eq!(std::fs::read_dir(dir.path().join("files/tmp")).unwrap().count(), 0);
        assert!(store.stat(key).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        for key in ["../../etc/passwd", "..", "AB0123", "a/b/c", ""] {
            assert!(matches!(store.stat(key).await, Err(BlobError::InvalidKey(_))), "{key}");
            assert!(matches!(store.put(key, chunks(&[b"x"]), 10).await, Err(BlobError::InvalidKey(_))), "{key}");
        }
    }
}
