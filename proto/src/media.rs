//! Media files over HTTP: the types of `POST /v1/files` (upload) and `GET /v1/files/<uuid>`
//! (download), shared by the SDK's `MediaClient` and the server's `media` routes.
//!
//! Messages with images, sound, video and files carry references to files ([`UploadedFile`],
//! [`ImageVariant`]); the bytes travel over HTTP, authenticated with the same UserSig as the
//! WebSocket login (the three `HEADER_*` headers). Errors come back as an HTTP status with a
//! [`MediaError`] JSON body carrying a V2TIM error code. `docs/protocol.md` ("Files") has the
//! contract.

use serde::{Deserialize, Serialize};

/// Request header carrying the SDKAppID (decimal).
pub const HEADER_SDK_APP_ID: &str = "x-oxim-sdkappid";
/// Request header carrying the user id.
pub const HEADER_USER: &str = "x-oxim-user";
/// Request header carrying the user's UserSig.
pub const HEADER_USER_SIG: &str = "x-oxim-usersig";

/// The path files are uploaded to; a file is downloaded from `FILES_PATH/<uuid>`.
pub const FILES_PATH: &str = "/v1/files";

/// One mebibyte, the unit of V2TIM's file size limits.
pub const MB: u64 = 1024 * 1024;

/// Shorter side, in pixels, of an image's [`ImageVariantKind::Large`] variant (V2TIM's rule).
pub const LARGE_SHORT_SIDE: u32 = 720;
/// Shorter side, in pixels, of an image's [`ImageVariantKind::Thumb`] variant (V2TIM's rule).
pub const THUMB_SHORT_SIDE: u32 = 198;

/// The relative URL a file is downloaded from: `/v1/files/<uuid>`.
pub fn file_url(uuid: &str) -> String {
    format!("{FILES_PATH}/{uuid}")
}

/// Whether `name` is an acceptable file name: 1–255 bytes, no control characters, no path
/// separators, not `.` or `..` (receivers may use it as a local file name).
pub fn is_valid_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_FILE_NAME_BYTES
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c.is_control() || c == '/' || c == '\\')
}

/// Longest file name an upload may give, in bytes.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// The query string of an upload (`POST /v1/files?kind=..&name=..`) and of its check
/// (`GET /v1/files/check?kind=..&name=..&size=..`), as a client sends it: every field may be
/// missing or wrong, and the server checks each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct UploadQuery {
    /// [`FileKind::parse`] of it.
    pub kind: Option<String>,
    /// The file name ([`is_valid_file_name`]).
    pub name: Option<String>,
    /// Only for the check: the size the upload will have, in bytes.
    pub size: Option<String>,
}

/// Whether `s` has the form of a file uuid: 32 lowercase hexadecimal characters.
pub fn is_valid_file_uuid(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What a file is for; decides its size limit and, for images, the variants made of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// The picture of an image message (`createImageMessage`).
    Image,
    /// The audio of a sound message (`createSoundMessage`).
    Sound,
    /// The video of a video message (`createVideoMessage`).
    Video,
    /// The file of a file message (`createFileMessage`).
    File,
    /// The snapshot (cover picture) of a video message.
    Snapshot,
}

impl FileKind {
    /// Every kind.
    pub const ALL: [FileKind; 5] =
        [FileKind::Image, FileKind::Sound, FileKind::Video, FileKind::File, FileKind::Snapshot];

    /// The name used in URLs and JSON (`"image"`, `"sound"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Image => "image",
            FileKind::Sound => "sound",
            FileKind::Video => "video",
            FileKind::File => "file",
            FileKind::Snapshot => "snapshot",
        }
    }

    /// The kind named `s` (as [`FileKind::as_str`] writes it).
    pub fn parse(s: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// V2TIM's size limit for the kind, in bytes: images, sound and snapshots 28 MB, video and
    /// files 100 MB. Over it the SDK refuses with 7005 before uploading, and so does the server.
    pub fn max_bytes(self) -> u64 {
        match self {
            FileKind::Image | FileKind::Sound | FileKind::Snapshot => 28 * MB,
            FileKind::Video | FileKind::File => 100 * MB,
        }
    }
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which of an image's three versions an [`ImageVariant`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageVariantKind {
    /// The uploaded image itself.
    Origin,
    /// Scaled so that the shorter side is [`LARGE_SHORT_SIDE`] (never upscaled).
    Large,
    /// Scaled so that the shorter side is [`THUMB_SHORT_SIDE`] (never upscaled).
    Thumb,
}

impl ImageVariantKind {
    /// The name used in JSON (`"origin"`, `"large"`, `"thumb"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ImageVariantKind::Origin => "origin",
            ImageVariantKind::Large => "large",
            ImageVariantKind::Thumb => "thumb",
        }
    }

    /// V2TIM's `V2TIMImageType` value (Android numbering, as Oxim's bindings use it): origin 0,
    /// thumb 1, large 2. See [`crate::message::image_type`].
    pub fn v2tim_type(self) -> i32 {
        match self {
            ImageVariantKind::Origin => crate::message::image_type::ORIGIN,
            ImageVariantKind::Thumb => crate::message::image_type::THUMB,
            ImageVariantKind::Large => crate::message::image_type::LARGE,
        }
    }
}

/// One stored version of an uploaded image (V2TIM's `V2TIMImage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageVariant {
    /// Origin, large or thumb.
    pub kind: ImageVariantKind,
    /// The variant's own file uuid (the origin's is the uploaded file's).
    pub uuid: String,
    /// Where to download it: `/v1/files/<uuid>`, relative to the server's HTTP base URL.
    pub url: String,
    /// Size in bytes.
    pub size: u64,
    /// Width in pixels, as displayed (after the EXIF orientation).
    pub width: u32,
    /// Height in pixels, as displayed (after the EXIF orientation).
    pub height: u32,
}

/// The answer to an upload: where the file is and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedFile {
    /// The file's uuid (32 hex characters).
    pub uuid: String,
    /// Where to download it: `/v1/files/<uuid>`, relative to the server's HTTP base URL.
    pub url: String,
    /// Size in bytes.
    pub size: u64,
    /// The file name the uploader gave.
    pub name: String,
    /// What the file is for.
    pub kind: FileKind,
    /// For [`FileKind::Image`]: origin, large and thumb, in that order. Empty otherwise.
    #[serde(default)]
    pub variants: Vec<ImageVariant>,
}

/// The JSON body of an HTTP error answer from the media routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaError {
    /// V2TIM error code (`crate::code`).
    pub code: i32,
    /// Description.
    pub desc: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_have_v2tim_limits() {
        for kind in FileKind::ALL {
            assert_eq!(FileKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(FileKind::parse("Image"), None);
        assert_eq!(FileKind::Image.max_bytes(), 28 * 1024 * 1024);
        assert_eq!(FileKind::Sound.max_bytes(), 28 * 1024 * 1024);
        assert_eq!(FileKind::Snapshot.max_bytes(), 28 * 1024 * 1024);
        assert_eq!(FileKind::Video.max_bytes(), 100 * 1024 * 1024);
        assert_eq!(FileKind::File.max_bytes(), 100 * 1024 * 1024);
    }

    #[test]
    fn uploaded_file_json_shape() {
        let f = UploadedFile {
            uuid: "0123456789abcdef0123456789abcdef".into(),
            url: file_url("0123456789abcdef0123456789abcdef"),
            size: 3,
            name: "a.png".into(),
            kind: FileKind::Image,
            variants: vec![ImageVariant {
                kind: ImageVariantKind::Thumb,
                uuid: "u".into(),
                url: file_url("u"),
                size: 1,
                width: 2,
                height: 3,
            }],
        };
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["url"], "/v1/files/0123456789abcdef0123456789abcdef");
        assert_eq!(json["kind"], "image");
        assert_eq!(json["variants"][0]["kind"], "thumb");
        assert_eq!(serde_json::from_value::<UploadedFile>(json).unwrap(), f);
        assert!(is_valid_file_uuid(&f.uuid));
        assert!(!is_valid_file_uuid("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_valid_file_uuid("../../etc/passwd"));
    }
}
