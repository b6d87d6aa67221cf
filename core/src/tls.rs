//! The SDK's TLS client configuration (`wss://`, `https://`): rustls with `ring`, TLS 1.2 and
//! 1.3, certificates verified against Mozilla's roots (webpki-roots) plus the certificate
//! authorities the app trusts for a self-hosted server (`V2TIMSDKConfig.trustedCaPem`).
//! Verification is never turned off.

use std::sync::Arc;

use oxim_proto::code;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// The client configuration trusting Mozilla's roots and the certificates in `trusted_ca_pem`
/// (PEM, any number; empty = none). 6017 if the PEM holds no certificate or a malformed one.
pub fn client_config(trusted_ca_pem: &str) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if !trusted_ca_pem.trim().is_empty() {
        let bad = |e: &dyn std::fmt::Display| Error::invalid(format!("trustedCaPem: {e}"));
        let certs = CertificateDer::pem_slice_iter(trusted_ca_pem.as_bytes())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| bad(&e))?;
        if certs.is_empty() {
            return Err(bad(&"no PEM certificate found"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(&e))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(code::SDK_INTERNAL_ERROR, format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The TLS failure among `e` and its causes (a certificate refused, a handshake failed), if
/// that is why a connection failed.
pub fn tls_failure<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // io::Error keeps its inner error out of `source()`.
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(tls);
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_authorities_are_checked() {
        assert!(client_config("").is_ok());
        assert_eq!(client_config("not pem").unwrap_err().code, code::INVALID_PARAMETERS);
        let broken = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        assert_eq!(client_config(broken).unwrap_err().code, code::INVALID_PARAMETERS);
    }
}
