//! FFI cost (measured by the Python and Kotlin scripts in `bench/ffi/`, which write
//! `key=value` lines) and the size of the shipped library.

use std::io::Write as _;
use std::path::Path;

use crate::report::{Met, Row, count, ns};

/// A row from a file written by `bench/ffi/ffi_bench.py` or `FfiBench.kt`.
pub fn cost_row(path: &Path) -> Row {
    let metric = format!("FFI cost, {}", path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").replace("ffi-", ""));
    let Ok(text) = std::fs::read_to_string(path) else {
        return Row::new(&metric, format!("not measured ({} missing)", path.display()), "report only", Met::Skipped);
    };
    let get = |key: &str| {
        text.lines().find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('='))).unwrap_or("?").trim()
    };
    let num = |key: &str| get(key).parse::<f64>().map(|v| ns(v as u64)).unwrap_or_else(|_| "?".into());
    let n = |key: &str| get(key).parse::<u64>().map(count).unwrap_or_else(|_| "?".into());
    Row::new(
        &format!("FFI cost, {} ({} library)", get("lang"), get("lib")),
        format!(
            "per call: getVersion {}, getLoginUser {} ({} calls each); per listener callback \
             (onRecvC2CTextMessage): median {}, p99 {} ({} callbacks)",
            num("get_version_ns"),
            num("get_login_user_ns"),
            n("calls"),
            num("callback_median_ns"),
            num("callback_p99_ns"),
            n("callbacks"),
        ),
        "report only",
        Met::Report,
    )
}

/// The stripped library's size and its size deflated at level 9 (what a zip/APK stores).
pub fn size_row(lib: Option<&Path>, quick: bool) -> Row {
    const METRIC: &str = "library size (mobile profile, stripped / zipped)";
    const TARGET: &str = "≤ 4 MB stripped, ≤ 1.7 MB zipped (MB = 10⁶ bytes)";
    let Some(lib) = lib else {
        let why = if quick { "not built in --quick" } else { "no --lib given" };
        return Row::new(METRIC, format!("not measured ({why})"), TARGET, Met::Skipped);
    };
    let data = match std::fs::read(lib) {
        Ok(d) => d,
        Err(e) => return Row::failed(METRIC, TARGET, &format!("{}: {e}", lib.display())),
    };
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zipped = z.write_all(&data).and_then(|_| z.finish()).map(|v| v.len()).unwrap_or(0);
    let mb = |b: usize| format!("{:.2} MB", b as f64 / 1e6);
    Row::new(
        METRIC,
        format!("{} / {} ({} / {} bytes)", mb(data.len()), mb(zipped), count(data.len() as u64), count(zipped as u64)),
        TARGET,
        Met::check(data.len() <= 4_000_000 && zipped <= 1_700_000, quick),
    )
}
