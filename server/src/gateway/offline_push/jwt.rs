//! JSON Web Tokens the push providers sign (RFC 7519 in RFC 7515's compact form): ES256 for
//! APNs' provider tokens, RS256 for the assertion Google's OAuth endpoint trades for an access
//! token. Keys come from PEM files (PKCS#8; PKCS#1 too for RSA); signing is `ring`'s.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;

/// Seconds since the Unix epoch (JWT's `iat`, `exp`).
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A private key that signs JWTs.
pub enum Signer {
    /// ECDSA P-256 with SHA-256 (`ES256`, APNs).
    Es256(EcdsaKeyPair),
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`RS256`, Google service accounts).
    Rs256(RsaKeyPair),
}

impl Signer {
    /// An ES256 signer from a PKCS#8 PEM key (Apple's `.p8` file).
    pub fn es256_from_pem(pem: &[u8]) -> Result<Signer, String> {
        let key = PrivateKeyDer::from_pem_slice(pem).map_err(|e| format!("not a PEM private key: {e}"))?;
        let PrivateKeyDer::Pkcs8(der) = key else { return Err("an ES256 key must be PKCS#8".into()) };
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.secret_pkcs8_der(), &SystemRandom::new())
            .map(Signer::Es256)
            .map_err(|e| format!("not a P-256 key: {e}"))
    }

    /// An RS256 signer from a PKCS#8 or PKCS#1 PEM key (a service account's `private_key`).
    pub fn rs256_from_pem(pem: &[u8]) -> Result<Signer, String> {
        let key = PrivateKeyDer::from_pem_slice(pem).map_err(|e| format!("not a PEM private key: {e}"))?;
        let pair = match key {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err("an RS256 key must be PKCS#8 or PKCS#1".into()),
        };
        pair.map(Signer::Rs256).map_err(|e| format!("not a usable RSA key: {e}"))
    }

    /// The JWT of `claims` under `header` (`kid`, `typ`), to which this key's `alg` is added.
    pub fn sign(&self, mut header: Value, claims: &Value) -> Result<String, String> {
        header["alg"] = match self {
            Signer::Es256(_) => "ES256",
            Signer::Rs256(_) => "RS256",
        }
        .into();
        let json = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", json(&header), json(claims));
        let rng = SystemRandom::new();
        let signature = match self {
            Signer::Es256(key) => key.sign(&rng, input.as_bytes()).map_err(|e| e.to_string())?.as_ref().to_vec(),
            Signer::Rs256(key) => {
                let mut sig = vec![0; key.public().modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig).map_err(|e| e.to_string())?;
                sig
            }
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, KeyPair, UnparsedPublicKey};
    use serde_json::json;

    #[test]
    fn an_es256_token_verifies_with_the_public_half_and_carries_header_and_claims() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pem = rustls::pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec());
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pem.secret_pkcs8_der())
        );
        let signer = Signer::es256_from_pem(pem.as_bytes()).unwrap();
        let public = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap()
            .public_key()
            .as_ref()
            .to_vec();
        let jwt = signer.sign(json!({"kid": "K1"}), &json!({"iss": "T1", "iat": 5})).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "ES256", "kid": "K1"}));
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims, json!({"iss": "T1", "iat": 5}));
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public);
        key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).unwrap();
        assert!(key.verify(format!("{}.{}x", parts[0], parts[1]).as_bytes(), &sig).is_err());
    }

    #[test]
    fn keys_that_are_not_what_is_asked_are_refused() {
        assert!(Signer::es256_from_pem(b"not a key").is_err());
        assert!(Signer::rs256_from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err());
    }
}
