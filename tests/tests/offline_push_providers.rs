//! APNs and FCM end to end: the server's real HTTP/2 clients push to a loopback stand-in for
//! Apple's and Google's endpoints (TLS with a CA made here, trusted through `[push] ca_file`),
//! which checks every request as Apple and Google document it — the path, the headers, the
//! provider token (an ES256 JWT verified with the public half of the test's key), the OAuth
//! assertion (RS256, verified likewise) and the access token its token endpoint issued, the JSON
//! body — and answers with their documented errors. A message sent while the recipient's app is
//! killed reaches the stand-in; rejected tokens are forgotten, an expired provider token is
//! renewed, throttling and server errors are retried (after `Retry-After` when given).

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, Version};
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oxim_core::{OfflinePushConfig, UserInfoChange};
use oxim_server::config::{ApnsEnvironment, ApnsSettings, FcmSettings, Vendor, VendorSettings};
use oxim_tests::{TestClient, TestServer};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use ring::signature::{ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::{Value, json};

const KEY_ID: &str = "ABC123DEFG";
const TEAM_ID: &str = "DEF123GHIJ";
const TOPIC: &str = "com.example.oxim";
const PROJECT: &str = "oxim-test";
const CLIENT_EMAIL: &str = "pusher@oxim-test.iam.gserviceaccount.com";
const SA_KEY_ID: &str = "0123456789abcdef";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const APNS_ID: i64 = 1001;
const FCM_ID: i64 = 2002;

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// One request the stand-in took.
#[derive(Debug, Clone)]
struct Got {
    /// Which service's endpoint took it.
    service: &'static str,
    token: String,
    /// APNs: the provider token; FCM: the access token.
    auth: String,
    body: Value,
    at: Instant,
}

/// An answer the stand-in gives instead of success: status, JSON body, `Retry-After`.
type Answer = (u16, Value, Option<u64>);

#[derive(Default)]
struct StandInState {
    apns_public_key: Vec<u8>,
    fcm_public_key: Vec<u8>,
    token_uri: String,
    got: Vec<Got>,
    /// Requests that broke the documented form.
    problems: Vec<String>,
    script: HashMap<String, VecDeque<Answer>>,
    access_tokens: Vec<String>,
    revoked: Vec<String>,
    /// The life of the Huawei access tokens issued from now on (0: an hour).
    huawei_expires_in: u64,
    /// When each Huawei access token stops being accepted.
    huawei_expiry: HashMap<String, Instant>,
    /// Huawei requests refused because their access token had expired.
    huawei_expired_uses: usize,
}

/// Apple's and Google's endpoints on one loopback HTTP/2 server.
#[derive(Clone, Default)]
struct StandIn(Arc<Mutex<StandInState>>);

/// Decodes a JWT's header and claims and checks its signature with `key`.
fn jwt_parts(jwt: &str, key: &UnparsedPublicKey<&[u8]>) -> Result<(Value, Value), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, sig] = parts[..] else { return Err(format!("not a JWT: {jwt}")) };
    let decode = |p: &str| -> Result<Value, String> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    };
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|e| e.to_string())?;
    key.verify(format!("{header}.{claims}").as_bytes(), &sig).map_err(|_| "bad JWT signature".to_string())?;
    Ok((decode(header)?, decode(claims)?))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

impl StandIn {
    fn answer(&self, token: &str, answers: Vec<Answer>) {
        self.0.lock().unwrap().script.insert(token.into(), answers.into());
    }

    fn got(&self) -> Vec<Got> {
        self.0.lock().unwrap().got.clone()
    }

    fn access_tokens(&self) -> usize {
        self.0.lock().unwrap().access_tokens.len()
    }

    fn problems(&self) -> Vec<String> {
        self.0.lock().unwrap().problems.clone()
    }

    /// Waits (at most 10 s) until `n` requests arrived; returns them.
    async fn wait(&self, n: usize) -> Vec<Got> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.got().len() < n {
            assert!(
                Instant::now() < deadline,
                "{} of {n} pushes arrived: {:?}; {:?}",
                self.got().len(),
                self.got(),
                self.problems()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.got()
    }

    /// Records a request (or the problems found in it) and picks the answer: the scripted one
    /// for the token, else success.
    fn take(
        &self,
        service: &'static str,
        token: &str,
        auth: String,
        body: Value,
        problems: Vec<String>,
    ) -> Option<Answer> {
        let mut state = self.0.lock().unwrap();
        if !problems.is_empty() {
            state.problems.extend(problems);
            return Some((400, json!({"reason": "StandInCheckFailed"}), None));
        }
        state.got.push(Got { service, token: token.into(), auth, body, at: Instant::now() });
        state.script.get_mut(token).and_then(VecDeque::pop_front)
    }

    /// `POST /3/device/{token}`, as "Sending notification requests to APNs" documents it.
    async fn apns(
        State(s): State<StandIn>,
        UrlPath(token): UrlPath<String>,
        version: Version,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::response::Response {
        let mut problems = vec![];
        let key = s.0.lock().unwrap().apns_public_key.clone();
        let jwt = header(&headers, "authorization").strip_prefix("bearer ").unwrap_or_default().to_owned();
        if version != Version::HTTP_2 {
            problems.push(format!("APNs over {version:?}"));
        }
        match jwt_parts(&jwt, &UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key[..])) {
            Err(e) => problems.push(format!("provider token: {e}")),
            Ok((h, c)) => {
                if h != json!({"alg": "ES256", "kid": KEY_ID}) {
                    problems.push(format!("JWT header {h}"));
                }
                let iat = c["iat"].as_u64().unwrap_or(0);
                if c["iss"] != TEAM_ID || iat.abs_diff(unix_now()) > 60 || c.as_object().unwrap().len() != 2 {
                    problems.push(format!("JWT claims {c}"));
                }
            }
        }
        let expected = [("apns-topic", TOPIC), ("apns-push-type", "alert"), ("apns-priority", "10")];
        for (name, want) in expected {
            if header(&headers, name) != want {
                problems.push(format!("{name}: {:?}", header(&headers, name)));
            }
        }
        if !header(&headers, "apns-expiration").parse::<u64>().is_ok_and(|t| t > unix_now()) {
            problems.push(format!("apns-expiration {:?}", header(&headers, "apns-expiration")));
        }
        if header(&headers, "apns-collapse-id").is_empty() || header(&headers, "apns-collapse-id").len() > 64 {
            problems.push("apns-collapse-id".into());
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if !body["aps"]["alert"]["body"].is_string() || body["aps"]["sound"].as_str().is_none() {
            problems.push(format!("payload {body}"));
        }
        match s.take("apns", &token, jwt, body, problems) {
            None => (StatusCode::OK, [("apns-id", "EC1BF194-B3B2-424A-89A9-5A918A6E6B6E")]).into_response(),
            Some((status, answer, _)) => (StatusCode::from_u16(status).unwrap(), axum::Json(answer)).into_response(),
        }
    }

    /// The service account's `token_uri`: a JWT-bearer grant for an access token.
    async fn oauth_token(State(s): State<StandIn>, headers: HeaderMap, body: String) -> axum::response::Response {
        let (key, token_uri) = {
            let state = s.0.lock().unwrap();
            (state.fcm_public_key.clone(), state.token_uri.clone())
        };
        let form: HashMap<&str, &str> = body.split('&').filter_map(|kv| kv.split_once('=')).collect();
        let mut problems = vec![];
        if header(&headers, "content-type") != "application/x-www-form-urlencoded" {
            problems.push(format!("token request content-type {:?}", header(&headers, "content-type")));
        }
        if form.get("grant_type") != Some(&"urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer") {
            problems.push(format!("grant_type {:?}", form.get("grant_type")));
        }
        let assertion = form.get("assertion").copied().unwrap_or_default();
        match jwt_parts(assertion, &UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key[..])) {
            Err(e) => problems.push(format!("assertion: {e}")),
            Ok((h, c)) => {
                if h != json!({"alg": "RS256", "typ": "JWT", "kid": SA_KEY_ID}) {
                    problems.push(format!("assertion header {h}"));
                }
                let (iat, exp) = (c["iat"].as_u64().unwrap_or(0), c["exp"].as_u64().unwrap_or(0));
                let claims_ok = c["iss"] == CLIENT_EMAIL && c["scope"] == SCOPE && c["aud"] == token_uri.as_str();
                if !claims_ok || iat.abs_diff(unix_now()) > 60 || exp != iat + 3600 {
                    problems.push(format!("assertion claims {c}"));
                }
            }
        }
        let mut state = s.0.lock().unwrap();
        if !problems.is_empty() {
            state.problems.extend(problems);
            return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_grant"}))).into_response();
        }
        let token = format!("ya29.stand-in-{}", state.access_tokens.len() + 1);
        state.access_tokens.push(token.clone());
        axum::Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})).into_response()
    }

    /// `POST /v1/projects/{project}/messages:send`, as FCM's HTTP v1 reference documents it.
    async fn fcm(
        State(s): State<StandIn>,
        UrlPath(project): UrlPath<String>,
        version: Version,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::response::Response {
        let mut problems = vec![];
        if version != Version::HTTP_2 {
            problems.push(format!("FCM over {version:?}"));
        }
        if project != PROJECT {
            problems.push(format!("project {project}"));
        }
        let bearer = header(&headers, "authorization").strip_prefix("Bearer ").unwrap_or_default().to_owned();
        let (issued, revoked) = {
            let state = s.0.lock().unwrap();
            (state.access_tokens.contains(&bearer), state.revoked.contains(&bearer))
        };
        if !issued {
            problems.push(format!("access token {bearer:?} was not issued"));
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let m = &body["message"];
        let data_ok = m["data"].as_object().is_some_and(|d| d.values().all(Value::is_string));
        if !m["token"].is_string()
            || !m["notification"]["body"].is_string()
            || !data_ok
            || m["android"]["priority"] != "high"
        {
            problems.push(format!("message {body}"));
        }
        if revoked {
            let answer = json!({"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "expired"}});
            return (StatusCode::UNAUTHORIZED, axum::Json(answer)).into_response();
        }
        let token = m["token"].as_str().unwrap_or_default().to_owned();
        match s.take("fcm", &token, bearer.clone(), body, problems) {
            None => axum::Json(json!({"name": format!("projects/{PROJECT}/messages/1")})).into_response(),
            Some((401, _, _)) => {
                // The access token is revoked from now on: this and later uses are refused.
                s.0.lock().unwrap().revoked.push(bearer);
                let answer = json!({"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "expired"}});
                (StatusCode::UNAUTHORIZED, axum::Json(answer)).into_response()
            }
            Some((status, answer, retry_after)) => {
                let mut res = (StatusCode::from_u16(status).unwrap(), axum::Json(answer)).into_response();
                if let Some(secs) = retry_after {
                    res.headers_mut().insert("retry-after", secs.to_string().parse().unwrap());
                }
                res
            }
        }
    }
}

/// A TLS listener for axum: connections whose handshake (offering h2) finished.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    tls: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else { continue };
            if let Ok(tls) = self.tls.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Starts the stand-in with a certificate from a CA made here (written to `dir/ca.pem`);
/// returns it and its base URL.
async fn start_stand_in(dir: &Path, apns_public_key: Vec<u8>, fcm_public_key: Vec<u8>) -> (StandIn, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "Oxim push stand-in CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()]).unwrap().signed_by(&key, &ca).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    tls.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}", tcp.local_addr().unwrap().port());
    let stand_in = StandIn::default();
    {
        let mut state = stand_in.0.lock().unwrap();
        state.apns_public_key = apns_public_key;
        state.fcm_public_key = fcm_public_key;
        state.token_uri = format!("{url}/token");
    }
    let app = axum::Router::new()
        .route("/3/device/{token}", axum::routing::post(StandIn::apns))
        .route("/token", axum::routing::post(StandIn::oauth_token))
        .route("/v1/projects/{project}/messages:send", axum::routing::post(StandIn::fcm))
        .route("/v3/message/regid", axum::routing::post(StandIn::xiaomi))
        .route("/oauth2/v3/token", axum::routing::post(StandIn::huawei_token))
        .route("/v1/{app}/messages:send", axum::routing::post(StandIn::huawei))
        .route("/server/v1/auth", axum::routing::post(StandIn::oppo_auth))
        .route("/server/v1/message/notification/unicast", axum::routing::post(StandIn::oppo))
        .route("/message/auth", axum::routing::post(StandIn::vivo_auth))
        .route("/message/send", axum::routing::post(StandIn::vivo))
        .route("/garcia/api/server/push/varnished/pushByPushId", axum::routing::post(StandIn::meizu))
        .with_state(stand_in.clone());
    let listener = TlsListener { tcp, tls: tokio_rustls::TlsAcceptor::from(Arc::new(tls)) };
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (stand_in, url)
}

/// The test's APNs key (`.p8`, PKCS#8 PEM) written to `dir`, and its public half.
fn apns_key(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let key = KeyPair::generate().unwrap();
    let file = dir.join("AuthKey.p8");
    std::fs::write(&file, key.serialize_pem()).unwrap();
    (file, key.public_key_raw().to_vec())
}

/// The test's service account key file (with the stand-in's `token_uri`), and the public half
/// of its RSA key (PKCS#1 DER).
fn service_account(dir: &Path, base_url: &str, key: &rsa::RsaPrivateKey) -> std::path::PathBuf {
    use rsa::pkcs8::EncodePrivateKey;
    let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let account = json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": SA_KEY_ID,
        "private_key": pem.as_str(),
        "client_email": CLIENT_EMAIL,
        "client_id": "1",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": format!("{base_url}/token"),
    });
    let file = dir.join("service-account.json");
    std::fs::write(&file, account.to_string()).unwrap();
    file
}

fn rsa_key() -> (rsa::RsaPrivateKey, Vec<u8>) {
    use rsa::pkcs1::EncodeRsaPublicKey;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let public = key.to_public_key().to_pkcs1_der().unwrap().as_bytes().to_vec();
    (key, public)
}

/// A server pushing through APNs (business id [`APNS_ID`]) and FCM ([`FCM_ID`]) at the
/// stand-in, and the stand-in.
async fn push_server() -> (TestServer, StandIn, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (apns_key_file, apns_public) = apns_key(dir.path());
    let (rsa, rsa_public) = rsa_key();
    let (stand_in, url) = start_stand_in(dir.path(), apns_public, rsa_public).await;
    let account = service_account(dir.path(), &url, &rsa);
    let ca_file = dir.path().join("ca.pem");
    let server = TestServer::start_configured(|c| {
        c.push.apns = vec![ApnsSettings {
            business_id: APNS_ID,
            key_file: apns_key_file,
            key_id: KEY_ID.into(),
            team_id: TEAM_ID.into(),
            topic: TOPIC.into(),
            environment: ApnsEnvironment::Sandbox,
            endpoint: url.clone(),
        }];
        c.push.fcm = vec![FcmSettings {
            business_id: FCM_ID,
            service_account_file: account,
            channel_id: "messages".into(),
            endpoint: url,
        }];
        c.push.ca_file = Some(ca_file);
        c.push.backoff_ms = 20;
    })
    .await;
    (server, stand_in, dir)
}

/// `user`'s device on `platform`, registered with `business_id` and `token`, then killed (the
/// app ends without logging out: offline push reaches it).
async fn killed_device(server: &TestServer, user: &str, platform: &str, business_id: i64, token: &str) {
    let c = TestClient::logged_in(server, user, platform).await;
    let config = OfflinePushConfig { business_id, token: token.into(), is_tpns_token: false };
    c.sdk.offline_push_manager().set_offline_push_config(config).await.unwrap();
    drop(c);
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.handle().is_online(user) {
        assert!(Instant::now() < deadline, "{user} still online");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn alice(server: &TestServer) -> TestClient {
    let alice = TestClient::logged_in(server, "alice", "linux").await;
    alice.sdk.set_self_info(UserInfoChange { nick_name: Some("Alice".into()), ..Default::default() }).await.unwrap();
    alice
}

async fn send(from: &TestClient, text: &str) {
    from.sdk.send_c2c_text_message(text.into(), "bob".into()).await.unwrap();
}

/// Waits (at most 10 s) until bob's device on `platform` is no longer registered.
async fn wait_forgotten(server: &TestServer, platform: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let devices = server.handle().push_devices(&["bob"]).await.unwrap();
        if !devices.iter().any(|d| d.platform == platform && d.config.is_some()) {
            return;
        }
        assert!(Instant::now() < deadline, "bob's {platform} is still registered: {devices:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn registered(server: &TestServer, platform: &str) -> bool {
    server.handle().push_devices(&["bob"]).await.unwrap().iter().any(|d| d.platform == platform && d.config.is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apns_gets_documented_requests_and_its_answers_renew_the_token_retry_and_forget_devices() {
    let (server, stand_in, _dir) = push_server().await;
    let alice = alice(&server).await;
    killed_device(&server, "bob", "iphone", APNS_ID, "a1b2c3").await;

    send(&alice, "hello").await;
    let got = stand_in.wait(1).await;
    assert_eq!(got[0].token, "a1b2c3");
    assert_eq!(got[0].body, json!({"aps": {"alert": {"body": "Alice: hello"}, "badge": 1, "sound": "default"}}));

    // Apple says the provider token expired: a new one is signed and the push sent again.
    stand_in.answer("a1b2c3", vec![(403, json!({"reason": "ExpiredProviderToken"}), None)]);
    send(&alice, "renewed").await;
    let got = stand_in.wait(3).await;
    assert_eq!(
        (got[1].body["aps"]["alert"]["body"].as_str(), got[2].body["aps"]["alert"]["body"].as_str()),
        (Some("Alice: renewed"), Some("Alice: renewed"))
    );
    assert_eq!(got[1].auth, got[0].auth, "the provider token is reused");
    assert_ne!(got[2].auth, got[1].auth, "a new provider token after ExpiredProviderToken");

    // Throttling and Apple's server errors: sent again, with backoff, under the new token.
    stand_in.answer(
        "a1b2c3",
        vec![(429, json!({"reason": "TooManyRequests"}), None), (503, json!({"reason": "ServiceUnavailable"}), None)],
    );
    send(&alice, "later").await;
    let got = stand_in.wait(6).await;
    assert!(
        got[3..6].iter().all(|g| g.body["aps"]["alert"]["body"] == "Alice: later" && g.auth == got[2].auth),
        "{got:?}"
    );
    assert_eq!(got[5].body["aps"]["badge"], 3, "one badge step per message, not per try");

    // BadDeviceToken and Unregistered: each device is forgotten.
    killed_device(&server, "bob", "ipad", APNS_ID, "d4e5f6").await;
    stand_in.answer("a1b2c3", vec![(410, json!({"reason": "Unregistered", "timestamp": 1_764_000_000_000u64}), None)]);
    stand_in.answer("d4e5f6", vec![(400, json!({"reason": "BadDeviceToken"}), None)]);
    send(&alice, "gone").await;
    wait_forgotten(&server, "iphone").await;
    wait_forgotten(&server, "ipad").await;
    assert_eq!(stand_in.got().len(), 8);
    assert_eq!(stand_in.problems(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fcm_gets_documented_requests_with_an_oauth_token_and_its_answers_retry_and_forget_devices() {
    let (server, stand_in, _dir) = push_server().await;
    let alice = alice(&server).await;
    killed_device(&server, "bob", "android", FCM_ID, "fcm-phone").await;

    send(&alice, "hello").await;
    send(&alice, "again").await;
    let got = stand_in.wait(2).await;
    assert_eq!(
        got[0].body,
        json!({"message": {
            "token": "fcm-phone",
            "notification": {"body": "Alice: hello"},
            "data": {"msg_id": got[0].body["message"]["data"]["msg_id"], "sender": "alice"},
            "android": {"priority": "high", "notification": {"sound": "default", "channel_id": "messages", "notification_count": 1}},
        }})
    );
    assert_eq!(got[1].body["message"]["notification"]["body"], "Alice: again");
    assert_eq!(stand_in.access_tokens(), 1, "the access token is kept");
    assert_eq!(got[1].auth, got[0].auth);

    // UNAVAILABLE with Retry-After: 1 — the next try waits that long, not the 20 ms backoff.
    let unavailable = json!({"error": {"code": 503, "status": "UNAVAILABLE", "message": "busy",
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNAVAILABLE"}]}});
    stand_in.answer("fcm-phone", vec![(503, unavailable, Some(1))]);
    send(&alice, "later").await;
    let got = stand_in.wait(4).await;
    assert!(got[2..4].iter().all(|g| g.body["message"]["notification"]["body"] == "Alice: later"), "{got:?}");
    assert!(got[3].at - got[2].at >= Duration::from_millis(900), "Retry-After honoured: {:?}", got[3].at - got[2].at);

    // The access token is refused (UNAUTHENTICATED): a new one is fetched and the push sent.
    stand_in.answer("fcm-phone", vec![(401, Value::Null, None)]);
    send(&alice, "new token").await;
    let got = stand_in.wait(6).await;
    assert_eq!(stand_in.access_tokens(), 2);
    assert_eq!(got[5].body["message"]["notification"]["body"], "Alice: new token");
    assert_ne!(got[5].auth, got[4].auth);

    // INVALID_ARGUMENT about something else than the token: the device stays.
    let bad_field = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Invalid value at 'message.android.ttl'",
        "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "message.android.ttl"}]}]}});
    stand_in.answer("fcm-phone", vec![(400, bad_field, None)]);
    send(&alice, "kept").await;
    stand_in.wait(7).await;
    send(&alice, "marker").await;
    let got = stand_in.wait(8).await;
    assert_eq!(got[7].body["message"]["notification"]["body"], "Alice: marker");
    assert!(registered(&server, "android").await);

    // UNREGISTERED and INVALID_ARGUMENT on the token: each device is forgotten.
    killed_device(&server, "bob", "tablet", FCM_ID, "fcm-tablet").await;
    let unregistered = json!({"error": {"code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
    let bad_token = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
        "message": "The registration token is not a valid FCM registration token",
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"}]}});
    stand_in.answer("fcm-phone", vec![(404, unregistered, None)]);
    stand_in.answer("fcm-tablet", vec![(400, bad_token, None)]);
    send(&alice, "gone").await;
    wait_forgotten(&server, "android").await;
    wait_forgotten(&server, "tablet").await;
    assert_eq!(stand_in.problems(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_device_goes_through_the_provider_of_its_business_id() {
    let (server, stand_in, _dir) = push_server().await;
    let alice = alice(&server).await;
    // A business id nothing is configured for (and no webhook): never sent anywhere.
    killed_device(&server, "bob", "watch", 77, "unknown").await;
    killed_device(&server, "bob", "iphone", APNS_ID, "abcdef").await;
    killed_device(&server, "bob", "android", FCM_ID, "fcm-token").await;
    send(&alice, "both").await;
    send(&alice, "marker").await;
    let got = stand_in.wait(4).await;
    let mut tokens: Vec<&str> = got.iter().map(|g| g.token.as_str()).collect();
    tokens.sort();
    assert_eq!(tokens, ["abcdef", "abcdef", "fcm-token", "fcm-token"]);
    assert!(got.iter().any(|g| g.body["aps"]["alert"]["body"] == "Alice: marker"));
    assert!(got.iter().any(|g| g.body["message"]["notification"]["body"] == "Alice: marker"));
    assert_eq!(stand_in.problems(), Vec::<String>::new());
}

// The Android vendors' stand-ins: each checks the documented request shape and signature.

const XIAOMI_ID: i64 = 3001;
const HUAWEI_ID: i64 = 3002;
const OPPO_ID: i64 = 3003;
const VIVO_ID: i64 = 3004;
const MEIZU_ID: i64 = 3005;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn form(body: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = vec![];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' if i + 2 < bytes.len() => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).unwrap_or_default()
    };
    body.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn md5_hex(s: &str) -> String {
    use md5::Digest;
    hex(&md5::Md5::digest(s))
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(s))
}

impl StandIn {
    /// Records a vendor request as {title, body}; the scripted answer or `ok`.
    fn vendor(
        &self,
        service: &'static str,
        token: &str,
        title: &str,
        body: &str,
        problems: Vec<String>,
        ok: Value,
    ) -> axum::response::Response {
        let shown = json!({"title": title, "body": body});
        match self.take(service, token, String::new(), shown, problems) {
            None => axum::Json(ok).into_response(),
            Some((status, answer, _)) => (StatusCode::from_u16(status).unwrap(), axum::Json(answer)).into_response(),
        }
    }

    async fn xiaomi(State(s): State<StandIn>, headers: HeaderMap, body: String) -> axum::response::Response {
        let f = form(&body);
        let mut problems = vec![];
        if header(&headers, "authorization") != "key=xm-secret" {
            problems.push(format!("Xiaomi authorization {:?}", header(&headers, "authorization")));
        }
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        if get("restricted_package_name") != "com.example.oxim"
            || get("pass_through") != "0"
            || get("notify_type").is_empty()
            || get("title").is_empty()
        {
            problems.push(format!("Xiaomi form {f:?}"));
        }
        s.vendor(
            "xiaomi",
            &get("registration_id"),
            &get("title"),
            &get("description"),
            problems,
            json!({"result": "ok", "code": 0, "data": {"id": "x1"}}),
        )
    }

    async fn huawei_token(State(s): State<StandIn>, body: String) -> axum::response::Response {
        let f = form(&body);
        let mut state = s.0.lock().unwrap();
        let ok = f.get("grant_type").map(String::as_str) == Some("client_credentials")
            && f.get("client_id").map(String::as_str) == Some("hw-app")
            && f.get("client_secret").map(String::as_str) == Some("hw-secret");
        if !ok {
            state.problems.push(format!("Huawei token request {f:?}"));
            return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": 1101}))).into_response();
        }
        let token = format!("hw-access-{}", state.access_tokens.len() + 1);
        state.access_tokens.push(token.clone());
        let expires_in = if state.huawei_expires_in == 0 { 3600 } else { state.huawei_expires_in };
        state.huawei_expiry.insert(token.clone(), Instant::now() + Duration::from_secs(expires_in));
        axum::Json(json!({"access_token": token, "expires_in": expires_in, "token_type": "Bearer"})).into_response()
    }

    /// `POST /v1/{appId}/messages:send`: an access token past its expiry, or one refused before
    /// (a scripted 401), is answered 401 as Huawei documents (80200003, 80200001).
    async fn huawei(
        State(s): State<StandIn>,
        UrlPath(app): UrlPath<String>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::response::Response {
        let mut problems = vec![];
        let bearer = header(&headers, "authorization").strip_prefix("Bearer ").unwrap_or_default().to_owned();
        if app != "hw-app" || !s.0.lock().unwrap().access_tokens.contains(&bearer) {
            problems.push(format!("Huawei app {app} bearer {bearer:?}"));
        }
        {
            let mut state = s.0.lock().unwrap();
            if state.revoked.contains(&bearer) {
                let answer = json!({"code": "80200001", "msg": "Oauth authentication error"});
                return (StatusCode::UNAUTHORIZED, axum::Json(answer)).into_response();
            }
            if state.huawei_expiry.get(&bearer).is_some_and(|at| Instant::now() >= *at) {
                state.huawei_expired_uses += 1;
                let answer = json!({"code": "80200003", "msg": "Oauth Token expired"});
                return (StatusCode::UNAUTHORIZED, axum::Json(answer)).into_response();
            }
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let n = &body["message"]["android"]["notification"];
        if body["message"]["token"].as_array().is_none_or(|t| t.len() != 1) || n["click_action"]["type"] != 3 {
            problems.push(format!("Huawei message {body}"));
        }
        let token = body["message"]["token"][0].as_str().unwrap_or_default();
        let shown = json!({"title": n["title"], "body": n["body"]});
        match s.take("huawei", token, bearer.clone(), shown, problems) {
            None => axum::Json(json!({"code": "80000000", "msg": "Success", "requestId": "1"})).into_response(),
            Some((status, answer, _)) => {
                if status == 401 {
                    // Refused from now on.
                    s.0.lock().unwrap().revoked.push(bearer);
                }
                (StatusCode::from_u16(status).unwrap(), axum::Json(answer)).into_response()
            }
        }
    }

    async fn oppo_auth(State(s): State<StandIn>, body: String) -> axum::response::Response {
        let f = form(&body);
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        let sign = sha256_hex(&format!("{}{}{}", get("app_key"), get("timestamp"), "oppo-master"));
        if get("app_key") != "oppo-key" || get("sign") != sign || get("timestamp").parse::<u64>().is_err() {
            s.0.lock().unwrap().problems.push(format!("OPPO auth {f:?}"));
            return axum::Json(json!({"code": 11, "message": "Invalid AuthToken"})).into_response();
        }
        axum::Json(json!({"code": 0, "message": "Success", "data": {"auth_token": "oppo-auth", "create_time": 1}}))
            .into_response()
    }

    async fn oppo(State(s): State<StandIn>, headers: HeaderMap, body: String) -> axum::response::Response {
        let f = form(&body);
        let mut problems = vec![];
        if header(&headers, "auth_token") != "oppo-auth" {
            problems.push("OPPO auth_token".into());
        }
        let m: Value =
            serde_json::from_str(f.get("message").map(String::as_str).unwrap_or("null")).unwrap_or(Value::Null);
        let n = &m["notification"];
        if m["target_type"] != 2 || n["channel_id"] != "im" {
            problems.push(format!("OPPO message {m}"));
        }
        let ok = json!({"code": 0, "message": "Success", "data": {"messageId": "o1"}});
        s.vendor(
            "oppo",
            m["target_value"].as_str().unwrap_or_default(),
            n["title"].as_str().unwrap_or_default(),
            n["content"].as_str().unwrap_or_default(),
            problems,
            ok,
        )
    }

    async fn vivo_auth(State(s): State<StandIn>, axum::Json(b): axum::Json<Value>) -> axum::response::Response {
        let ts = b["timestamp"].as_u64().unwrap_or(0);
        let sign = md5_hex(&format!("10086vivo-key{ts}vivo-secret"));
        if b["appId"] != 10086
            || b["appKey"] != "vivo-key"
            || b["sign"] != sign.as_str()
            || (ts / 1000).abs_diff(unix_now()) > 60
        {
            s.0.lock().unwrap().problems.push(format!("vivo auth {b}"));
            return axum::Json(json!({"result": 10200, "desc": "bad"})).into_response();
        }
        axum::Json(json!({"result": 0, "desc": "请求成功", "authToken": "vivo-auth"})).into_response()
    }

    async fn vivo(
        State(s): State<StandIn>,
        headers: HeaderMap,
        axum::Json(b): axum::Json<Value>,
    ) -> axum::response::Response {
        let mut problems = vec![];
        if header(&headers, "authToken") != "vivo-auth" {
            problems.push("vivo authToken".into());
        }
        if b["appId"] != 10086
            || b["notifyType"].as_i64().is_none()
            || b["skipType"] != 1
            || b["requestId"].as_str().is_none_or(str::is_empty)
        {
            problems.push(format!("vivo message {b}"));
        }
        let ok = json!({"result": 0, "desc": "请求成功", "taskId": "v1"});
        s.vendor(
            "vivo",
            b["regId"].as_str().unwrap_or_default(),
            b["title"].as_str().unwrap_or_default(),
            b["content"].as_str().unwrap_or_default(),
            problems,
            ok,
        )
    }

    async fn meizu(State(s): State<StandIn>, body: String) -> axum::response::Response {
        let f = form(&body);
        let mut problems = vec![];
        let mut signed: Vec<(&String, &String)> = f.iter().filter(|(k, _)| *k != "sign").collect();
        signed.sort();
        let base: String = signed.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if f.get("sign") != Some(&md5_hex(&format!("{base}mz-secret")))
            || f.get("appId").map(String::as_str) != Some("110")
        {
            problems.push(format!("Meizu form {f:?}"));
        }
        let m: Value =
            serde_json::from_str(f.get("messageJson").map(String::as_str).unwrap_or("null")).unwrap_or(Value::Null);
        let bar = &m["noticeBarInfo"];
        let token = f.get("pushIds").cloned().unwrap_or_default();
        let ok = json!({"code": "200", "message": "", "value": {}, "msgId": "m1"});
        s.vendor(
            "meizu",
            &token,
            bar["title"].as_str().unwrap_or_default(),
            bar["content"].as_str().unwrap_or_default(),
            problems,
            ok,
        )
    }
}

fn vendor(
    dir: &Path,
    url: &str,
    business_id: i64,
    vendor: Vendor,
    app_id: &str,
    app_key: &str,
    secret: &str,
) -> VendorSettings {
    let secret_file = dir.join(format!("{business_id}.secret"));
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    VendorSettings {
        business_id,
        vendor,
        app_id: app_id.into(),
        app_key: app_key.into(),
        secret_file,
        package_name: "com.example.oxim".into(),
        channel_id: "im".into(),
        default_title: "Oxim".into(),
        endpoint: url.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn vendor_channels_get_their_documented_requests_and_forget_the_tokens_they_reject() {
    let dir = tempfile::tempdir().unwrap();
    let (stand_in, url) = start_stand_in(dir.path(), vec![], vec![]).await;
    let d = dir.path();
    let vendors = vec![
        vendor(d, &url, XIAOMI_ID, Vendor::Xiaomi, "", "", "xm-secret"),
        vendor(d, &url, HUAWEI_ID, Vendor::Huawei, "hw-app", "", "hw-secret"),
        vendor(d, &url, OPPO_ID, Vendor::Oppo, "", "oppo-key", "oppo-master"),
        vendor(d, &url, VIVO_ID, Vendor::Vivo, "10086", "vivo-key", "vivo-secret"),
        vendor(d, &url, MEIZU_ID, Vendor::Meizu, "110", "", "mz-secret"),
    ];
    let ca_file = d.join("ca.pem");
    let server = TestServer::start_configured(|c| {
        c.push.vendor = vendors;
        c.push.ca_file = Some(ca_file);
        c.push.backoff_ms = 20;
    })
    .await;
    let alice = alice(&server).await;
    let devices =
        [("xiaomi", XIAOMI_ID), ("huawei", HUAWEI_ID), ("oppo", OPPO_ID), ("vivo", VIVO_ID), ("meizu", MEIZU_ID)];
    for (platform, id) in devices {
        killed_device(&server, "bob", platform, id, &format!("{platform}-token")).await;
    }
    send(&alice, "hello").await;
    let got = stand_in.wait(5).await;
    let mut seen: Vec<(&str, &str, Value)> =
        got.iter().map(|g| (g.service, g.token.as_str(), g.body.clone())).collect();
    seen.sort_by_key(|(service, _, _)| *service);
    let shown = json!({"title": "Oxim", "body": "Alice: hello"});
    assert_eq!(
        seen,
        [
            ("huawei", "huawei-token", shown.clone()),
            ("meizu", "meizu-token", shown.clone()),
            ("oppo", "oppo-token", shown.clone()),
            ("vivo", "vivo-token", shown.clone()),
            ("xiaomi", "xiaomi-token", shown),
        ]
    );
    assert_eq!(stand_in.problems(), Vec::<String>::new());

    // Huawei's "all tokens invalid", OPPO's "Invalid Registration_id", vivo's "regId不合法" and
    // Meizu's invalid pushId: those devices are forgotten.
    stand_in
        .answer("huawei-token", vec![(200, json!({"code": "80300007", "msg": "All the tokens are invalid"}), None)]);
    stand_in.answer("oppo-token", vec![(200, json!({"code": 10000, "message": "Invalid Registration_id"}), None)]);
    stand_in.answer("vivo-token", vec![(200, json!({"result": 10302, "desc": "regId不合法"}), None)]);
    stand_in.answer(
        "meizu-token",
        vec![(200, json!({"code": "200", "message": "", "value": {"110003": ["meizu-token"]}}), None)],
    );
    // Xiaomi documents no such answer: its "send failed" (20301) keeps the device.
    let xiaomi_failed =
        json!({"result": "error", "code": 20301, "reason": "No valid targets!", "description": "发送消息失败"});
    stand_in.answer("xiaomi-token", vec![(200, xiaomi_failed, None)]);
    send(&alice, "gone").await;
    for platform in ["huawei", "oppo", "vivo", "meizu"] {
        wait_forgotten(&server, platform).await;
    }
    stand_in.wait(10).await;
    send(&alice, "marker").await;
    let got = stand_in.wait(11).await;
    assert_eq!((got[10].service, got[10].token.as_str()), ("xiaomi", "xiaomi-token"), "only Xiaomi's device is left");
    assert!(registered(&server, "xiaomi").await, "xiaomi stays");
    assert_eq!(stand_in.problems(), Vec::<String>::new());
}

/// A sink for the server's logs (this binary's, from the first call on, debug and up).
#[derive(Clone)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn captured() -> Logs {
        static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = Logs(Arc::default());
            let sink = logs.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
                .with_ansi(false)
                .with_writer(move || sink.clone())
                .try_init()
                .expect("the first subscriber of this test binary");
            logs
        })
        .clone()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Waits (at most 10 s) until the logs hold `what`.
    async fn wait_for(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.text().contains(what) {
            assert!(Instant::now() < deadline, "{what:?} not logged");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn huawei_access_tokens_are_renewed_when_they_expire_or_are_refused_and_never_logged() {
    let logs = Logs::captured();
    let dir = tempfile::tempdir().unwrap();
    let (stand_in, url) = start_stand_in(dir.path(), vec![], vec![]).await;
    stand_in.0.lock().unwrap().huawei_expires_in = 2;
    let huawei = vendor(dir.path(), &url, HUAWEI_ID, Vendor::Huawei, "hw-app", "", "hw-secret");
    let ca_file = dir.path().join("ca.pem");
    let server = TestServer::start_configured(|c| {
        c.push.vendor = vec![huawei];
        c.push.ca_file = Some(ca_file);
        c.push.backoff_ms = 20;
    })
    .await;
    let alice = alice(&server).await;
    killed_device(&server, "bob", "huawei", HUAWEI_ID, "huawei-token").await;

    send(&alice, "first").await;
    let got = stand_in.wait(1).await;
    assert_eq!(got[0].auth, "hw-access-1");
    // The token expires 2 s after it was issued. A push after that goes with a new token,
    // fetched before: Huawei never sees the expired one. (A wait until that instant.)
    let expiry = stand_in.0.lock().unwrap().huawei_expiry["hw-access-1"];
    stand_in.0.lock().unwrap().huawei_expires_in = 3600;
    tokio::time::sleep_until(expiry.into()).await;
    send(&alice, "after expiry").await;
    let got = stand_in.wait(2).await;
    assert_eq!((got[1].auth.as_str(), &got[1].body["body"]), ("hw-access-2", &json!("Alice: after expiry")));
    assert_eq!(stand_in.0.lock().unwrap().huawei_expired_uses, 0, "an expired access token was used");

    // Huawei refuses the token before its expiry (401, 80200001): a new one, and the push is
    // sent again once, with it.
    stand_in
        .answer("huawei-token", vec![(401, json!({"code": "80200001", "msg": "Oauth authentication error"}), None)]);
    send(&alice, "refused").await;
    let got = stand_in.wait(4).await;
    assert_eq!((got[2].auth.as_str(), got[3].auth.as_str()), ("hw-access-2", "hw-access-3"));
    assert!(got[2..].iter().all(|g| g.body["body"] == "Alice: refused"), "{got:?}");
    assert_eq!(stand_in.access_tokens(), 3);
    send(&alice, "reused").await;
    let got = stand_in.wait(5).await;
    assert_eq!(got[4].auth, "hw-access-3", "the new token is kept");

    // A failure is logged with Huawei's answer; neither an access token nor the secret is.
    stand_in.answer("huawei-token", vec![(400, json!({"code": "80100003", "msg": "Illegal payload"}), None)]);
    send(&alice, "illegal").await;
    logs.wait_for("80100003").await;
    let text = logs.text();
    assert!(text.contains("Huawei refused its access token"), "{text}");
    for secret in ["hw-access-", "hw-secret"] {
        assert!(!text.contains(secret), "{secret} logged: {text}");
    }
    assert!(registered(&server, "huawei").await);
    assert_eq!(stand_in.problems(), Vec::<String>::new());
}
