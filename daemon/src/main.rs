//! timoneirod: the Timoneiro daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// jemalloc, with its background thread returning freed pages: a sync
/// decodes hundreds of megabytes that are garbage a moment later, and glibc's
/// per-thread arenas keep much of that in the RSS (BENCHMARKS.md). It is
/// the C code's `malloc` too (the workspace builds it unprefixed): zstd
/// trains dictionaries and keeps contexts through it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The `--wire` choices: how built-in kinds travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum WireArg {
    Protobuf,
    Json,
}

impl From<WireArg> for timoneirod::wire::Encoding {
    fn from(wire: WireArg) -> Self {
        match wire {
            WireArg::Protobuf => timoneirod::wire::Encoding::Protobuf,
            WireArg::Json => timoneirod::wire::Encoding::Json,
        }
    }
}

/// Keeps warm list+watch caches of a Kubernetes cluster and answers
/// `timoneiro` and `timoneiro-tui` from memory over a Unix socket.
///
/// Pods load first; deployments, services, namespaces, statefulsets and
/// daemonsets (tier 2) and replicasets, jobs, cronjobs, configmaps and
/// secrets (tier 3, secrets without their values) load in the background once
/// pods are synced. `timoneiro status` shows where each kind stands.
#[derive(Debug, Parser)]
#[command(name = "timoneirod", version, after_help = EXAMPLES)]
struct Args {
    /// Kubeconfig file. Default: $KUBECONFIG (several files merged), then ~/.kube/config.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The context requests that name none go to, pinned. Default: the
    /// kubeconfig's current-context, followed as it changes (`kubectl config
    /// use-context`). Every context of the kubeconfig is served either way.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Socket to listen on. Default: $XDG_RUNTIME_DIR/timoneiro/timoneirod.sock.
    #[arg(long, value_name = "PATH", env = "TIMONEIRO_SOCKET")]
    socket: Option<PathBuf>,
    /// A namespace to cache, besides the context's, when RBAC forbids listing
    /// a kind cluster-wide (a user with RoleBindings in some namespaces only).
    /// Repeatable. `timoneiro status` shows the namespaces a kind is cached in.
    #[arg(long = "namespace", value_name = "NAME")]
    namespaces: Vec<String>,
    /// Drop the caches of a context other than the default after it has been
    /// unused (no request, no open stream) this long, e.g. 30m, 2h. Every
    /// context of the kubeconfig is served; each starts on first use. A
    /// discovered kind (a CRD) unused this long is closed too, and opened
    /// again by its next query. Default: 30m, or `idle_evict` in the config
    /// file.
    #[arg(long, value_name = "DURATION", value_parser = timoneiro_client::parse_duration)]
    idle_evict: Option<std::time::Duration>,
    /// How built-in kinds travel from the API server: protobuf (about a third
    /// smaller, and a big list syncs faster) or json. Custom resources and aggregated
    /// APIs always use JSON, and a kind falls back to JSON by itself when the
    /// server refuses protobuf (`timoneiro status` says so).
    #[arg(long, value_name = "ENCODING", value_enum, default_value_t = WireArg::Protobuf)]
    wire: WireArg,
    /// How long a connection to the API server may send nothing at all
    /// before it is taken as dead, e.g. 5m, 90s. After a laptop sleep or a
    /// VPN or NAT drop a connection can stay open yet silent forever; past
    /// this, the kind turns STALE and relists. Watches are renewed a little
    /// sooner (`timeoutSeconds`), so a healthy cluster never trips it.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = read_timeout)]
    api_read_timeout: std::time::Duration,
    /// Refuse every action (delete, scale, rollout restart, cordon,
    /// trigger) on every context: a daemon that only reads. Logs are still
    /// served. `readonly = true` under `[contexts.NAME]` in the config file
    /// does it for one context.
    #[arg(long)]
    readonly: bool,
    /// Where snapshots for warm restarts go: on shutdown and every five
    /// minutes, each context's synced kinds (rows and kept objects; secrets
    /// as metadata only) are written there, and the next start serves them
    /// at once, STALE, then resumes each watch from where the snapshot left
    /// it (a kind the API server no longer has that point for is listed
    /// again). Default: $XDG_CACHE_HOME/timoneiro, else
    /// ~/.cache/timoneiro (made 0700).
    #[arg(long, value_name = "DIR", conflicts_with = "no_snapshots")]
    snapshot_dir: Option<PathBuf>,
    /// Write and read no snapshots: every start lists from scratch.
    #[arg(long)]
    no_snapshots: bool,
    /// Caches of at least this many rows answer a filter typed in the TUI
    /// with its rows first, found by walking the rows in the view's order,
    /// and the match count right after (counting every match reads every
    /// row: 40 ms at a million pods). 0: every cache does.
    #[arg(long, value_name = "ROWS", default_value_t = timoneirod::query::WINDOW_FIRST_ROWS)]
    window_first_rows: usize,
    /// Log filter (tracing syntax, e.g. "info" or "timoneirod=debug"). Logs go to stderr.
    #[arg(
        long,
        value_name = "FILTER",
        env = "TIMONEIRO_LOG",
        default_value = "info"
    )]
    log: String,
}

const EXAMPLES: &str = "Examples:
  timoneirod                                  serve the current context of ~/.kube/config
  timoneirod --context prod                   serve another context
  timoneirod --kubeconfig ./kc --socket /tmp/t/t.sock
  timoneiro status                            (in another terminal) what has loaded

Settings also come from ~/.config/timoneiro/config.toml ($TIMONEIRO_CONFIG):
socket, [daemon] idle_evict, namespaces, preload, [tiers] KIND = 1-4,
[contexts.NAME] readonly; the command line wins. `timoneiro config` shows the effective values and where they came from.";

/// `--api-read-timeout`: a duration of at least 2 s (a watch must be able
/// to end itself, `timeoutSeconds` ≥ 1, before the silence counts).
fn read_timeout(text: &str) -> Result<std::time::Duration, String> {
    let duration = timoneiro_client::parse_duration(text)?;
    if duration < std::time::Duration::from_secs(2) {
        return Err(format!("{text:?} is too short: at least 2s"));
    }
    Ok(duration)
}

/// kube refuses `NO_PROXY` values that Go (and so kubectl) accepts, such as
/// a trailing comma, and the daemon could not start. Before any thread
/// exists, start over with the same list in a form kube reads
/// (`proxy::normalized_no_proxy`); exec keeps the pid and inherited
/// sockets, so socket activation is unaffected.
fn normalize_no_proxy() {
    use std::os::unix::process::CommandExt;
    const DONE: &str = "TIMONEIRO_NO_PROXY_NORMALIZED";
    if std::env::var_os(DONE).is_some() {
        return;
    }
    let mut command = None::<std::process::Command>;
    for name in ["NO_PROXY", "no_proxy"] {
        let Some(value) = std::env::var(name).ok() else {
            continue;
        };
        let normalized = timoneirod::proxy::normalized_no_proxy(&value);
        if normalized == value {
            continue;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let command = command.get_or_insert_with(|| {
            let mut command = std::process::Command::new(exe);
            command.args(std::env::args_os().skip(1)).env(DONE, "1");
            command
        });
        if normalized.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, normalized);
        }
    }
    if let Some(mut command) = command {
        let error = command.exec();
        eprintln!("timoneirod: could not restart with NO_PROXY normalized ({error}); going on");
    }
}

fn main() -> ExitCode {
    normalize_no_proxy();
    let args = Args::parse();
    // Not fatal: without the thread, freed pages return at the next allocation.
    let background = tikv_jemalloc_ctl::background_thread::write(true);
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: the journal and log files get plain text.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    if let Err(error) = background {
        tracing::debug!(%error, "jemalloc background thread unavailable");
    }
    // The config file fills what the command line leaves unset.
    let config = match timoneiro_client::config::load(None) {
        Ok(loaded) => loaded.config,
        Err(error) => {
            eprintln!("timoneirod: {error}");
            return ExitCode::from(2);
        }
    };
    let idle_evict = args.idle_evict.unwrap_or_else(|| {
        config
            .daemon
            .idle_evict
            .as_deref()
            .and_then(|d| timoneiro_client::parse_duration(d).ok())
            .unwrap_or(std::time::Duration::from_secs(30 * 60))
    });
    let mut namespaces = args.namespaces;
    namespaces.extend(config.daemon.namespaces.iter().cloned());
    let tiers = match timoneirod::catalog::tier_overrides(&config.tiers, &config.daemon.preload) {
        Ok(tiers) => tiers,
        Err(error) => {
            eprintln!("timoneirod: invalid config: {error}");
            return ExitCode::from(2);
        }
    };
    let settings = timoneirod::Settings {
        kubeconfig: args.kubeconfig,
        context: args.context,
        socket: timoneiro_client::socket::resolve_socket_path(
            args.socket.as_deref(),
            config.socket.as_deref(),
        ),
        namespaces,
        idle_evict,
        tiers,
        wire: timoneirod::wire::Wire {
            encoding: args.wire.into(),
            read_timeout: args.api_read_timeout,
        },
        window_first_rows: args.window_first_rows,
        snapshots: if args.no_snapshots {
            None
        } else {
            args.snapshot_dir.or_else(timoneirod::snapshot::default_dir)
        },
        readonly: timoneirod::actions::ReadOnly {
            all: args.readonly,
            contexts: config
                .contexts
                .iter()
                .filter(|(_, c)| c.readonly)
                .map(|(name, _)| name.clone())
                .collect(),
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("timoneirod: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(timoneirod::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("timoneirod: {error:#}");
            ExitCode::FAILURE
        }
    }
}
