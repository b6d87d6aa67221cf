//! TLS served by the server itself (rustls, `ring`): the certificate chain and key come from PEM
//! files and are reloaded when either file changes (a renewed certificate is served to new
//! connections without a restart; a broken pair is refused and the previous one kept), and
//! [`TlsListener`] hands axum only connections whose handshake finished, so a client that
//! stalls its handshake delays nobody else.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::TlsFiles;

/// How often the certificate files are checked for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(2);
/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Finished handshakes waiting for axum to take them.
const ACCEPTED_QUEUE: usize = 64;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads the certificate chain and key; checks that they belong together.
fn load(files: &TlsFiles) -> Result<Arc<CertifiedKey>, String> {
    let cert_err = |e: &dyn std::fmt::Display| format!("TLS certificate {}: {e}", files.cert.display());
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| cert_err(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(&e))?;
    if chain.is_empty() {
        return Err(cert_err(&"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| format!("TLS key {}: {e}", files.key.display()))?;
    let certified = CertifiedKey::from_der(chain, key, &provider())
        .map_err(|e| format!("TLS certificate {} with key {}: {e}", files.cert.display(), files.key.display()))?;
    Ok(Arc::new(certified))
}

/// When the files last changed (either of them).
fn stamp(files: &TlsFiles) -> Option<(SystemTime, SystemTime)> {
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some((modified(&files.cert)?, modified(&files.key)?))
}

/// The certificate served now; replaced when the files change.
#[derive(Debug)]
struct Reloading {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("certificate lock").clone())
    }
}

/// A TLS acceptor over `files`, and a task that reloads them on change until `shutdown`.
/// Fails if the files cannot be read or do not belong together.
pub fn acceptor(files: TlsFiles, mut shutdown: watch::Receiver<bool>) -> Result<TlsAcceptor, String> {
    let resolver = Arc::new(Reloading { current: RwLock::new(load(&files)?) });
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(resolver.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut last = stamp(&files);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(RELOAD_CHECK);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            let now = stamp(&files);
            if now.is_none() || now == last {
                continue;
            }
            last = now;
            match load(&files) {
                Ok(certified) => {
                    *resolver.current.write().expect("certificate lock") = certified;
                    tracing::info!("TLS certificate reloaded from {}", files.cert.display());
                }
                Err(e) => tracing::warn!("TLS certificate not reloaded, the previous one is kept: {e}"),
            }
        }
    });
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A listener for axum that yields connections once their TLS handshake has finished.
pub struct TlsListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl TlsListener {
    /// Accepts on `tcp` (Nagle off, as for plain connections) and runs each handshake in a
    /// task of its own, with a deadline.
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let (tx, accepted) = mpsc::channel(ACCEPTED_QUEUE);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    // axum stopped listening.
                    _ = tx.closed() => return,
                    r = tcp.accept() => match r {
                        Ok(conn) => conn,
                        Err(e) => {
                            // Out of file descriptors and the like: try again shortly.
                            tracing::warn!("accepting a connection failed: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let _ = stream.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { accepted, addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(conn) => conn,
            // The accepting task never ends while this listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
