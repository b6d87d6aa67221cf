//! TLS served by the server itself: a test CA made here (rcgen), the server started with its
//! certificate; clients that trust the CA log in and exchange messages over `wss://` and read
//! `https://`; a client that does not trust it, or that reaches the server under a name the
//! certificate does not carry, is refused; a renewed certificate is picked up without a restart.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use oxim_server::config::TlsFiles;
use oxim_server::{Server, ServerConfig, ServerHandle};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::Message;

/// A certificate authority made for one test.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Ca { issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap() }
    }

    /// Writes a certificate for `names` signed by this CA, and its key, to `dir`.
    fn issue(&self, names: &[&str], dir: &Path) -> TlsFiles {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let files = TlsFiles { cert: dir.join("cert.pem"), key: dir.join("key.pem") };
        // Written beside and renamed: the server never reads half a file.
        std::fs::write(dir.join("cert.tmp"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.tmp"), key.serialize_pem()).unwrap();
        std::fs::rename(dir.join("key.tmp"), &files.key).unwrap();
        std::fs::rename(dir.join("cert.tmp"), &files.cert).unwrap();
        files
    }

    /// A client configuration trusting this CA only.
    fn client(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(rustls::pki_types::CertificateDer::from_pem_slice(self.issuer.pem().as_bytes()).unwrap()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, trust: &Ca) -> Result<Ws, String> {
    let connector = Connector::Rustls(trust.client());
    tokio_tungstenite::connect_async_tls_with_config(url, None, true, Some(connector))
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

async fn call(ws: &mut Ws, id: u64, op: &str, body: Value) -> Value {
    ws.send(Message::Text(json!({"v": 1, "t": "req", "id": id, "op": op, "body": body}).to_string().into()))
        .await
        .unwrap();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("an answer in time");
        let Message::Text(text) = msg.unwrap().unwrap() else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["t"] == "res" && frame["id"] == id {
            return frame;
        }
    }
}

async fn login(server: &ServerHandle, url: &str, trust: &Ca, user: &str) -> Ws {
    let mut ws = connect(url, trust).await.unwrap();
    let body = json!({"sdk_app_id": 1_400_000_000u64, "user_id": user, "user_sig": server.user_sig(user, 600), "platform": "linux"});
    assert_eq!(call(&mut ws, 1, "login", body).await["code"], 0);
    ws
}

/// `GET /healthz` over HTTPS to `host`: the response text, or the TLS error.
async fn healthz(port: u16, host: &str, trust: &Ca) -> Result<String, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from(host.to_owned()).unwrap();
    let mut tls =
        tokio_rustls::TlsConnector::from(trust.client()).connect(name, tcp).await.map_err(|e| e.to_string())?;
    tls.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    tls.read_to_string(&mut out).await.map_err(|e| e.to_string())?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_trusting_clients_refuses_others_and_reloads_a_renewed_certificate() {
    let (data, certs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ca = Ca::new("Oxim test CA");
    let mut config = ServerConfig::for_tests(data.path());
    config.tls = Some(ca.issue(&["localhost"], certs.path()));
    let server = Server::start(config).await.unwrap();
    let port = server.addr().port();
    assert!(server.ws_url().starts_with("wss://") && server.http_url().starts_with("https://"));
    let url = format!("wss://localhost:{port}/v1/ws");

    // Login and messages over wss://.
    let mut bob = login(&server, &url, &ca, "bob").await;
    let mut alice = login(&server, &url, &ca, "alice").await;
    let msg = json!({"msg_id": "t1", "receiver": "bob", "elem": {"type": "text", "text": "over TLS"}});
    assert_eq!(call(&mut alice, 2, "msg.send", json!({"msg": msg})).await["code"], 0);
    let pulled = call(&mut bob, 2, "msg.pull", json!({"conv_id": "c2c_alice", "after_seq": 0, "limit": 10})).await;
    assert_eq!(pulled["body"]["msgs"][0]["elem"]["text"], "over TLS");
    let health = healthz(port, "localhost", &ca).await.unwrap();
    assert!(health.starts_with("HTTP/1.1 200") && health.contains("\"status\":\"ok\""), "{health}");

    // An untrusted certificate, a name the certificate does not carry, plain text: refused.
    let stranger = Ca::new("Some other CA");
    let untrusted = connect(&url, &stranger).await.unwrap_err();
    assert!(untrusted.contains("UnknownIssuer"), "{untrusted}");
    let wrong_name = connect(&format!("wss://127.0.0.1:{port}/v1/ws"), &ca).await.unwrap_err();
    assert!(wrong_name.contains("not valid for name"), "{wrong_name}");
    assert!(healthz(port, "oxim.example", &ca).await.unwrap_err().contains("not valid for name"));
    assert!(tokio_tungstenite::connect_async(format!("ws://localhost:{port}/v1/ws")).await.is_err());

    // A renewed certificate (from another CA, to tell them apart) is served to new connections
    // without a restart; the open connections go on.
    let renewed = Ca::new("Renewed CA");
    renewed.issue(&["localhost"], certs.path());
    let deadline = Instant::now() + Duration::from_secs(20);
    while connect(&url, &renewed).await.is_err() {
        assert!(Instant::now() < deadline, "the renewed certificate was never served");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(connect(&url, &ca).await.is_err(), "the old certificate is no longer served");
    assert_eq!(call(&mut bob, 3, "sync", json!({"since": 0, "limit": 10})).await["code"], 0);

    // A broken pair is refused and the current one kept.
    std::fs::write(certs.path().join("cert.pem"), "not a certificate").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut again = login(&server, &url, &renewed, "carol").await;
    assert_eq!(call(&mut again, 2, "sync", json!({"since": 0, "limit": 10})).await["code"], 0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_missing_or_mismatched_certificate_stops_the_start() {
    let (data, certs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ca = Ca::new("Oxim test CA");
    let files = ca.issue(&["localhost"], certs.path());
    let mut config = ServerConfig::for_tests(data.path());
    config.tls = Some(TlsFiles { cert: files.cert.clone(), key: certs.path().join("missing.pem") });
    let err = Server::start(config.clone()).await.err().expect("no key, no start");
    assert!(err.contains("missing.pem"), "{err}");
    // The key of another certificate.
    let other = tempfile::tempdir().unwrap();
    let stranger = ca.issue(&["localhost"], other.path());
    config.tls = Some(TlsFiles { cert: files.cert, key: stranger.key });
    let err = Server::start(config).await.err().expect("a key that does not match, no start");
    assert!(err.contains("TLS certificate"), "{err}");
}
