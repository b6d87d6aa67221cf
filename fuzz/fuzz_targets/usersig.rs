//! UserSig parsing (the server's `usersig` module, compiled in as it is): base64 variant, zlib,
//! JSON, HMAC. Arbitrary bytes are refused with a code, never a panic; and what the key signs
//! verifies.
#![no_main]

#[allow(dead_code)]
#[path = "../../server/src/usersig.rs"]
mod usersig;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = usersig::UserSigKey::new(1_400_000_000, "fuzz secret key");
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = key.verify(text, "alice", 1_700_000_000) {
        let _ = e.code();
    }
    // A user id taken from the input, signed and verified again.
    let user: String = text.chars().filter(|c| c.is_ascii_graphic()).take(32).collect();
    if !user.is_empty() {
        let sig = key.sign(&user, 1_700_000_000, 3600);
        assert!(key.verify(&sig, &user, 1_700_000_000).is_ok(), "own signature refused for {user:?}");
    }
});
