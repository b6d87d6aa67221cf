//! Sending offline pushes. After a stored message was delivered to the online sessions, one
//! push task (never the request's) takes it: asks the store which devices of its recipients are
//! registered, keeps those [`device_wants_push`] allows (offline or in the background) and whose
//! receive option lets pushes through (one read for all of them), reads the names the text
//! needs and hands each
//! notification to the lane of its device, which applies the rate limit and then counts the
//! push in the device's badge (a dropped push never raises it; one that fails for good gives
//! its step back). Messages are taken in
//! delivery order and a device always uses the same lane, whose task awaits each first attempt,
//! so a device's notifications leave in the order of its messages while up to `concurrency`
//! devices are sent to at once; a failure worth retrying is retried in a task of its own, with
//! backoff, so it holds nobody up. A token the provider rejects is forgotten. Each business id
//! has its rate limit ([`rate`]); what happened is counted ([`metrics`], `/metrics`). The rules
//! themselves are [`crate::domain::offline_push`].
//!
//! Providers: [`apns::ApnsProvider`], [`fcm::FcmProvider`] and the Android vendors'
//! [`vendors::VendorProvider`] for the business ids configured for them ([`ByBusinessId`]), the
//! [`WebhookProvider`] for every other device.

pub mod apns;
pub mod fcm;
pub mod jwt;
pub mod metrics;
pub mod rate;
pub mod vendors;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use oxim_proto::ids::ConvId;
use oxim_proto::payload::WireMessage;
use tokio::sync::mpsc;

use self::metrics::{Counted, PushMetrics};
use self::rate::RateLimits;
use crate::config::PushSettings;
use crate::domain::offline_push::{
    Notification, body, content, device_wants_push, group_sender_name, notification, receive_opt_allows,
};
use crate::gateway::sessions::Sessions;
use crate::store::{Store, StoreResult};

/// Messages waiting for the push task; beyond this many, pushes are dropped (and logged)
/// rather than holding up delivery.
const QUEUE: usize = 10_000;
/// Notifications waiting in one lane before the push task waits for it.
const LANE_QUEUE: usize = 1_000;
/// The longest `Retry-After` honoured; a provider asking for more is tried after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What a provider made of one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The provider took it.
    Delivered,
    /// The provider says the device's token is no longer valid: the device is forgotten.
    InvalidToken,
    /// A failure worth another try (network, throttling, the provider's server errors), after
    /// `after` when the provider said (`Retry-After`), else after the backoff.
    Retry {
        /// What failed.
        why: String,
        /// The wait the provider asked for.
        after: Option<Duration>,
    },
    /// A failure another try would not change.
    Failed(String),
}

/// A push channel (the webhook; APNs, FCM and the vendors' channels implement it too).
#[async_trait]
pub trait PushProvider: Send + Sync {
    /// Sends one notification, once.
    async fn send(&self, notification: &Notification) -> Sent;
}

/// The wait a `Retry-After` header asks for (in seconds; an HTTP date is not honoured), at
/// most [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: u64 = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// The JSON body of `res` (`Null` when it has none or it is not JSON).
pub async fn json_body(res: reqwest::Response) -> serde_json::Value {
    res.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(serde_json::Value::Null)
}

/// An HTTP client for push endpoints: requests limited to `timeout`, no redirects (device tokens
/// never go elsewhere), TLS trusting the public roots and the CA certificates in `ca_file`;
/// HTTP/2 only when `http2` (APNs requires it; FCM speaks it).
pub fn http_client(timeout: Duration, ca_file: Option<&Path>, http2: bool) -> Result<reqwest::Client, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(file) = ca_file {
        let err = |e: &dyn std::fmt::Display| format!("push ca_file {}: {e}", file.display());
        for cert in CertificateDer::pem_file_iter(file).map_err(|e| err(&e))? {
            roots.add(cert.map_err(|e| err(&e))?).map_err(|e| err(&e))?;
        }
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("push TLS set-up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
    if http2 {
        tls.alpn_protocols = vec![b"h2".to_vec()];
        builder = builder.http2_prior_knowledge();
    }
    builder.tls_backend_preconfigured(tls).build().map_err(|e| format!("push HTTP client: {e}"))
}

/// Sends each notification through the provider configured for its business id, else through
/// `fallback` (the webhook); with neither, it is dropped.
pub struct ByBusinessId {
    providers: HashMap<i64, Arc<dyn PushProvider>>,
    fallback: Option<Arc<dyn PushProvider>>,
}

#[async_trait]
impl PushProvider for ByBusinessId {
    async fn send(&self, n: &Notification) -> Sent {
        match self.providers.get(&n.business_id).or(self.fallback.as_ref()) {
            Some(provider) => provider.send(n).await,
            None => Sent::Failed(format!("no push provider for business id {}", n.business_id)),
        }
    }
}

/// The default provider for self-hosters: each notification POSTed as JSON to a URL the operator
/// runs (which hands it to APNs, FCM or a vendor). The receiver answers 2xx when it took the
/// notification, 404 or 410 when the token is invalid (the device is forgotten), 429 or 5xx to
/// have it sent again later; any other answer drops it.
pub struct WebhookProvider {
    url: String,
    http: reqwest::Client,
}

impl WebhookProvider {
    /// A provider posting to `url` (http or https) with `http` (see [`http_client`]).
    pub fn new(url: &str, http: reqwest::Client) -> Result<WebhookProvider, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("push webhook URL {url:?} must start with http:// or https://"));
        }
        Ok(WebhookProvider { url: url.to_owned(), http })
    }
}

#[async_trait]
impl PushProvider for WebhookProvider {
    async fn send(&self, notification: &Notification) -> Sent {
        let body = match serde_json::to_vec(notification) {
            Ok(body) => body,
            Err(e) => return Sent::Failed(e.to_string()),
        };
        let answer = self.http.post(&self.url).header("content-type", "application/json").body(body).send().await;
        match answer {
            Err(e) => Sent::Retry { why: e.to_string(), after: None },
            Ok(res) => match res.status().as_u16() {
                200..=299 => Sent::Delivered,
                404 | 410 => Sent::InvalidToken,
                429 | 500..=599 => {
                    Sent::Retry { why: format!("webhook answered {}", res.status()), after: retry_after(res.headers()) }
                }
                _ => Sent::Failed(format!("webhook answered {}", res.status())),
            },
        }
    }
}

/// The providers `settings` configure: APNs and FCM by business id, the webhook for the rest;
/// `None` when none is configured (offline push off).
pub fn providers(settings: &PushSettings) -> Result<Option<ByBusinessId>, String> {
    if settings.webhook_url.is_empty()
        && settings.apns.is_empty()
        && settings.fcm.is_empty()
        && settings.vendor.is_empty()
    {
        return Ok(None);
    }
    let timeout = Duration::from_millis(settings.timeout_ms);
    let ca_file = settings.ca_file.as_deref();
    let fallback: Option<Arc<dyn PushProvider>> = if settings.webhook_url.is_empty() {
        None
    } else {
        Some(Arc::new(WebhookProvider::new(&settings.webhook_url, http_client(timeout, ca_file, false)?)?))
    };
    let mut providers: HashMap<i64, Arc<dyn PushProvider>> = HashMap::new();
    let mut add = |id: i64, provider: Arc<dyn PushProvider>| match providers.insert(id, provider) {
        None => Ok(()),
        Some(_) => Err(format!("[push]: business id {id} is configured twice")),
    };
    if !settings.apns.is_empty() || !settings.fcm.is_empty() {
        // One HTTP/2 client: its connections are shared by every key and account.
        let http = http_client(timeout, ca_file, true)?;
        for apns in &settings.apns {
            add(apns.business_id, Arc::new(apns::ApnsProvider::new(apns, http.clone())?))?;
        }
        for fcm in &settings.fcm {
            add(fcm.business_id, Arc::new(fcm::FcmProvider::new(fcm, http.clone())?))?;
        }
    }
    if !settings.vendor.is_empty() {
        // HTTP/1.1 (what every vendor's documentation shows).
        let http = http_client(timeout, ca_file, false)?;
        for vendor in &settings.vendor {
            add(vendor.business_id, Arc::new(vendors::VendorProvider::new(vendor, http.clone())?))?;
        }
    }
    Ok(Some(ByBusinessId { providers, fallback }))
}

/// The pusher `settings` configure (none when no provider is), its task reading devices from
/// `store` and presence from `sessions`.
pub fn pusher(
    settings: &PushSettings,
    store: Arc<dyn Store>,
    sessions: Arc<Sessions>,
) -> Result<Option<Arc<Pusher>>, String> {
    let Some(providers) = providers(settings)? else { return Ok(None) };
    let pacing = Pacing {
        attempts: settings.attempts,
        backoff: Duration::from_millis(settings.backoff_ms),
        rate_per_minute: settings.rate_per_minute,
        burst: settings.burst,
        concurrency: settings.concurrency,
    };
    Ok(Some(Pusher::start(Arc::new(providers), pacing, store, sessions)))
}

/// A message to push to its recipients.
struct Job {
    msg: WireMessage,
    content: String,
    recipients: Vec<String>,
}

/// The handle of the push task.
pub struct Pusher {
    jobs: mpsc::Sender<Job>,
    metrics: Arc<PushMetrics>,
}

/// How notifications are sent: shared by the lanes and the retry tasks.
struct Sender {
    provider: Arc<dyn PushProvider>,
    attempts: u32,
    backoff: Duration,
    store: Arc<dyn Store>,
    limits: RateLimits,
    metrics: Arc<PushMetrics>,
}

/// The push task's state: it turns messages into notifications and hands each to the lane of
/// its device.
struct Worker {
    store: Arc<dyn Store>,
    sessions: Arc<Sessions>,
    lanes: Vec<mpsc::Sender<Notification>>,
}

/// How a pusher sends (from `[push]`).
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Tries per notification.
    pub attempts: u32,
    /// The wait before the second try, doubled before each next one.
    pub backoff: Duration,
    /// Notifications per minute and business id (0: no limit).
    pub rate_per_minute: u32,
    /// Notifications a business id may send at once before its rate applies.
    pub burst: u32,
    /// Devices sent to at the same time.
    pub concurrency: usize,
}

impl Pusher {
    /// Starts the push task over `provider`, paced by `pacing`.
    pub fn start(
        provider: Arc<dyn PushProvider>,
        pacing: Pacing,
        store: Arc<dyn Store>,
        sessions: Arc<Sessions>,
    ) -> Arc<Pusher> {
        let metrics = Arc::new(PushMetrics::default());
        let sender = Arc::new(Sender {
            provider,
            attempts: pacing.attempts.max(1),
            backoff: pacing.backoff,
            store: store.clone(),
            limits: RateLimits::new(pacing.rate_per_minute, pacing.burst),
            metrics: metrics.clone(),
        });
        // One lane per concurrent send: a device always uses the same lane, so its
        // notifications leave in order while other devices' go beside them.
        let lanes = (0..pacing.concurrency.max(1))
            .map(|_| {
                let (tx, mut rx) = mpsc::channel::<Notification>(LANE_QUEUE);
                let sender = sender.clone();
                tokio::spawn(async move {
                    while let Some(n) = rx.recv().await {
                        sender.send_first(n).await;
                    }
                });
                tx
            })
            .collect();
        let (jobs, mut rx) = mpsc::channel::<Job>(QUEUE);
        let worker = Worker { store, sessions, lanes };
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                if let Err(e) = worker.push(&job).await {
                    tracing::warn!(msg = %job.msg.msg_id, "offline push: {e}");
                }
            }
        });
        Arc::new(Pusher { jobs, metrics })
    }

    /// What the pusher counted.
    pub fn metrics(&self) -> &PushMetrics {
        &self.metrics
    }

    /// Queues `msg` for the devices of its `recipients` (its sender excluded) that want it.
    pub fn after_delivery(&self, msg: &WireMessage, recipients: &[String]) {
        let Some(content) = content(msg) else { return };
        let recipients: Vec<String> = recipients.iter().filter(|u| **u != msg.sender).cloned().collect();
        if recipients.is_empty() {
            return;
        }
        let job = Job { msg: msg.clone(), content, recipients };
        if let Err(e) = self.jobs.try_send(job) {
            self.metrics.count_dropped();
            tracing::warn!("offline push queue full or closed: {e}");
        }
    }
}

/// The lane of a device among `lanes`.
fn lane_of(user: &str, platform: &str, lanes: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (user, platform).hash(&mut hasher);
    (hasher.finish() % lanes as u64) as usize
}

impl Worker {
    async fn push(&self, job: &Job) -> StoreResult<()> {
        let (store, msg) = (&*self.store, &job.msg);
        let devices: Vec<_> = store
            .push_devices(job.recipients.clone())
            .await?
            .into_iter()
            .filter(|d| device_wants_push(d, &self.sessions.platforms(&d.user)))
            .collect();
        if devices.is_empty() {
            return Ok(());
        }
        let sender_nick =
            store.profiles(vec![msg.sender.clone()]).await?.pop().map(|p| p.nick_name).unwrap_or_default();
        let group = if msg.group_id.is_empty() {
            None
        } else {
            // A group gone meanwhile: nobody is pushed.
            let Some(row) = store.group(&msg.group_id).await? else { return Ok(()) };
            let members = store.group_members_info(&msg.group_id, vec![msg.sender.clone()]).await?;
            let card = members.into_iter().next().map(|m| m.name_card).unwrap_or_default();
            Some((card, row.info.name))
        };
        // Every recipient's receive option for the conversation in one read.
        let conv = if group.is_none() { ConvId::C2C(msg.sender.clone()) } else { ConvId::Group(msg.group_id.clone()) };
        let opts = store.recv_opts_in(devices.iter().map(|d| d.user.clone()).collect(), conv).await?;
        for (device, opt) in devices.into_iter().zip(opts) {
            if !receive_opt_allows(opt) {
                continue;
            }
            let text = match &group {
                None => body(&job.content, &sender_nick, None),
                Some((card, name)) => body(&job.content, group_sender_name(card, &sender_nick), Some(name)),
            };
            let Some(n) = notification(msg, &device, text) else { continue };
            let lane = &self.lanes[lane_of(&n.user, &n.platform, self.lanes.len())];
            // A full lane holds this task (and the messages behind it) up: back-pressure.
            if lane.send(n).await.is_err() {
                tracing::warn!("offline push lane closed");
            }
        }
        Ok(())
    }
}

impl Sender {
    /// Sends `n` the first time, unless its business id is over its rate; a failure worth
    /// retrying is retried in a task of its own, so the lane goes on.
    async fn send_first(self: &Arc<Self>, mut n: Notification) {
        if !self.limits.admit(n.business_id) {
            self.metrics.count(n.business_id, Counted::RateLimited);
            tracing::warn!(business_id = n.business_id, user = %n.user, "push over the rate limit: dropped");
            return;
        }
        // The badge counts the pushes a provider took. A push is counted here, past the rate
        // limit and before it leaves (its badge is in it), and gives its step back if it fails
        // for good ([`Sender::settle`]). Only in the device's lane: its pushes are counted in
        // the order they leave, and while an earlier one is being retried the next counts it
        // as taken (the usual outcome of a retry).
        let mut epoch = None;
        if n.badge.is_some() {
            match self.store.count_push(&n.user, &n.platform).await {
                Ok(Some(counted)) => {
                    n.badge = Some(counted.badge);
                    epoch = Some(counted.epoch);
                }
                // Forgotten meanwhile (a logout, a new login on the platform).
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(user = %n.user, "offline push: counting the badge: {e}");
                    return;
                }
            }
        }
        match self.provider.send(&n).await {
            Sent::Retry { why, after } if self.attempts > 1 => {
                tracing::debug!(user = %n.user, "push to retry: {why}");
                let sender = self.clone();
                tokio::spawn(async move { sender.retry(n, epoch, after).await });
            }
            outcome => self.settle(&n, epoch, outcome).await,
        }
    }

    /// Tries `n` again (the first try failed), waiting longer before each try, or as long as
    /// the provider asked (`after`).
    async fn retry(&self, n: Notification, epoch: Option<i64>, mut after: Option<Duration>) {
        let mut wait = self.backoff;
        let mut outcome = Sent::Failed("not sent".into());
        for _ in 1..self.attempts {
            tokio::time::sleep(after.unwrap_or(wait)).await;
            wait *= 2;
            self.metrics.count(n.business_id, Counted::Retried);
            outcome = self.provider.send(&n).await;
            match &outcome {
                Sent::Retry { after: asked, .. } => after = *asked,
                _ => break,
            }
        }
        self.settle(&n, epoch, outcome).await;
    }

    /// What follows a provider's last answer; `epoch`: the badge count `n` was counted in.
    async fn settle(&self, n: &Notification, epoch: Option<i64>, outcome: Sent) {
        if outcome != Sent::Delivered
            && let Some(epoch) = epoch
        {
            // The device never shows this push: its badge step is given back before the outcome
            // is counted, so the next push shows the pushes the device got.
            if let Err(e) = self.store.uncount_push(&n.user, &n.platform, epoch).await {
                tracing::warn!(user = %n.user, "offline push: giving the badge step back: {e}");
            }
        }
        match outcome {
            Sent::Delivered => self.metrics.count(n.business_id, Counted::Sent),
            Sent::InvalidToken => {
                tracing::info!(user = %n.user, platform = %n.platform, "push token rejected: device forgotten");
                self.metrics.count(n.business_id, Counted::TokenForgotten);
                if let Err(e) = self.store.remove_push_token(&n.user, &n.platform, &n.token).await {
                    tracing::warn!(user = %n.user, "offline push: {e}");
                }
            }
            Sent::Retry { why, .. } | Sent::Failed(why) => {
                self.metrics.count(n.business_id, Counted::Failed);
                tracing::warn!(user = %n.user, platform = %n.platform, "push not delivered: {why}");
            }
        }
    }
}
