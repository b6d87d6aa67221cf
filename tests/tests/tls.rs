//! The SDK over TLS: a server serving a certificate from a CA made in the test (rcgen), SDKs
//! that trust that CA through `V2TIMSDKConfig.trustedCaPem` log in, exchange messages and
//! transfer files over `wss://` and `https://`; an SDK that does not trust it, or that reaches
//! the server under a name the certificate does not carry, is refused with 9501; verification
//! is never off.

use std::sync::Arc;

use oxim_core::message::SendOptions;
use oxim_core::{Elem, Manager, SdkConfig};
use oxim_proto::code;
use oxim_server::config::TlsFiles;
use oxim_tests::{Recorder, Seen, TestClient, TestServer};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// A CA made for the test, and a certificate for `localhost` it issued, written to `dir`.
fn ca_and_certificate(dir: &std::path::Path) -> (String, TlsFiles) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "Oxim test CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()]).unwrap().signed_by(&key, &ca).unwrap();
    let files = TlsFiles { cert: dir.join("cert.pem"), key: dir.join("key.pem") };
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    (ca.pem(), files)
}

/// An SDK instance configured with `url` and `trusted_ca_pem` that is refused: the connection
/// listener hears 9501.
async fn refused(server: &TestServer, url: String, trusted_ca_pem: String) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = SdkConfig::new(url, dir.path());
    config.trusted_ca_pem = trusted_ca_pem;
    let (sdk, seen) = (Manager::new(), Arc::new(Recorder::default()));
    sdk.init_sdk(server.sdk_app_id(), config, Some(seen.clone())).unwrap();
    seen.wait_until("onConnectFailed(9501)", |s| s.contains(&Seen::ConnectFailed(code::SDK_NET_TLS_FAILED))).await;
    assert!(!seen.all().contains(&Seen::ConnectSuccess));
    sdk.uninit_sdk();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_works_over_tls_with_a_trusted_ca_and_is_refused_otherwise() {
    let certs = tempfile::tempdir().unwrap();
    let (ca_pem, files) = ca_and_certificate(certs.path());
    let server = TestServer::start_configured(|c| c.tls = Some(files)).await;
    let port = server.handle().addr().port();
    let url = format!("wss://localhost:{port}");
    let trusting = |c: &mut SdkConfig| {
        c.server_url = url.clone();
        c.trusted_ca_pem = ca_pem.clone();
    };
    let alice = TestClient::new_configured(&server, "linux", trusting).await;
    alice.login(&server, "alice").await;
    let bob = TestClient::new_configured(&server, "linux", trusting).await;
    bob.login(&server, "bob").await;
    bob.listen_advanced();

    // A message, and a file uploaded over https:// and downloaded by the receiver.
    let to_bob = || SendOptions { receiver: "bob".into(), ..SendOptions::default() };
    let mm = alice.mm();
    mm.send_message(mm.create_text_message("over TLS".into()), to_bob()).await.unwrap();
    let path = alice.dir().join("notes.bin");
    let content: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let file = mm.create_file_message(path.to_string_lossy().into_owned(), "notes.bin".into()).unwrap();
    mm.send_message(file, to_bob()).await.unwrap();
    bob.seen.wait_new(2).await;
    let got = bob.seen.new_messages();
    assert_eq!(got[0].elem, Elem::Text { text: "over TLS".into() });
    let Elem::File { file, .. } = &got[1].elem else { panic!("not a file: {:?}", got[1].elem) };
    let out = bob.dir().join("downloaded.bin");
    bob.mm().download(file.url.clone(), out.to_string_lossy().into_owned(), Arc::new(|_, _| {})).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), content);

    // Not trusted (no CA given: Mozilla's roots only), a name the certificate does not carry,
    // another CA: refused with 9501, never connected.
    refused(&server, url.clone(), String::new()).await;
    refused(&server, format!("wss://127.0.0.1:{port}"), ca_pem.clone()).await;
    let (other_ca, _) = ca_and_certificate(tempfile::tempdir().unwrap().path());
    refused(&server, url.clone(), other_ca).await;

    // A trusted CA that is not PEM is a bad parameter at initSDK.
    let dir = tempfile::tempdir().unwrap();
    let mut config = SdkConfig::new(url, dir.path());
    config.trusted_ca_pem = "not a certificate".into();
    assert_eq!(Manager::new().init_sdk(server.sdk_app_id(), config, None).unwrap_err().code, code::INVALID_PARAMETERS);
}
