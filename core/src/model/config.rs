//! Configuration and login state (`V2TIMSDKConfig`, `V2TIMLogLevel`, `V2TIMLoginStatus`).

use std::path::PathBuf;
use std::time::Duration;

/// `V2TIMLogLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    /// No output.
    None = 0,
    /// Debug and above.
    Debug = 3,
    /// Info and above.
    #[default]
    Info = 4,
    /// Warnings and errors.
    Warn = 5,
    /// Errors only.
    Error = 6,
}

/// `V2TIMSDKConfig` plus what a self-hosted SDK must be told.
#[derive(Debug, Clone)]
pub struct SdkConfig {
    /// The server, e.g. `ws://127.0.0.1:8080` (the path `/v1/ws` is added when missing) or
    /// `wss://im.example.com`.
    pub server_url: String,
    /// Directory for the local databases (one per user). Created if missing.
    pub data_dir: PathBuf,
    /// Log level.
    pub log_level: LogLevel,
    /// Device class for the one-session-per-platform rule; empty = this OS ("android", "ios",
    /// "macos", "linux", "windows").
    pub platform: String,
    /// How often to send a heartbeat.
    pub heartbeat_interval: Duration,
    /// How long a request may wait for its answer.
    pub request_timeout: Duration,
    /// Longest wait between two reconnection attempts (the backoff doubles from 0.25 s up to
    /// this, with jitter).
    pub reconnect_max_delay: Duration,
    /// How long a message send keeps trying (through reconnects) before the message is marked
    /// failed. It can be resent later with the same msgID.
    pub send_timeout: Duration,
    /// How long a queued message the server refused for the user's message rate (-10113,
    /// "nothing stored, try again in a moment") keeps being retried, from its first refusal,
    /// before it fails with -10113. The retries back off from 0.2 s to 5 s, with jitter.
    pub rate_retry_limit: Duration,
    /// Certificate authorities (PEM) trusted besides Mozilla's roots, for a server whose
    /// certificate a self-hosted CA issued; empty = none. Verification is always on.
    pub trusted_ca_pem: String,
}

impl SdkConfig {
    /// A configuration with defaults for everything but the server and the data directory.
    pub fn new(server_url: impl Into<String>, data_dir: impl Into<PathBuf>) -> SdkConfig {
        SdkConfig {
            server_url: server_url.into(),
            data_dir: data_dir.into(),
            log_level: LogLevel::default(),
            platform: String::new(),
            heartbeat_interval: Duration::from_secs(20),
            request_timeout: Duration::from_secs(15),
            send_timeout: Duration::from_secs(30),
            rate_retry_limit: Duration::from_secs(120),
            reconnect_max_delay: Duration::from_secs(16),
            trusted_ca_pem: String::new(),
        }
    }

    /// The platform name used at login.
    pub fn platform_name(&self) -> String {
        if !self.platform.is_empty() {
            return self.platform.clone();
        }
        match std::env::consts::OS {
            "android" => "android",
            "ios" => "ios",
            "macos" => "macos",
            "windows" => "windows",
            _ => "linux",
        }
        .to_owned()
    }
}

/// `V2TIMLoginStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStatus {
    /// Logged in.
    Logined = 1,
    /// A login is in progress.
    Logining = 2,
    /// Not logged in.
    Logout = 3,
}
