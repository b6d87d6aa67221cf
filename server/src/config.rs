//! Server configuration: defaults, then a TOML file (`--config`), then environment variables
//! (`OXIM_*`), then command-line flags; later sources win.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::domain::friendship::FriendshipSettings;
use crate::domain::group_rules::MemberLimits;

/// Development default for the app id, printed at start so a developer can sign UserSigs.
pub const DEV_SDK_APP_ID: u64 = 1_400_000_000;
/// Development default secret key. Anyone can read it: set your own with `--secret-key`.
pub const DEV_SECRET_KEY: &str = "oxim-dev-secret-key-do-not-use-in-production";

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Directory for the database (`oxim.db`) and, later, files.
    pub data_dir: PathBuf,
    /// The app this server serves.
    pub sdk_app_id: u64,
    /// The app's secret key for UserSig verification.
    pub secret_key: String,
    /// A connection that sends nothing (not even a heartbeat) for this long is closed.
    pub idle_timeout: Duration,
    /// A connection whose client has not taken a write for this long (it stopped reading) is
    /// dropped, so it holds neither its task nor a graceful shutdown.
    pub write_timeout: Duration,
    /// WebSocket connections open at once; beyond it a new one is refused (HTTP 503) before
    /// the upgrade.
    pub max_connections: usize,
    /// Longest signaling timeout an invitation may ask for (Oxim's bound; V2TIM states none):
    /// every pending invitation with a timeout keeps a deadline until then.
    pub max_signal_timeout: Duration,
    /// How long after sending a message its sender may revoke it (V2TIM: 2 minutes).
    pub revoke_window: Duration,
    /// Largest member count per group type (V2TIM: 200, AVChatRoom unlimited).
    pub member_limits: MemberLimits,
    /// Messages an AVChatRoom passes per [`ServerConfig::room_window`] (V2TIM: 40 per second);
    /// low-priority messages are refused first.
    pub room_msgs_per_window: u32,
    /// The AVChatRoom rate window.
    pub room_window: Duration,
    /// Group-attribute writes per group per second (V2TIM's server: 5).
    pub attr_writes_per_sec: u32,
    /// `[friendship]`: `only_friends` ("only friends may send C2C messages", 20009),
    /// `tell_blocked` (a blocked sender gets 20007; otherwise the send looks successful and
    /// nothing arrives), `max_friends` (3000), `max_blacklist` (1000).
    pub friendship: FriendshipSettings,
    /// When a write is acknowledged: after its fsync (the default) or before.
    pub durability: Durability,
    /// `[push]`: where offline pushes go (APNs keys and FCM service accounts by business id,
    /// `webhook_url` for the others; none of them: no pushes), how often a failed push is tried
    /// (`attempts`), the first wait between tries (`backoff_ms`, doubling), and each request's
    /// time limit (`timeout_ms`).
    pub push: PushSettings,
    /// Serve TLS (`wss://`, `https://`) with this certificate chain and key (PEM files, reloaded
    /// when they change); `None`: plain `ws://` and `http://` (e.g. behind a reverse proxy).
    pub tls: Option<TlsFiles>,
    /// `[limits]`: what one user or socket may take (`user_msgs_per_sec`, `user_msgs_burst`,
    /// `login_deadline_secs`, `upload_min_bytes_per_sec`, `upload_grace_secs`).
    pub limits: LimitSettings,
}

/// Per-user and per-socket limits (`[limits]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Messages one user (all their sessions together) may send per second on average, outside
    /// AVChatRooms (which have their own rule); 0: no limit. V2TIM documents no such rate: see
    /// docs/compat.md.
    pub user_msgs_per_sec: u32,
    /// Messages one user may send at once after a quiet spell.
    pub user_msgs_burst: u32,
    /// A socket that is not logged in for this many seconds (from its opening, or from the end
    /// of its login) is closed with 4002.
    pub login_deadline_secs: u64,
    /// Slowest average an upload (`POST /v1/files`) may keep after `upload_grace_secs`, in
    /// bytes per second since it began; below it, it fails with HTTP 408 and 6008. 0: none.
    pub upload_min_bytes_per_sec: u64,
    /// How long an upload may go slower than `upload_min_bytes_per_sec` at first.
    pub upload_grace_secs: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            user_msgs_per_sec: 100,
            user_msgs_burst: 1000,
            login_deadline_secs: 30,
            upload_min_bytes_per_sec: 1024,
            upload_grace_secs: 10,
        }
    }
}

impl LimitSettings {
    /// The per-user message rate.
    pub fn user_msg_rate(&self) -> crate::domain::rate::Rate {
        crate::domain::rate::Rate { per_sec: self.user_msgs_per_sec, burst: self.user_msgs_burst }
    }

    /// How long a socket may stay without a login.
    pub fn login_deadline(&self) -> Duration {
        Duration::from_secs(self.login_deadline_secs)
    }
}

/// The PEM files TLS is served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Offline push settings (`[push]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushSettings {
    /// Each notification is POSTed as JSON here (empty: offline push is off).
    pub webhook_url: String,
    /// Tries per notification.
    pub attempts: u32,
    /// Wait before the second try, in ms; doubled before each next one.
    pub backoff_ms: u64,
    /// Time limit of one request, in ms.
    pub timeout_ms: u64,
    /// Notifications per minute and business id (one app's provider); beyond, they are dropped
    /// and counted. 0: no limit.
    pub rate_per_minute: u32,
    /// Notifications a business id may send at once before `rate_per_minute` applies.
    pub burst: u32,
    /// Devices sent to at the same time (each device's notifications stay in order).
    pub concurrency: usize,
    /// `[[push.apns]]`: the APNs keys, one per business id (devices registered with that id are
    /// pushed through Apple).
    pub apns: Vec<ApnsSettings>,
    /// `[[push.fcm]]`: the FCM service accounts, one per business id.
    pub fcm: Vec<FcmSettings>,
    /// `[[push.vendor]]`: Xiaomi, Huawei, OPPO, vivo and Meizu apps, one per business id.
    pub vendor: Vec<VendorSettings>,
    /// A PEM file of CA certificates trusted for push endpoints beside the public roots (a
    /// private relay, a test stand-in); `None`: the public roots only.
    pub ca_file: Option<PathBuf>,
}

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            webhook_url: String::new(),
            attempts: 4,
            backoff_ms: 500,
            timeout_ms: 10_000,
            rate_per_minute: 0,
            burst: 100,
            concurrency: 16,
            apns: Vec::new(),
            fcm: Vec::new(),
            vendor: Vec::new(),
            ca_file: None,
        }
    }
}

/// One APNs key (`[[push.apns]]`): token-based authentication for the app `topic`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApnsSettings {
    /// The business id (V2TIM's push certificate id) devices register with.
    pub business_id: i64,
    /// The `.p8` signing key Apple issued (PKCS#8 PEM): read from this file, never kept in the
    /// configuration itself.
    pub key_file: PathBuf,
    /// The key's id (the JWT's `kid`).
    pub key_id: String,
    /// The developer team id (the JWT's `iss`).
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// `production` (default) or `sandbox` (development builds).
    #[serde(default)]
    pub environment: ApnsEnvironment,
    /// Another base URL instead of the environment's (a proxy, a test stand-in); empty: Apple's.
    #[serde(default)]
    pub endpoint: String,
}

/// Which APNs servers a key's devices are pushed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApnsEnvironment {
    /// `api.push.apple.com`: apps from the App Store, TestFlight, ad hoc builds.
    #[default]
    Production,
    /// `api.sandbox.push.apple.com`: development builds.
    Sandbox,
}

/// An Android vendor's push channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// Mi Push.
    Xiaomi,
    /// Huawei Push Kit.
    Huawei,
    /// OPPO Push (HeyTap).
    Oppo,
    /// vivo Push.
    Vivo,
    /// Meizu Flyme Push.
    Meizu,
}

/// One vendor app (`[[push.vendor]]`): the ids the vendor's console gave it; the secret in a file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorSettings {
    /// The business id devices register with.
    pub business_id: i64,
    /// Whose channel.
    pub vendor: Vendor,
    /// The app id (Huawei: the OAuth client id; vivo, Meizu: appId; unused by Xiaomi, OPPO).
    #[serde(default)]
    pub app_id: String,
    /// The app key (OPPO, vivo: AppKey).
    #[serde(default)]
    pub app_key: String,
    /// A file holding the secret (Xiaomi, vivo, Meizu: AppSecret; Huawei: client secret; OPPO:
    /// MasterSecret).
    pub secret_file: PathBuf,
    /// The app's package name (Xiaomi's `restricted_package_name`).
    #[serde(default)]
    pub package_name: String,
    /// The notification channel when the message names none (OPPO: `androidOPPOChannelID`
    /// wins; Xiaomi: `extra.channel_id`).
    #[serde(default)]
    pub channel_id: String,
    /// The title when the message has none (the vendors need one): e.g. the app's name; empty:
    /// the notification's text.
    #[serde(default)]
    pub default_title: String,
    /// Another base URL instead of the vendor's (a test stand-in); empty: the vendor's.
    #[serde(default)]
    pub endpoint: String,
}

/// One FCM service account (`[[push.fcm]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcmSettings {
    /// The business id devices register with.
    pub business_id: i64,
    /// The service account's JSON key file (from the Firebase console: `project_id`,
    /// `private_key`, `client_email`, `token_uri`).
    pub service_account_file: PathBuf,
    /// The Android notification channel notifications are posted to; empty: the app's default.
    #[serde(default)]
    pub channel_id: String,
    /// Another base URL instead of `https://fcm.googleapis.com` (a test stand-in); empty: Google's.
    #[serde(default)]
    pub endpoint: String,
}

/// When the server acknowledges a write (a sent message, any change): the promise an answer
/// carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// After its commit is on the disk (SQLite `synchronous=FULL`: the WAL is fsynced at every
    /// commit; group commit makes one fsync serve every write waiting). An acknowledged write
    /// survives a crash of the process, of the kernel and a power cut.
    #[default]
    Full,
    /// After its commit reached the operating system (`synchronous=NORMAL`: the WAL is fsynced
    /// only at checkpoints). An acknowledged write survives a crash of the server process, but
    /// a power cut or kernel crash can take back the last ones acknowledged, and their seqs can
    /// then be handed out again to other messages (a client that saw the first ones drops the
    /// new ones as duplicates). Faster on disks with slow fsyncs; trade it knowingly.
    Relaxed,
}

impl std::str::FromStr for Durability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "full" => Ok(Durability::Full),
            "relaxed" => Ok(Durability::Relaxed),
            other => Err(format!("durability must be full or relaxed, not {other:?}")),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".parse().expect("literal address"),
            data_dir: PathBuf::from("./oxim-data"),
            sdk_app_id: DEV_SDK_APP_ID,
            secret_key: DEV_SECRET_KEY.to_owned(),
            idle_timeout: Duration::from_secs(90),
            write_timeout: Duration::from_secs(20),
            max_connections: 10_000,
            max_signal_timeout: Duration::from_secs(86_400),
            revoke_window: Duration::from_secs(120),
            member_limits: MemberLimits::default(),
            room_msgs_per_window: 40,
            room_window: Duration::from_secs(1),
            attr_writes_per_sec: 5,
            tls: None,
            friendship: FriendshipSettings::default(),
            durability: Durability::Full,
            push: PushSettings::default(),
            limits: LimitSettings::default(),
        }
    }
}

impl ServerConfig {
    /// A configuration for tests: an ephemeral loopback port and the given data directory.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            listen: "127.0.0.1:0".parse().expect("literal address"),
            data_dir: data_dir.into(),
            ..ServerConfig::default()
        }
    }

    /// Whether the secret key is the published development default.
    pub fn uses_dev_secret(&self) -> bool {
        self.secret_key == DEV_SECRET_KEY
    }

    /// Refuses to serve the published development secret key anywhere but on a loopback
    /// address: anyone could sign UserSigs for every user of such a server.
    pub fn check_secret_for_listen(&self) -> Result<(), String> {
        if self.uses_dev_secret() && !self.listen.ip().is_loopback() {
            return Err(format!(
                "the development secret key is public: set your own with --secret-key (or OXIM_SECRET_KEY) \
                 to listen on {}",
                self.listen
            ));
        }
        Ok(())
    }

    /// Applies a TOML file's settings over `self`.
    pub fn merge_toml_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        self.merge_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Applies TOML settings over `self`.
    pub fn merge_toml(&mut self, text: &str) -> Result<(), String> {
        let file: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        self.merge(Overrides {
            listen: file.listen,
            data_dir: file.data_dir,
            sdk_app_id: file.sdk_app_id,
            secret_key: file.secret_key,
            idle_timeout_secs: file.idle_timeout_secs,
            revoke_window_secs: file.revoke_window_secs,
            tls_cert: file.tls_cert,
            tls_key: file.tls_key,
            durability: file.durability,
        })?;
        if let Some(limits) = file.member_limits {
            self.member_limits = limits;
        }
        if let Some(n) = file.room_msgs_per_window {
            self.room_msgs_per_window = n;
        }
        if let Some(ms) = file.room_window_ms {
            self.room_window = Duration::from_millis(ms);
        }
        if let Some(secs) = file.max_signal_timeout_secs {
            self.max_signal_timeout = Duration::from_secs(secs);
        }
        if let Some(n) = file.max_connections {
            self.max_connections = n;
        }
        if let Some(secs) = file.write_timeout_secs {
            self.write_timeout = Duration::from_secs(secs);
        }
        if let Some(n) = file.attr_writes_per_sec {
            self.attr_writes_per_sec = n;
        }
        if let Some(f) = file.friendship {
            self.friendship = f;
        }
        if let Some(p) = file.push {
            self.push = p;
        }
        if let Some(l) = file.limits {
            self.limits = l;
        }
        Ok(())
    }

    /// Applies the settings that are present; a TLS certificate needs its key and the other
    /// way round.
    pub fn merge(&mut self, o: Overrides) -> Result<(), String> {
        if let Some(v) = o.listen {
            self.listen = v;
        }
        if let Some(v) = o.data_dir {
            self.data_dir = v;
        }
        if let Some(v) = o.sdk_app_id {
            self.sdk_app_id = v;
        }
        if let Some(v) = o.secret_key {
            self.secret_key = v;
        }
        if let Some(v) = o.idle_timeout_secs {
            self.idle_timeout = Duration::from_secs(v);
        }
        if let Some(v) = o.revoke_window_secs {
            self.revoke_window = Duration::from_secs(v);
        }
        if let Some(v) = o.durability {
            self.durability = v;
        }
        match (o.tls_cert, o.tls_key, &mut self.tls) {
            (Some(cert), Some(key), _) => self.tls = Some(TlsFiles { cert, key }),
            (None, None, _) => {}
            // One file of a pair already set elsewhere.
            (cert, key, Some(tls)) => {
                tls.cert = cert.unwrap_or(tls.cert.clone());
                tls.key = key.unwrap_or(tls.key.clone());
            }
            _ => return Err("a TLS certificate (tls_cert) needs its key (tls_key), and the other way round".into()),
        }
        Ok(())
    }
}

/// Optional settings from one source (file, environment or flags).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `listen`.
    pub listen: Option<SocketAddr>,
    /// `data_dir`.
    pub data_dir: Option<PathBuf>,
    /// `sdk_app_id`.
    pub sdk_app_id: Option<u64>,
    /// `secret_key`.
    pub secret_key: Option<String>,
    /// `idle_timeout_secs`.
    pub idle_timeout_secs: Option<u64>,
    /// `revoke_window_secs`.
    pub revoke_window_secs: Option<u64>,
    /// `tls_cert`.
    pub tls_cert: Option<PathBuf>,
    /// `tls_key`.
    pub tls_key: Option<PathBuf>,
    /// `durability`.
    pub durability: Option<Durability>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    sdk_app_id: Option<u64>,
    secret_key: Option<String>,
    idle_timeout_secs: Option<u64>,
    write_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    max_signal_timeout_secs: Option<u64>,
    revoke_window_secs: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    /// `[member_limits]`: `work`, `public`, `meeting`, `avchatroom` (0 = unlimited).
    member_limits: Option<MemberLimits>,
    room_msgs_per_window: Option<u32>,
    room_window_ms: Option<u64>,
    attr_writes_per_sec: Option<u32>,
    /// `[friendship]`: `only_friends`, `tell_blocked`, `max_friends`, `max_blacklist`.
    friendship: Option<FriendshipSettings>,
    durability: Option<Durability>,
    /// `[push]`: `webhook_url`, `attempts`, `backoff_ms`, `timeout_ms`, `ca_file`,
    /// `[[push.apns]]`, `[[push.fcm]]`.
    push: Option<PushSettings>,
    /// `[limits]`: `user_msgs_per_sec`, `user_msgs_burst`, `login_deadline_secs`,
    /// `upload_min_bytes_per_sec`, `upload_grace_secs`.
    limits: Option<LimitSettings>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_defaults_and_flags_override_toml() {
        let mut cfg = ServerConfig::default();
        cfg.merge_toml("listen = \"0.0.0.0:9000\"\nsdk_app_id = 7\nsecret_key = \"k\"\n").unwrap();
        assert_eq!(cfg.listen.port(), 9000);
        assert_eq!((cfg.sdk_app_id, cfg.secret_key.as_str()), (7, "k"));
        assert_eq!(cfg.data_dir, PathBuf::from("./oxim-data"));
        cfg.merge(Overrides { sdk_app_id: Some(8), ..Overrides::default() }).unwrap();
        assert_eq!((cfg.sdk_app_id, cfg.listen.port()), (8, 9000));
    }

    #[test]
    fn group_limits_come_from_toml() {
        let mut cfg = ServerConfig::default();
        assert_eq!(cfg.member_limits.of("Work"), 200);
        cfg.merge_toml(
            "room_msgs_per_window = 10\nmax_connections = 5\nwrite_timeout_secs = 3\n[member_limits]\nwork = 3\n",
        )
        .unwrap();
        assert_eq!((cfg.max_connections, cfg.write_timeout), (5, Duration::from_secs(3)));
        assert_eq!((cfg.member_limits.of("Work"), cfg.member_limits.of("Public")), (3, 200));
        assert_eq!(cfg.room_msgs_per_window, 10);
    }

    #[test]
    fn limits_come_from_toml_and_keep_their_defaults_otherwise() {
        let mut cfg = ServerConfig::default();
        assert_eq!(cfg.limits, LimitSettings::default());
        cfg.merge_toml("[limits]\nuser_msgs_per_sec = 7\n").unwrap();
        assert_eq!((cfg.limits.user_msgs_per_sec, cfg.limits.user_msgs_burst), (7, 1000));
        assert_eq!(cfg.limits.login_deadline(), Duration::from_secs(30));
        assert!(cfg.merge_toml("[limits]\nuser_msgs = 7\n").is_err(), "a misspelt key is refused");
        cfg.merge_toml("[limits]\nupload_min_bytes_per_sec = 0\nupload_grace_secs = 3\n").unwrap();
        assert_eq!((cfg.limits.upload_min_bytes_per_sec, cfg.limits.upload_grace_secs), (0, 3));
    }

    #[test]
    fn tls_needs_a_certificate_and_its_key() {
        let mut cfg = ServerConfig::default();
        let cert_only = Overrides { tls_cert: Some("c.pem".into()), ..Overrides::default() };
        assert!(cfg.merge(cert_only.clone()).is_err(), "a certificate without a key");
        assert_eq!(cfg.tls, None);
        cfg.merge_toml("tls_cert = \"a.pem\"\ntls_key = \"k.pem\"\n").unwrap();
        // A flag then replaces one file of the pair.
        cfg.merge(cert_only).unwrap();
        assert_eq!(cfg.tls, Some(TlsFiles { cert: "c.pem".into(), key: "k.pem".into() }));
    }

    #[test]
    fn the_development_key_serves_loopback_only() {
        let mut cfg = ServerConfig::default();
        assert!(cfg.check_secret_for_listen().is_ok(), "127.0.0.1");
        for public in ["0.0.0.0:8080", "[::]:8080", "192.168.1.2:8080"] {
            cfg.listen = public.parse().unwrap();
            assert!(cfg.check_secret_for_listen().unwrap_err().contains("--secret-key"), "{public}");
        }
        cfg.listen = "[::1]:8080".parse().unwrap();
        assert!(cfg.check_secret_for_listen().is_ok(), "::1");
        cfg.listen = "0.0.0.0:8080".parse().unwrap();
        cfg.secret_key = "my own".into();
        assert!(cfg.check_secret_for_listen().is_ok());
    }

    #[test]
    fn durability_is_full_unless_relaxed_explicitly() {
        let mut cfg = ServerConfig::default();
        assert_eq!(cfg.durability, Durability::Full);
        cfg.merge_toml("durability = \"relaxed\"\n").unwrap();
        assert_eq!(cfg.durability, Durability::Relaxed);
        assert!(ServerConfig::default().merge_toml("durability = \"none\"\n").is_err());
        assert_eq!("full".parse::<Durability>(), Ok(Durability::Full));
        assert!("fast".parse::<Durability>().is_err());
    }

    #[test]
    fn push_settings_come_from_toml() {
        let mut cfg = ServerConfig::default();
        assert_eq!(cfg.push.webhook_url, "");
        cfg.merge_toml("[push]\nwebhook_url = \"http://127.0.0.1:8080/push\"\nattempts = 2\n").unwrap();
        assert_eq!(
            (cfg.push.webhook_url.as_str(), cfg.push.attempts, cfg.push.backoff_ms),
            ("http://127.0.0.1:8080/push", 2, 500)
        );
        assert!(ServerConfig::default().merge_toml("[push]\nurl = \"x\"\n").is_err());
        let mut cfg = ServerConfig::default();
        assert_eq!((cfg.push.rate_per_minute, cfg.push.burst, cfg.push.concurrency), (0, 100, 16));
        cfg.merge_toml("[push]\nrate_per_minute = 600\nburst = 5\nconcurrency = 4\n").unwrap();
        assert_eq!((cfg.push.rate_per_minute, cfg.push.burst, cfg.push.concurrency), (600, 5, 4));
    }

    #[test]
    fn apns_keys_and_fcm_accounts_are_configured_per_business_id() {
        let mut cfg = ServerConfig::default();
        cfg.merge_toml(
            "[push]\nca_file = \"ca.pem\"\n\
             [[push.apns]]\nbusiness_id = 1\nkey_file = \"k.p8\"\nkey_id = \"K\"\nteam_id = \"T\"\ntopic = \"com.x\"\n\
             [[push.apns]]\nbusiness_id = 2\nkey_file = \"k.p8\"\nkey_id = \"K\"\nteam_id = \"T\"\ntopic = \"com.x\"\n\
             environment = \"sandbox\"\n\
             [[push.fcm]]\nbusiness_id = 3\nservice_account_file = \"sa.json\"\n",
        )
        .unwrap();
        let envs: Vec<_> = cfg.push.apns.iter().map(|a| (a.business_id, a.environment)).collect();
        assert_eq!(envs, [(1, ApnsEnvironment::Production), (2, ApnsEnvironment::Sandbox)]);
        assert_eq!((cfg.push.fcm[0].business_id, cfg.push.fcm[0].channel_id.as_str()), (3, ""));
        assert_eq!(cfg.push.ca_file, Some(PathBuf::from("ca.pem")));
        let no_topic = "[[push.apns]]\nbusiness_id = 1\nkey_file = \"k.p8\"\nkey_id = \"K\"\nteam_id = \"T\"\n";
        assert!(ServerConfig::default().merge_toml(no_topic).is_err());
        let bad_env = "[[push.apns]]\nbusiness_id = 1\nkey_file = \"k\"\nkey_id = \"K\"\nteam_id = \"T\"\ntopic = \"t\"\nenvironment = \"dev\"\n";
        assert!(ServerConfig::default().merge_toml(bad_env).is_err());
    }

    #[test]
    fn unknown_toml_keys_are_errors() {
        assert!(ServerConfig::default().merge_toml("lisen = \"x\"").is_err());
    }
}
