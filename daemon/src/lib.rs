//! timoneirod: keeps list+watch caches of a Kubernetes cluster and answers
//! queries from memory over gRPC on a Unix socket.
//!
//! The path of the data, one module each: `informer` (list+watch) →
//! `project` (object → `row`) → `store` (rows by uid, sync `status`) →
//! `query` (`filter`, `selector`, sort, window) → `server` (gRPC) on the
//! `listener` socket. `catalog` names the kinds (built-in ones and what
//! `discovery` finds), `cluster` runs one context's informers by tier,
//! `kubeconfig` finds the credentials.

pub mod actions;
pub mod catalog;
pub mod cluster;
pub mod codec;
pub mod contexts;
pub mod describe;
pub mod descriptor;
pub mod direct;
pub mod discovery;
pub mod drain;
pub mod errors;
pub mod exec;
pub mod filter;
pub mod forward;
#[cfg(any(test, feature = "test-util"))]
pub mod fuzz;
pub mod http_client;
pub mod informer;
pub mod kubeconfig;
pub mod lean;
pub mod listener;
pub mod logs;
pub mod metrics;
pub mod parallel;
pub mod project;
pub mod proxy;
pub mod query;
pub mod row;
pub mod row_table;
pub mod selector;
pub mod server;
pub mod snapshot;
pub mod status;
pub mod store;
pub mod table;
pub mod wire;

use std::path::PathBuf;

use anyhow::Context as _;
use timoneiro_proto::v1::timoneiro_server::TimoneiroServer;
use tokio::sync::watch;

/// The daemon's resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--kubeconfig`, when given.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`, when given.
    pub context: Option<String>,
    /// Where to listen.
    pub socket: PathBuf,
    /// Namespaces to cache, besides the context's, when RBAC forbids
    /// listing a kind cluster-wide.
    pub namespaces: Vec<String>,
    /// Drop a context's caches (not the default's) after this long unused.
    pub idle_evict: std::time::Duration,
    /// Loading tiers of built-in kinds that differ from the defaults.
    pub tiers: std::collections::BTreeMap<catalog::Builtin, u32>,
    /// How built-in kinds travel from the API server (protobuf unless
    /// forced to JSON), and how long a connection may stay silent.
    pub wire: wire::Wire,
    /// Contexts that refuse actions.
    pub readonly: actions::ReadOnly,
    /// Where snapshots for warm restarts go (None: not written or read).
    pub snapshots: Option<PathBuf>,
    /// Caches from this many rows answer a `window_first` stream with its
    /// rows before its count ([`query::window_first`]).
    pub window_first_rows: usize,
}

/// Run the daemon until SIGINT or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let loaded = kubeconfig::load(settings.kubeconfig.as_deref())?;
    let context = loaded.pick_context(settings.context.as_deref())?;
    // Fail before binding when the default context's entries are unusable
    // (its client, which may run an exec plugin, is built once, below).
    let (_, info) = loaded.client_config(&context).await?;

    // Socket activation first (systemd passes a listener); else bind our own.
    let mut socket = match listener::inherited(&settings.socket)? {
        Some(socket) => socket,
        None => listener::bind(&settings.socket)?,
    };
    tracing::info!(socket = %socket.path.display(), activated = socket.activated, context = %info.name, server = %info.server, "timoneirod listening");

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let contexts = contexts::Contexts::start(
        settings.kubeconfig.clone(),
        // Pinned by --context; else the current-context, followed.
        settings.context.as_deref(),
        settings.namespaces.clone(),
        settings.idle_evict,
        settings.tiers.clone(),
        settings.wire,
        settings.snapshots.clone(),
    )
    .await?;

    let service = server::Service::new(contexts.clone(), shutdown_rx.clone())
        .with_readonly(settings.readonly.clone())
        .with_window_first_rows(settings.window_first_rows);
    let mut signals_rx = shutdown_rx.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = shutdown_tx.send(true);
    });
    tonic::transport::Server::builder()
        .add_service(
            TimoneiroServer::new(service)
                .max_decoding_message_size(1024 * 1024)
                .max_encoding_message_size(256 * 1024 * 1024),
        )
        .serve_with_incoming_shutdown(socket.incoming(), async move {
            let _ = signals_rx.wait_for(|stop| *stop).await;
        })
        .await
        .context("the gRPC server failed")?;
    // The next start serves these at once (the socket is still held, so
    // no second daemon starts meanwhile).
    contexts.write_snapshots().await;
    tracing::info!("shut down");
    drop(socket);
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut interrupt), Ok(mut terminate)) => {
            tokio::select! {
                _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
                _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
