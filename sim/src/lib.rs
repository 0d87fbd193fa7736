//! timoneiro-sim: a simulated kube-apiserver over real HTTP, for the demo,
//! the end-to-end tests and the benchmarks.
//!
//! `store` holds the objects and their history, `seed` generates a
//! realistic cluster from the recorded fixtures, `churn` keeps pods
//! changing, `server` speaks the list/watch protocol.

pub mod churn;
pub mod controller;
pub mod discovery;
pub mod faults;
pub mod gopb;
pub mod listen;
pub mod logs;
pub mod metrics;
pub mod pack;
pub mod resources;
pub mod seed;
pub mod server;
pub mod shell;
pub mod store;
pub mod streaming;
pub mod table;
pub mod tls;
pub mod write;
pub mod wsstream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Pods to seed.
    pub pods: usize,
    /// Application namespaces to seed.
    pub namespaces: usize,
    /// Pod operations per second (0 = none).
    pub churn_rate: u32,
    /// Random seed.
    pub seed: u64,
    /// Where to write a kubeconfig for the simulator.
    pub kubeconfig_out: Option<PathBuf>,
    /// Bearer token clients must present.
    pub token: String,
    /// Changes kept for watch resumption; older resourceVersions get 410 Gone.
    pub history: usize,
    /// Keep objects packed ([`pack`]): a million pods in a few GB.
    pub pack: bool,
    /// Interval between BOOKMARK events.
    pub bookmark_interval: Duration,
    /// Resources answered with 403 Forbidden.
    pub forbid: Vec<String>,
    /// Resources that may be listed but not watched (403 on a watch).
    pub forbid_watch: Vec<String>,
    /// Custom resources installed at start (`widgets`); more through `POST /sim/crds`.
    pub crds: Vec<String>,
    /// Answer only the legacy discovery endpoints, as servers before 1.26.
    pub legacy_discovery: bool,
    /// Serve no metrics.k8s.io (a cluster without metrics-server).
    pub no_metrics: bool,
    /// Speak only v4.channel.k8s.io on pods/exec (servers before 1.30).
    pub exec_v4_only: bool,
    /// Serve HTTPS with a CA made at start (the binary's default; in-process
    /// tests that speak raw HTTP turn it off).
    pub tls: bool,
    /// Write a kubeconfig whose user authenticates with a client
    /// certificate (mutual TLS) instead of the bearer token.
    pub client_certificate: bool,
    /// Resources the user may not list at the cluster scope, only in
    /// `allowed_namespaces` (a RoleBinding per namespace, no ClusterRoleBinding).
    pub namespace_only: Vec<String>,
    /// Where `namespace_only` resources may be listed; empty means the
    /// kubeconfig's namespace (the first application namespace).
    pub allowed_namespaces: Vec<String>,
    /// Resources served without protobuf (406 to a protobuf-only Accept), as
    /// custom resources and some aggregated APIs are.
    pub no_protobuf: Vec<String>,
    /// Log lines a second of every running container (`pods/log`).
    pub log_rate: f64,
    /// How long a deleted pod's containers take to stop (at most its grace period).
    pub pod_stop: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            pods: 1000,
            namespaces: 10,
            churn_rate: 0,
            seed: 1,
            kubeconfig_out: None,
            token: "timoneiro-sim-token".into(),
            history: 100_000,
            pack: false,
            bookmark_interval: Duration::from_secs(60),
            forbid: Vec::new(),
            forbid_watch: Vec::new(),
            crds: Vec::new(),
            legacy_discovery: false,
            no_metrics: false,
            exec_v4_only: false,
            tls: false,
            client_certificate: false,
            namespace_only: Vec::new(),
            no_protobuf: Vec::new(),
            allowed_namespaces: Vec::new(),
            log_rate: 2.0,
            pod_stop: Duration::from_secs(1),
        }
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The CA certificate (PEM) when serving HTTPS.
    pub ca_pem: Option<String>,
    /// The application namespaces seeded.
    pub namespaces: Vec<String>,
    /// The store, for in-process callers.
    pub store: Arc<store::Store>,
    /// Serves until dropped... or the process ends.
    pub server: tokio::task::JoinHandle<()>,
}

/// The kubeconfig that points kubectl or timoneirod at the simulator:
/// HTTPS verified with `ca_pem` when given, plain HTTP otherwise; the user
/// authenticates with `identity` (a client certificate and key, PEM) when
/// given, else with the bearer token.
pub fn kubeconfig(
    addr: SocketAddr,
    token: &str,
    namespace: &str,
    ca_pem: Option<&str>,
    identity: Option<&(String, String)>,
) -> String {
    use base64::Engine as _;
    let base64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let user = match identity {
        Some((certificate, key)) => format!(
            "client-certificate-data: {}\n    client-key-data: {}",
            base64(certificate),
            base64(key)
        ),
        None => format!("token: {token}"),
    };
    let cluster = match ca_pem {
        Some(pem) => format!(
            "server: https://{addr}\n    certificate-authority-data: {}",
            base64::engine::general_purpose::STANDARD.encode(pem)
        ),
        None => format!("server: http://{addr}"),
    };
    format!(
        "apiVersion: v1
kind: Config
current-context: timoneiro-sim
clusters:
- name: timoneiro-sim
  cluster:
    {cluster}
users:
- name: timoneiro-sim
  user:
    {user}
contexts:
- name: timoneiro-sim
  context:
    cluster: timoneiro-sim
    user: timoneiro-sim
    namespace: {namespace}
"
    )
}

/// Seed, bind and serve (in the background of the current runtime).
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    let store = Arc::new(store::Store::packing(settings.history, settings.pack));
    let nodes = (settings.pods / 40).max(3);
    let mut generator = seed::Generator::new(settings.seed, nodes);
    let namespaces = generator
        .seed(
            &store,
            seed::SeedConfig {
                pods: settings.pods,
                namespaces: settings.namespaces,
            },
        )
        .context("seeding the simulated cluster")?;
    let churn = Arc::new(churn::Control::new(settings.churn_rate));
    let churn_generator = seed::Generator::new(settings.seed.wrapping_add(1), nodes);
    tokio::spawn(churn::run(
        store.clone(),
        churn_generator,
        churn.clone(),
        namespaces.clone(),
    ));

    let server = Arc::new(server::Server::new(
        &settings,
        store.clone(),
        churn,
        &namespaces,
        nodes,
    ));
    for crd in &settings.crds {
        anyhow::ensure!(
            server.install_crd(crd, None),
            "unknown custom resource {crd:?}; the sim knows: {}",
            resources::CRDS
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let authority = if settings.tls {
        Some(tls::Authority::new("timoneiro-sim CA")?)
    } else {
        None
    };
    let acceptor = match &authority {
        Some(ca) => Some(ca.acceptor(addr.ip())?),
        None => None,
    };
    let identity = match &authority {
        Some(ca) if settings.client_certificate => Some(ca.client_identity(server::SIM_USER)?),
        _ => None,
    };
    let ca_pem = authority.map(|ca| ca.pem);
    if let Some(path) = &settings.kubeconfig_out {
        let namespace = namespaces
            .first()
            .cloned()
            .unwrap_or_else(|| "default".into());
        let tmp = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            kubeconfig(
                addr,
                &settings.token,
                &namespace,
                ca_pem.as_deref(),
                identity.as_ref(),
            ),
        )
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write the kubeconfig {}", path.display()))?;
    }
    let faults = server.faults.clone();
    let app = server::router(server);
    let handle = tokio::spawn(listen::serve(
        listener,
        acceptor,
        app,
        faults,
        store.clone(),
    ));
    Ok(Running {
        addr,
        scheme: if ca_pem.is_some() { "https" } else { "http" },
        ca_pem,
        namespaces,
        store,
        server: handle,
    })
}
