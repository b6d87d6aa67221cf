//! Files of image, sound, video and file messages: checks before anything is stored, upload
//! before the message is sent (with progress), download on request.

use std::path::Path;

use oxim_proto::code;
use oxim_proto::media::{FileKind, UploadedFile};

use crate::error::{Error, Result};
use crate::model::message::{Elem, FileRef, ImageInfo};
use crate::session::Session;

/// The local files `elem` will upload, with their kinds.
fn local_files(elem: &Elem) -> Vec<(&str, FileKind)> {
    match elem {
        Elem::Image { path, images } if images.is_empty() => vec![(path.as_str(), FileKind::Image)],
        Elem::Sound { path, file, .. } if file.uuid.is_empty() => vec![(path.as_str(), FileKind::Sound)],
        Elem::File { path, file, .. } if file.uuid.is_empty() => vec![(path.as_str(), FileKind::File)],
        Elem::Video { video_path, snapshot_path, video, .. } if video.uuid.is_empty() => {
            vec![(video_path.as_str(), FileKind::Video), (snapshot_path.as_str(), FileKind::Image)]
        }
        _ => Vec::new(),
    }
}

/// Whether `elem` still has files to upload.
pub fn needs_upload(elem: &Elem) -> bool {
    !local_files(elem).is_empty()
}

/// Checks the files `elem` would upload, so that a bad path fails before anything is stored:
/// missing 7004, empty 7006, over V2TIM's limit for its kind 7005, unreadable 7007.
pub fn check_local_files(elem: &Elem) -> Result<()> {
    for (path, kind) in local_files(elem) {
        check_file(path, kind)?;
    }
    Ok(())
}

/// Checks one local file for `kind`; returns its size.
pub fn check_file(path: &str, kind: FileKind) -> Result<u64> {
    if path.is_empty() {
        return Err(Error::new(code::SDK_COMM_FILE_NOT_FOUND, "the file path is empty"));
    }
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::new(code::SDK_COMM_FILE_NOT_FOUND, format!("{path} does not exist")),
        _ => Error::new(code::SDK_COMM_FILE_OPEN_FAILED, format!("cannot read {path}: {e}")),
    })?;
    if !meta.is_file() {
        return Err(Error::new(code::SDK_COMM_FILE_NOT_FOUND, format!("{path} is not a file")));
    }
    if meta.len() == 0 {
        return Err(Error::new(code::SDK_COMM_FILE_SIZE_EMPTY, format!("{path} is empty")));
    }
    if meta.len() > kind.max_bytes() {
        return Err(Error::new(
            code::SDK_COMM_FILE_TOO_LARGE,
            format!(
                "{path} is {} bytes; {} files may be at most {} bytes",
                meta.len(),
                kind.as_str(),
                kind.max_bytes()
            ),
        ));
    }
    Ok(meta.len())
}

fn file_name(path: &str) -> String {
    Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into())
}

fn file_ref(up: &UploadedFile) -> FileRef {
    FileRef { uuid: up.uuid.clone(), url: up.url.clone(), size: up.size }
}

fn images(up: &UploadedFile) -> Vec<ImageInfo> {
    up.variants
        .iter()
        .map(|v| ImageInfo {
            kind: v.kind.v2tim_type(),
            uuid: v.uuid.clone(),
            url: v.url.clone(),
            size: v.size,
            width: v.width,
            height: v.height,
        })
        .collect()
}

/// Uploads the files of `elem` and returns it with their server references. `report` gets the
/// overall progress 0–99 (100 is reported when the message itself is accepted).
pub async fn upload_elem(session: &Session, elem: &Elem, report: &(dyn Fn(u32) + Send + Sync)) -> Result<Elem> {
    let files = local_files(elem);
    let sizes: Vec<u64> = files.iter().map(|(p, k)| check_file(p, *k)).collect::<Result<_>>()?;
    let total: u64 = sizes.iter().sum::<u64>().max(1);
    let mut done = 0u64;
    let mut uploaded = Vec::new();
    for ((path, kind), size) in files.iter().zip(&sizes) {
        let before = done;
        let scaled = move |p: u32| {
            let bytes = before + size * u64::from(p.min(100)) / 100;
            report((bytes * 99 / total) as u32);
        };
        let name = match elem {
            Elem::File { file_name, .. } if !file_name.is_empty() => file_name.clone(),
            _ => file_name(path),
        };
        uploaded.push(session.media.upload(Path::new(path), *kind, &name, &scaled).await?);
        done += size;
    }
    let mut out = elem.clone();
    match &mut out {
        Elem::Image { images: list, .. } => *list = images(&uploaded[0]),
        Elem::Sound { file, .. } | Elem::File { file, .. } => *file = file_ref(&uploaded[0]),
        Elem::Video { video, snapshot, snapshot_width, snapshot_height, .. } => {
            *video = file_ref(&uploaded[0]);
            // The snapshot is uploaded as an image: its original variant has its size.
            let shot = &uploaded[1];
            let origin = shot.variants.iter().find(|v| v.kind.v2tim_type() == oxim_proto::message::image_type::ORIGIN);
            *snapshot = FileRef { uuid: shot.uuid.clone(), url: shot.url.clone(), size: shot.size };
            if let Some(o) = origin {
                *snapshot_width = o.width;
                *snapshot_height = o.height;
            }
        }
        _ => {}
    }
    report(99);
    Ok(out)
}
