//! The `oxim-server` command: serve (default) or print a development UserSig.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use oxim_server::Server;
use oxim_server::config::{DEV_SECRET_KEY, Durability, Overrides, ServerConfig};
use oxim_server::usersig::UserSigKey;

/// The self-hostable Oxim IM server.
///
/// Settings come from defaults, then `--config FILE` (TOML with the keys listen, data_dir,
/// sdk_app_id, secret_key, idle_timeout_secs, write_timeout_secs, revoke_window_secs, tls_cert,
/// tls_key, ...), then OXIM_* environment variables, then flags.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, env = "OXIM_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "OXIM_LISTEN", global = true)]
    listen: Option<SocketAddr>,
    /// Data directory [default: ./oxim-data].
    #[arg(long, env = "OXIM_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// SDKAppID served [default: 1400000000].
    #[arg(long, env = "OXIM_SDK_APP_ID", global = true)]
    sdk_app_id: Option<u64>,
    /// Secret key that UserSigs are signed with [default: a published development key].
    #[arg(long, env = "OXIM_SECRET_KEY", global = true, hide_env_values = true)]
    secret_key: Option<String>,
    /// Seconds after sending during which a message may be revoked [default: 120].
    #[arg(long, env = "OXIM_REVOKE_WINDOW_SECS", global = true)]
    revoke_window_secs: Option<u64>,
    /// Serve TLS (wss://, https://) with this certificate chain (PEM, leaf first); reloaded
    /// when the file changes. Needs --tls-key.
    #[arg(long, env = "OXIM_TLS_CERT", global = true)]
    tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM); reloaded when the file changes.
    #[arg(long, env = "OXIM_TLS_KEY", global = true)]
    tls_key: Option<PathBuf>,
    /// When a write is acknowledged: "full" (after its fsync: survives a power cut) or
    /// "relaxed" (before it: a power cut can take back the last acknowledged writes)
    /// [default: full].
    #[arg(long, env = "OXIM_DURABILITY", global = true)]
    durability: Option<Durability>,
    /// Messages one user (all their sessions) may send per second on average outside
    /// AVChatRooms; 0: no limit [default: 100; TOML: [limits] user_msgs_per_sec].
    #[arg(long, env = "OXIM_USER_MSGS_PER_SEC", global = true)]
    user_msgs_per_sec: Option<u32>,
    /// Messages one user may send at once after a quiet spell [default: 1000].
    #[arg(long, env = "OXIM_USER_MSGS_BURST", global = true)]
    user_msgs_burst: Option<u32>,
    /// Seconds a socket may stay without a login before it is closed with 4002 [default: 30].
    #[arg(long, env = "OXIM_LOGIN_DEADLINE_SECS", global = true)]
    login_deadline_secs: Option<u64>,
    /// WebSocket connections open at once; beyond it a new one is refused with HTTP 503
    /// [default: 10000; TOML: max_connections].
    #[arg(long, env = "OXIM_MAX_CONNECTIONS", global = true)]
    max_connections: Option<usize>,
    /// Log filter, e.g. "info" or "oxim_server=debug" [default: info, or RUST_LOG].
    #[arg(long, env = "OXIM_LOG", global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve (the default).
    Serve,
    /// Print a UserSig for a user, signed with the configured SDKAppID and secret key.
    Usersig {
        /// The user id.
        #[arg(long)]
        user: String,
        /// Validity in seconds [default: 180 days].
        #[arg(long, default_value_t = 180 * 86400)]
        expire: i64,
    },
}

fn config_from(cli: &Cli) -> Result<ServerConfig, String> {
    let mut config = ServerConfig::default();
    if let Some(path) = &cli.config {
        config.merge_toml_file(path)?;
    }
    config.merge(Overrides {
        listen: cli.listen,
        data_dir: cli.data_dir.clone(),
        sdk_app_id: cli.sdk_app_id,
        secret_key: cli.secret_key.clone(),
        idle_timeout_secs: None,
        revoke_window_secs: cli.revoke_window_secs,
        tls_cert: cli.tls_cert.clone(),
        tls_key: cli.tls_key.clone(),
        durability: cli.durability,
    })?;
    config.max_connections = cli.max_connections.unwrap_or(config.max_connections);
    let limits = &mut config.limits;
    limits.user_msgs_per_sec = cli.user_msgs_per_sec.unwrap_or(limits.user_msgs_per_sec);
    limits.user_msgs_burst = cli.user_msgs_burst.unwrap_or(limits.user_msgs_burst);
    limits.login_deadline_secs = cli.login_deadline_secs.unwrap_or(limits.login_deadline_secs);
    Ok(config)
}

fn main() {
    let cli = Cli::parse();
    let config = match config_from(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("oxim-server: {e}");
            std::process::exit(2);
        }
    };
    match cli.command {
        Some(Command::Usersig { user, expire }) => {
            if !oxim_proto::ids::is_valid_user_id(&user) {
                eprintln!("oxim-server: {user:?} is not a valid userID (1-32 printable ASCII characters)");
                std::process::exit(2);
            }
            let key = UserSigKey::new(config.sdk_app_id, config.secret_key.clone());
            println!("{}", key.sign(&user, oxim_proto::clock::now_ms() / 1000, expire));
        }
        Some(Command::Serve) | None => {
            let filter = cli.log.clone().or_else(|| std::env::var("RUST_LOG").ok()).unwrap_or_else(|| "info".into());
            tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).init();
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
            if let Err(e) = runtime.block_on(serve(config)) {
                eprintln!("oxim-server: {e}");
                std::process::exit(1);
            }
        }
    }
}

async fn serve(config: ServerConfig) -> Result<(), String> {
    let data_dir = config.data_dir.clone();
    let (app_id, dev_key) = (config.sdk_app_id, config.uses_dev_secret());
    let handle = Server::start(config).await?;
    println!("oxim-server {} listening on {}", env!("CARGO_PKG_VERSION"), handle.addr());
    println!("  websocket:  {}", handle.ws_url());
    println!("  health:     {}/healthz", handle.http_url());
    println!("  data dir:   {}", data_dir.display());
    println!("  SDKAppID:   {app_id}");
    if dev_key {
        println!("  secret key: {DEV_SECRET_KEY}  (development default: set --secret-key for real use)");
    } else {
        println!("  secret key: (configured)");
    }
    println!("  a UserSig:  oxim-server usersig --user alice");

    let trigger = handle.shutdown_trigger();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("signal received: shutting down");
        let _ = trigger.send(true);
    });
    handle.wait().await;
    println!("oxim-server stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// mimalloc instead of glibc's malloc: under load the gateway's workers spent a sixth of their
/// time in glibc's allocator (fragmented bins consolidated again and again), and the persisted
/// throughput doubled without it (docs/benchmarks.md, "Seventh round"). The library's users
/// (tests, embedders) keep their own allocator: only this binary sets it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
