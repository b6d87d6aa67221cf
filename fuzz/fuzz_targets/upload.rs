//! What the upload route parses from the client: the query string (kind, name, size), and an
//! image body, decoded and scaled (the server's `media::image` module, compiled in as it is)
//! within its size and memory limits.
#![no_main]

#[allow(dead_code)]
#[path = "../../server/src/media/image.rs"]
mod image_variants;

use libfuzzer_sys::fuzz_target;
use oxim_proto::media::{FileKind, UploadQuery, is_valid_file_name, is_valid_file_uuid};

fuzz_target!(|data: &[u8]| {
    // First line: the query string; the rest: the body.
    let (query, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(q) = serde_urlencoded::from_bytes::<UploadQuery>(query) {
        let _ = q.kind.as_deref().and_then(FileKind::parse).map(FileKind::max_bytes);
        let _ = q.name.as_deref().map(is_valid_file_name);
        let _ = q.size.as_deref().map(str::parse::<u64>);
    }
    let _ = std::str::from_utf8(query).map(is_valid_file_uuid);
    let _ = image_variants::process(body);
});
