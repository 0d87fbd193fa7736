//! timoneiro-sim: run a simulated kube-apiserver.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// A simulated kube-apiserver speaking the real list/watch protocol over
/// HTTP (resourceVersion, paging, watch with bookmarks, 410 Gone, metadata-only
/// lists), seeded with a realistic cluster cloned from recorded API server
/// responses. For demos, tests and benchmarks; serves reads only.
#[derive(Debug, Parser)]
#[command(name = "timoneiro-sim", version, after_help = EXAMPLES)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Pods to seed (with proportional deployments, replicasets, services, configmaps, secrets, …).
    #[arg(long, default_value_t = 1000)]
    pods: usize,
    /// Application namespaces to spread them over.
    #[arg(long, default_value_t = 10)]
    namespaces: usize,
    /// Pod creations, restarts and deletions per second (0 = a still cluster).
    #[arg(long, default_value_t = 0)]
    churn_rate: u32,
    /// Random seed for the generated cluster.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write a kubeconfig pointing at the simulator to this file.
    #[arg(long, value_name = "PATH")]
    kubeconfig_out: Option<PathBuf>,
    /// Bearer token clients must send.
    #[arg(long, default_value = "timoneiro-sim-token")]
    token: String,
    /// Changes kept for resuming watches; older resourceVersions get 410 Gone.
    #[arg(long, default_value_t = 100_000)]
    history: usize,
    /// Keep every object zstd-packed with a dictionary trained on its
    /// resource's first objects: about 1.5 KB a pod instead of 25 KB, for a
    /// million pods, at the cost of CPU on every answer (the bytes served
    /// are the same)
    #[arg(long)]
    pack: bool,
    /// Seconds between BOOKMARK events on watches that allow them.
    #[arg(long, default_value_t = 60)]
    bookmark_interval: u64,
    /// Answer this resource (plural, e.g. secrets) with 403 Forbidden. Repeatable.
    #[arg(long, value_name = "RESOURCE")]
    forbid: Vec<String>,
    /// Let the user list this resource (plural) but not watch it: RBAC with
    /// the list verb and not watch; each watch gets 403 Forbidden. Repeatable.
    #[arg(long, value_name = "RESOURCE")]
    forbid_watch: Vec<String>,
    /// Serve this resource (plural) without protobuf: 406 Not Acceptable to a
    /// protobuf-only request, as custom resources and some aggregated APIs
    /// answer. Repeatable.
    #[arg(long, value_name = "RESOURCE")]
    no_protobuf: Vec<String>,
    /// Install a custom resource's CRD at start, with its recorded objects in
    /// every namespace (the sim knows `widgets`, CRD widgets.example.com).
    /// `POST /sim/crds?name=widgets` installs it while running.
    #[arg(long, value_name = "NAME")]
    crd: Vec<String>,
    /// Serve only the legacy discovery endpoints (no aggregated discovery),
    /// as API servers before 1.26 do.
    #[arg(long)]
    legacy_discovery: bool,
    /// Serve no metrics.k8s.io, as a cluster without metrics-server. By
    /// default the sim serves PodMetrics and NodeMetrics whose values change
    /// every 15 seconds.
    #[arg(long)]
    no_metrics: bool,
    /// Speak only v4.channel.k8s.io on pods/exec, as API servers before
    /// 1.30 do (no CLOSE signal: a client's stdin ends the whole session).
    #[arg(long)]
    exec_v4_only: bool,
    /// Log lines a second that every running container writes (pods/log).
    /// `POST /sim/logs?rate=N` changes it while running.
    #[arg(long, value_name = "N", default_value_t = 2.0)]
    log_rate: f64,
    /// Seconds a deleted pod stays Terminating before it is gone (at most
    /// its grace period), as a process that exits on SIGTERM.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    pod_stop_seconds: f64,
    /// Serve plain HTTP instead of HTTPS. By default the sim makes its own CA
    /// at start, serves a certificate signed by it and writes the CA into the
    /// kubeconfig, so clients take the same TLS path as with a real cluster.
    #[arg(long)]
    http: bool,
    /// Write a kubeconfig whose user authenticates with a client
    /// certificate the sim's CA signed (mutual TLS, as kubeadm's admin.conf
    /// does) instead of the bearer token. The token is accepted still.
    #[arg(long, conflicts_with = "http")]
    client_certificate: bool,
    /// Let the user list this resource (plural) only in the namespaces of
    /// --allow-namespace, never cluster-wide: RBAC with a RoleBinding per
    /// namespace and no ClusterRoleBinding. Repeatable.
    #[arg(long, value_name = "RESOURCE")]
    namespace_only: Vec<String>,
    /// A namespace where --namespace-only resources may be listed (default:
    /// the kubeconfig's namespace). Repeatable.
    #[arg(long, value_name = "NAMESPACE")]
    allow_namespace: Vec<String>,
}

const EXAMPLES: &str = "Examples:
  timoneiro-sim --pods 10000 --namespaces 20 --churn-rate 50 --kubeconfig-out sim.kubeconfig
  timoneirod --kubeconfig sim.kubeconfig

Control hooks (for tests and benchmarks): POST /sim/compact, POST /sim/churn?rate=N,
POST /sim/pods?namespace=NS (create one fresh pod; a JSON body is merged over it), POST /sim/crds?name=widgets,
POST /sim/token?value=NEW (rotate the bearer token), GET /sim/info, GET /sim/requests.

Faults: POST /sim/faults/drop-watches (cut every watch mid-stream),
POST /sim/faults/end-watches (end every watch cleanly, as a request timeout does),
POST /sim/faults/outage?seconds=N (port closed for N s, then back on the same address),
POST /sim/faults/restart?seconds=N (an outage, then a fresh watch cache: old
resourceVersions are 410 Gone), POST /sim/faults/freeze?seconds=N (silent for N s,
nothing closed: a half-open connection), POST /sim/faults/short-watches?seconds=N
(every watch ends cleanly at once, for N s), POST /sim/faults/gone?form=watch-event|watch-http
(compact now; watches from older resourceVersions get an ERROR event, or HTTP 410),
POST /sim/faults/gone?form=list|continue&count=N (the next N lists or continue
requests get HTTP 410).";

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TIMONEIRO_SIM_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let settings = timoneiro_sim::Settings {
        listen: args.listen,
        pods: args.pods,
        namespaces: args.namespaces,
        churn_rate: args.churn_rate,
        seed: args.seed,
        kubeconfig_out: args.kubeconfig_out.clone(),
        token: args.token,
        history: args.history,
        pack: args.pack,
        bookmark_interval: Duration::from_secs(args.bookmark_interval.max(1)),
        forbid: args.forbid,
        forbid_watch: args.forbid_watch,
        crds: args.crd,
        legacy_discovery: args.legacy_discovery,
        no_metrics: args.no_metrics,
        exec_v4_only: args.exec_v4_only,
        tls: !args.http,
        client_certificate: args.client_certificate,
        namespace_only: args.namespace_only,
        no_protobuf: args.no_protobuf,
        allowed_namespaces: args.allow_namespace,
        log_rate: args.log_rate,
        pod_stop: Duration::from_secs_f64(args.pod_stop_seconds.clamp(0.0, 3600.0)),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("timoneiro-sim: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match timoneiro_sim::start(settings.clone()).await {
            Ok(running) => {
                let kubeconfig = args.kubeconfig_out.map(|p| format!(", kubeconfig {}", p.display())).unwrap_or_default();
                println!(
                    "timoneiro-sim listening on {}://{} ({} pods in {} namespaces, churn {}/s{kubeconfig})",
                    running.scheme, running.addr, settings.pods, running.namespaces.len(), settings.churn_rate
                );
                let _ = running.server.await;
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("timoneiro-sim: {error:#}");
                ExitCode::FAILURE
            }
        }
    })
}
