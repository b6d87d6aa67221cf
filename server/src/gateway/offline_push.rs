//! Sending offline pushes. After a stored message was delivered to the online sessions, one
//! push task (never the request's) takes it: asks the store which devices of its recipients are
//! registered, keeps those [`device_wants_push`] allows (offline or in the background) and whose
//! receive option lets pushes through, reads the names the text needs, counts the push in the
//! device's badge and hands each notification to the configured [`PushProvider`]. Messages are
//! taken in delivery order and each first attempt is awaited, so a device's notifications leave
//! in the order of its messages; a failure worth retrying is retried in a task of its own, with
//! backoff, so it holds nobody up. A token the provider rejects is forgotten. The rules
//! themselves are [`crate::domain::offline_push`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use oxim_proto::payload::WireMessage;
use tokio::sync::mpsc;

use crate::config::PushSettings;
use crate::domain::offline_push::{
    Notification, body, content, device_wants_push, group_sender_name, notification, receive_opt_allows,
};
use crate::gateway::sessions::Sessions;
use crate::store::{Store, StoreResult};

/// Messages waiting for the push task; beyond this many, pushes are dropped (and logged)
/// rather than holding up delivery.
const QUEUE: usize = 10_000;

/// What a provider made of one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The provider took it.
    Delivered,
    /// The provider says the device's token is no longer valid: the device is forgotten.
    InvalidToken,
    /// A failure worth another try (network, throttling, the provider's server errors).
    Retry(String),
    /// A failure another try would not change.
    Failed(String),
}

/// A push channel (the webhook; APNs, FCM and the vendors' channels implement it too).
#[async_trait]
pub trait PushProvider: Send + Sync {
    /// Sends one notification, once.
    async fn send(&self, notification: &Notification) -> Sent;
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
    /// A provider posting to `url` (http or https), each request given `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<WebhookProvider, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("push webhook URL {url:?} must start with http:// or https://"));
        }
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("push webhook TLS set-up: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timeout)
            // A relay that redirects is misconfigured: never send device tokens elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("push webhook client: {e}"))?;
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
            Err(e) => Sent::Retry(e.to_string()),
            Ok(res) => match res.status().as_u16() {
                200..=299 => Sent::Delivered,
                404 | 410 => Sent::InvalidToken,
                429 | 500..=599 => Sent::Retry(format!("webhook answered {}", res.status())),
                _ => Sent::Failed(format!("webhook answered {}", res.status())),
            },
        }
    }
}

/// The pusher `settings` configure (a webhook when `webhook_url` is set, else none), its task
/// reading devices from `store` and presence from `sessions`.
pub fn pusher(
    settings: &PushSettings,
    store: Arc<dyn Store>,
    sessions: Arc<Sessions>,
) -> Result<Option<Arc<Pusher>>, String> {
    if settings.webhook_url.is_empty() {
        return Ok(None);
    }
    let webhook = WebhookProvider::new(&settings.webhook_url, Duration::from_millis(settings.timeout_ms))?;
    let backoff = Duration::from_millis(settings.backoff_ms);
    Ok(Some(Pusher::start(Arc::new(webhook), settings.attempts, backoff, store, sessions)))
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
}

/// The push task's state.
struct Worker {
    provider: Arc<dyn PushProvider>,
    attempts: u32,
    backoff: Duration,
    store: Arc<dyn Store>,
    sessions: Arc<Sessions>,
}

impl Pusher {
    /// Starts the push task over `provider`: at most `attempts` tries per notification, waiting
    /// `backoff`, then twice as long each time, between them.
    pub fn start(
        provider: Arc<dyn PushProvider>,
        attempts: u32,
        backoff: Duration,
        store: Arc<dyn Store>,
        sessions: Arc<Sessions>,
    ) -> Arc<Pusher> {
        let (jobs, mut rx) = mpsc::channel::<Job>(QUEUE);
        let worker = Arc::new(Worker { provider, attempts: attempts.max(1), backoff, store, sessions });
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                if let Err(e) = worker.push(&job).await {
                    tracing::warn!(msg = %job.msg.msg_id, "offline push: {e}");
                }
            }
        });
        Arc::new(Pusher { jobs })
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
            tracing::warn!("offline push queue full or closed: {e}");
        }
    }
}

impl Worker {
    async fn push(self: &Arc<Self>, job: &Job) -> StoreResult<()> {
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
            let members = store.group_members_info(&msg.group_id, vec![msg.sender.clone()]).await?;
            let card = members.into_iter().next().map(|m| m.name_card).unwrap_or_default();
            let name = store.group(&msg.group_id).await?.map(|g| g.info.name).unwrap_or_default();
            Some((card, name))
        };
        for device in devices {
            let allowed = match &group {
                None => {
                    let opts = store.c2c_recv_opts(&device.user, vec![msg.sender.clone()]).await?;
                    opts.first().is_none_or(|o| receive_opt_allows(o.opt))
                }
                Some(_) => {
                    let info = store.groups_info(&device.user, vec![msg.group_id.clone()]).await?;
                    info.first().and_then(|i| i.as_ref()).is_some_and(|i| receive_opt_allows(i.recv_opt))
                }
            };
            if !allowed {
                continue;
            }
            let text = match &group {
                None => body(&job.content, &sender_nick, None),
                Some((card, name)) => body(&job.content, group_sender_name(card, &sender_nick), Some(name)),
            };
            let Some(badge) = store.count_push(&device.user, &device.platform).await? else { continue };
            let Some(n) = notification(msg, &device, text, badge) else { continue };
            match self.provider.send(&n).await {
                Sent::Retry(why) if self.attempts > 1 => {
                    tracing::debug!(user = %n.user, "push to retry: {why}");
                    let worker = self.clone();
                    tokio::spawn(async move { worker.retry(n).await });
                }
                outcome => self.settle(&n, outcome).await?,
            }
        }
        Ok(())
    }

    /// Tries `n` again (the first try failed), waiting longer before each try.
    async fn retry(&self, n: Notification) {
        let mut wait = self.backoff;
        let mut outcome = Sent::Failed("not sent".into());
        for _ in 1..self.attempts {
            tokio::time::sleep(wait).await;
            wait *= 2;
            outcome = self.provider.send(&n).await;
            if !matches!(outcome, Sent::Retry(_)) {
                break;
            }
        }
        if let Err(e) = self.settle(&n, outcome).await {
            tracing::warn!(user = %n.user, "offline push: {e}");
        }
    }

    /// What follows a provider's last answer.
    async fn settle(&self, n: &Notification, outcome: Sent) -> StoreResult<()> {
        match outcome {
            Sent::Delivered => {}
            Sent::InvalidToken => {
                tracing::info!(user = %n.user, platform = %n.platform, "push token rejected: device forgotten");
                self.store.remove_push_token(&n.user, &n.platform, &n.token).await?;
            }
            Sent::Retry(why) | Sent::Failed(why) => {
                tracing::warn!(user = %n.user, platform = %n.platform, "push not delivered: {why}");
            }
        }
        Ok(())
    }
}
