//! timoneiro-tui: the terminal navigator.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use timoneiro_client::autostart;
use timoneiro_tui::app::Scope;

/// A live terminal navigator for Kubernetes on the timoneirod cache: opens
/// instantly, updates as the cluster changes, filters as you type. Press ?
/// inside for every key.
#[derive(Debug, Parser)]
#[command(name = "timoneiro-tui", version, after_help = KEYS)]
struct Args {
    /// Kind to open (pods, deploy, svc, …).
    #[arg(default_value = "pods")]
    kind: String,
    /// Namespace to open. Default: the context's namespace.
    #[arg(short, long, value_name = "NS", conflicts_with = "all_namespaces")]
    namespace: Option<String>,
    /// Open on every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Context. Default: the daemon's.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "",
        hide_default_value = true
    )]
    context: String,
    /// The daemon's socket. Default: $XDG_RUNTIME_DIR/timoneiro/timoneirod.sock.
    #[arg(long, value_name = "PATH", env = "TIMONEIRO_SOCKET")]
    socket: Option<PathBuf>,
    /// Do not start timoneirod when none answers on the socket (also
    /// TIMONEIRO_NO_AUTOSTART=1). By default it is started in the background.
    #[arg(long)]
    no_autostart: bool,
    /// Lines the log view (l) keeps; older ones are dropped as new ones
    /// arrive, so following a busy pod for hours stays within bounds.
    #[arg(long, value_name = "N", default_value_t = timoneiro_tui::logview::DEFAULT_CAPACITY)]
    log_lines: usize,
    /// Log file. Default: $XDG_STATE_HOME/timoneiro/tui.log (~/.local/state/timoneiro/tui.log).
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
}

const KEYS: &str =
    "Keys: j/k move · / filter · : kind or command (Tab completes) · d describe · y YAML ·
Enter drill down · l logs · ^d delete · s scale · r restart · N/A/S/R sort ·
0 all namespaces · Esc back · ? help (the keys of the kind shown) · q quit.
NO_COLOR=1 turns colours off.";

fn log_path(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(path) = explicit {
        return path;
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    state.join("timoneiro").join("tui.log")
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !std::io::stdout().is_terminal() {
        eprintln!("timoneiro-tui: stdout is not a terminal; for scripts use `timoneiro get`");
        return ExitCode::from(2);
    }
    let log = log_path(args.log_file);
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
    {
        Ok(file) => tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("TIMONEIRO_LOG")
                    .unwrap_or_else(|_| "info".into()),
            )
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init(),
        Err(error) => eprintln!("timoneiro-tui: not logging ({}: {error})", log.display()),
    }
    let namespace = match (args.namespace, args.all_namespaces) {
        (_, true) => Scope::All,
        (Some(ns), false) => Scope::Named(ns),
        (None, false) => Scope::Context,
    };
    let config = match timoneiro_client::config::load(None) {
        Ok(config) => config.config,
        Err(error) => {
            eprintln!("timoneiro-tui: {error}");
            return ExitCode::from(2);
        }
    };
    let socket = timoneiro_client::socket::resolve_socket_path(
        args.socket.as_deref(),
        config.socket.as_deref(),
    );
    if !args.no_autostart
        && !autostart::disabled_by_env()
        && config.autostart != Some(false)
        && !autostart::answers(&socket)
    {
        eprintln!(
            "timoneiro-tui: starting timoneirod on {} …",
            socket.display()
        );
        if let Err(error) = autostart::ensure_running(&socket) {
            eprintln!("timoneiro-tui: {error}");
            return ExitCode::from(3);
        }
    }
    let settings = timoneiro_tui::Settings {
        socket,
        context: args.context,
        kind: args.kind,
        namespace,
        log_lines: args.log_lines,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("timoneiro-tui: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(timoneiro_tui::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("timoneiro-tui: {error:#}");
            ExitCode::FAILURE
        }
    }
}
