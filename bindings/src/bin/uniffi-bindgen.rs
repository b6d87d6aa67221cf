//! The UniFFI bindings generator, pinned to the workspace's UniFFI version.
//! `cargo run -p oxim-ffi --features cli --bin uniffi-bindgen -- generate --library ...`
fn main() {
    uniffi::uniffi_bindgen_main()
}
