//! Every context of the kubeconfig, served by one daemon: a context's caches
//! start on its first use, and are dropped after `idle` without a request or
//! an open stream (the default context stays). The kubeconfig is re-read
//! every few seconds: a context added is usable at once, and a context whose
//! cluster, user or settings changed (a rotated token, a new server) is
//! restarted with the new ones; streams on the old caches end as unavailable,
//! so clients reconnect. "A change" includes the certificate, key, CA and
//! token files the entries name: rotating them on disk is picked up too.
//!
//! Requests that name no context go where kubectl's would: to the
//! kubeconfig's current-context as it is now, so `kubectl config
//! use-context` moves them (the new default starts at once); unless the
//! daemon was started with `--context`, which pins it.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kube::config::Kubeconfig;
use tokio::sync::watch;
use tonic::Status;

use crate::catalog::Builtin;
use crate::cluster::Cluster;
use crate::kubeconfig::{self, KubeconfigError, Loaded};

/// How often the kubeconfig is re-read and idle contexts are looked for.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(2);

/// How long a context that failed to start is not tried again (unless its
/// kubeconfig entries change).
const RETRY_FAILED_LAUNCH: Duration = Duration::from_secs(30);

/// A launch that failed.
#[derive(Debug)]
struct Failed {
    at: Instant,
    fingerprint: String,
    message: String,
}

/// A running context.
struct Running {
    cluster: Arc<Cluster>,
    stop: watch::Sender<bool>,
    last_used: Instant,
    /// Requests and streams using it now.
    users: Arc<AtomicUsize>,
    /// The kubeconfig entries it was built from, to notice changes.
    fingerprint: String,
}

/// A cluster in use: it is not evicted while a lease lives.
pub struct Lease {
    /// The cluster.
    pub cluster: Arc<Cluster>,
    users: Arc<AtomicUsize>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.users.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::ops::Deref for Lease {
    type Target = Arc<Cluster>;
    fn deref(&self) -> &Arc<Cluster> {
        &self.cluster
    }
}

/// A context as `Info` reports it.
#[derive(Debug, Clone)]
pub struct ContextState {
    /// The context's name.
    pub name: String,
    /// Its cache, when running.
    pub cluster: Option<Arc<Cluster>>,
    /// Seconds since its last use (running contexts).
    pub idle: Duration,
}

/// The contexts of the kubeconfig and their caches.
pub struct Contexts {
    kubeconfig: Option<PathBuf>,
    extra_namespaces: Vec<String>,
    tiers: BTreeMap<Builtin, u32>,
    wire: crate::wire::Wire,
    /// Where each context's snapshot is written and read (None: nowhere).
    snapshots: Option<PathBuf>,
    /// Where requests that name no context go.
    default: std::sync::Mutex<String>,
    /// Whether `default` was chosen on the command line (and stays), or
    /// follows the kubeconfig's current-context.
    pinned: bool,
    /// A current-context that could not start, with its fingerprint: not
    /// tried again (nor logged every few seconds) until it changes.
    unusable_current: std::sync::Mutex<Option<(String, String)>>,
    /// Per context: the gate one launch at a time goes through, holding
    /// the last failed launch.
    launching: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Failed>>>>>,
    idle: Duration,
    running: tokio::sync::Mutex<HashMap<String, Running>>,
    /// Context names of the last kubeconfig read, in its order.
    names: std::sync::Mutex<Vec<String>>,
}

impl std::fmt::Debug for Contexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contexts")
            .field("default", &self.default_name())
            .finish_non_exhaustive()
    }
}

/// The kubeconfig entries a context is built from, as text, with a digest
/// of each file they name (CA, client certificate and key, token file):
/// whatever changes a client built from them.
fn fingerprint(config: &Kubeconfig, context: &str) -> String {
    use std::hash::{Hash, Hasher};
    let named = config.contexts.iter().find(|c| c.name == context);
    let inner = named.and_then(|c| c.context.as_ref());
    let cluster = inner.and_then(|c| config.clusters.iter().find(|n| n.name == c.cluster));
    let user = inner
        .and_then(|c| c.user.as_ref())
        .and_then(|u| config.auth_infos.iter().find(|n| n.name == *u));
    let files = [
        cluster.and_then(|c| c.cluster.as_ref()?.certificate_authority.clone()),
        user.and_then(|u| u.auth_info.as_ref()?.client_certificate.clone()),
        user.and_then(|u| u.auth_info.as_ref()?.client_key.clone()),
        user.and_then(|u| u.auth_info.as_ref()?.token_file.clone()),
    ];
    let mut digest = std::collections::hash_map::DefaultHasher::new();
    for file in files.iter().flatten() {
        file.hash(&mut digest);
        std::fs::read(file).ok().hash(&mut digest);
    }
    let entries = serde_json::to_string(&(named, cluster, user)).unwrap_or_default();
    format!("{entries} files:{:016x}", digest.finish())
}

/// Write a cluster's snapshot every `snapshot::INTERVAL` while it runs.
async fn write_snapshots_every(
    dir: PathBuf,
    cluster: std::sync::Weak<Cluster>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => return,
            _ = tokio::time::sleep(crate::snapshot::INTERVAL) => {}
        }
        let Some(cluster) = cluster.upgrade() else {
            return;
        };
        write_snapshot(dir.clone(), cluster).await;
    }
}

/// Write a cluster's snapshot off the async threads, and log how it went.
async fn write_snapshot(dir: PathBuf, cluster: Arc<Cluster>) {
    let context = cluster.context.name.clone();
    let written = tokio::task::spawn_blocking(move || crate::snapshot::write(&dir, &cluster)).await;
    match written {
        Ok(Ok(written)) => tracing::info!(
            context,
            kinds = written.kinds,
            rows = written.rows,
            bytes = written.bytes,
            millis = written.millis as u64,
            "snapshot written"
        ),
        Ok(Err(error)) => tracing::warn!(context, %error, "cannot write the snapshot"),
        Err(error) => tracing::warn!(context, %error, "writing the snapshot stopped"),
    }
}

impl Contexts {
    /// Serve the kubeconfig's contexts, `default` started at once.
    pub async fn start(
        kubeconfig: Option<PathBuf>,
        default: Option<&str>,
        extra_namespaces: Vec<String>,
        idle: Duration,
        tiers: BTreeMap<Builtin, u32>,
        wire: crate::wire::Wire,
        snapshots: Option<PathBuf>,
    ) -> Result<Arc<Contexts>, KubeconfigError> {
        let loaded = kubeconfig::load(kubeconfig.as_deref())?;
        let pinned = default.is_some();
        let default = loaded.pick_context(default)?;
        let contexts = Arc::new(Contexts {
            kubeconfig,
            extra_namespaces,
            tiers,
            wire,
            snapshots,
            default: std::sync::Mutex::new(default.clone()),
            pinned,
            unusable_current: std::sync::Mutex::default(),
            launching: std::sync::Mutex::default(),
            idle,
            running: Default::default(),
            names: std::sync::Mutex::new(loaded.context_names()),
        });
        let running = contexts.launch(&loaded, &default).await?;
        contexts.running.lock().await.insert(default, running);
        let maintained = Arc::downgrade(&contexts);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(MAINTENANCE_INTERVAL).await;
                let Some(contexts) = maintained.upgrade() else {
                    return;
                };
                contexts.maintain().await;
            }
        });
        Ok(contexts)
    }

    /// The default context's name.
    pub fn default_name(&self) -> String {
        self.default
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Build a context's client and start its caches. Building the client
    /// can run an exec credential plugin (aws, gke-gcloud-auth-plugin,
    /// kubelogin), which blocks for as long as it likes: it runs on a
    /// blocking thread, and never under the `running` lock, so `Info` and
    /// every other context go on meanwhile.
    async fn launch(&self, loaded: &Loaded, name: &str) -> Result<Running, KubeconfigError> {
        let (config, mut info) = loaded.client_config(name).await?;
        for namespace in &self.extra_namespaces {
            if !info.fallback_namespaces.contains(namespace) {
                info.fallback_namespaces.push(namespace.clone());
            }
        }
        let mut config = config;
        config.read_timeout = Some(self.wire.read_timeout);
        // Count the silence from each request, not from when a pooled
        // connection went idle.
        config.reset_reader_on_write = true;
        // kube retries 429, 503 and 504 by itself by default (up to 15
        // times, backing off to minutes), silently: a drain could not say
        // which budget blocks it, and an informer could not show that the
        // server is refusing it. Every caller here handles those itself.
        config.default_retry = false;
        let unusable = |message: String| KubeconfigError::Unusable {
            context: name.to_string(),
            files: String::new(),
            message,
        };
        let client = tokio::task::spawn_blocking(move || crate::http_client::build(&config))
            .await
            .map_err(|e| unusable(format!("building the client stopped: {e}")))?
            .map_err(|e| unusable(crate::errors::error_chain(&e)))?;
        let (stop, stopped) = watch::channel(false);
        let cluster = Cluster::new(info, client, stopped.clone(), &self.tiers, self.wire);
        if let Some(dir) = self.snapshots.clone() {
            let restoring = cluster.clone();
            let restore = move || crate::snapshot::restore(&dir, &restoring);
            if let Err(error) = tokio::task::spawn_blocking(restore).await {
                tracing::warn!(context = name, %error, "reading the snapshot stopped");
            }
        }
        cluster.start();
        if let Some(dir) = self.snapshots.clone() {
            tokio::spawn(write_snapshots_every(
                dir,
                Arc::downgrade(&cluster),
                stopped,
            ));
        }
        tracing::info!(context = name, "context started");
        Ok(Running {
            cluster,
            stop,
            last_used: Instant::now(),
            users: Arc::new(AtomicUsize::new(0)),
            fingerprint: fingerprint(&loaded.kubeconfig, name),
        })
    }

    /// Write every running context's snapshot now (at shutdown).
    pub async fn write_snapshots(&self) {
        let Some(dir) = self.snapshots.clone() else {
            return;
        };
        let clusters: Vec<Arc<Cluster>> = self
            .running
            .lock()
            .await
            .values()
            .map(|r| r.cluster.clone())
            .collect();
        for cluster in clusters {
            write_snapshot(dir.clone(), cluster).await;
        }
    }

    /// A lease on a running context, if it runs.
    async fn lease(&self, name: &str) -> Option<Lease> {
        let mut running = self.running.lock().await;
        let entry = running.get_mut(name)?;
        entry.last_used = Instant::now();
        entry.users.fetch_add(1, Ordering::SeqCst);
        Some(Lease {
            cluster: entry.cluster.clone(),
            users: entry.users.clone(),
        })
    }

    /// The gate of a context's launches (and its last failure).
    fn gate(&self, name: &str) -> Arc<tokio::sync::Mutex<Option<Failed>>> {
        self.launching
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// The cluster of a context ("" = the default), started on first use:
    /// one launch at a time per context, and a failed one is not tried
    /// again for `RETRY_FAILED_LAUNCH` unless its kubeconfig entries change
    /// (a failing exec plugin is not run on every reconnect).
    pub async fn get(&self, name: &str) -> Result<Lease, Status> {
        let default = self.default_name();
        let name = if name.is_empty() { &default } else { name };
        if let Some(lease) = self.lease(name).await {
            return Ok(lease);
        }
        let loaded = kubeconfig::load(self.kubeconfig.as_deref())
            .map_err(|e| Status::failed_precondition(e.to_string()))?;
        *self.names.lock().unwrap_or_else(|p| p.into_inner()) = loaded.context_names();
        if !loaded.context_names().iter().any(|n| n == name) {
            return Err(Status::not_found(format!(
                "context {name:?} is not served: the kubeconfig has no such context (its contexts: {})",
                loaded.context_names().join(", ")
            )));
        }
        let gate = self.gate(name);
        let mut failed = gate.lock().await;
        // Whoever held the gate may have started it.
        if let Some(lease) = self.lease(name).await {
            return Ok(lease);
        }
        let print = fingerprint(&loaded.kubeconfig, name);
        if let Some(last) = failed.as_ref()
            && last.fingerprint == print
            && let Some(wait) = RETRY_FAILED_LAUNCH.checked_sub(last.at.elapsed())
        {
            return Err(Status::failed_precondition(format!(
                "{} (tried {}s ago; tried again in {}s, or as soon as the kubeconfig changes)",
                last.message,
                last.at.elapsed().as_secs(),
                wait.as_secs() + 1
            )));
        }
        match self.launch(&loaded, name).await {
            Ok(started) => {
                *failed = None;
                let mut running = self.running.lock().await;
                let entry = running.entry(name.to_string()).or_insert(started);
                entry.last_used = Instant::now();
                entry.users.fetch_add(1, Ordering::SeqCst);
                Ok(Lease {
                    cluster: entry.cluster.clone(),
                    users: entry.users.clone(),
                })
            }
            Err(error) => {
                *failed = Some(Failed {
                    at: Instant::now(),
                    fingerprint: print,
                    message: error.to_string(),
                });
                Err(Status::failed_precondition(error.to_string()))
            }
        }
    }

    /// Every context of the kubeconfig, running or not.
    pub async fn states(&self) -> Vec<ContextState> {
        let running = self.running.lock().await;
        let names = self.names.lock().unwrap_or_else(|p| p.into_inner()).clone();
        names
            .into_iter()
            .map(|name| {
                let entry = running.get(&name);
                ContextState {
                    cluster: entry.map(|r| r.cluster.clone()),
                    idle: entry.map_or(Duration::ZERO, |r| {
                        if r.users.load(Ordering::SeqCst) > 0 {
                            Duration::ZERO
                        } else {
                            r.last_used.elapsed()
                        }
                    }),
                    name,
                }
            })
            .collect()
    }

    /// Unless pinned, make the kubeconfig's current-context the default,
    /// and start it (outside the `running` lock, as every launch).
    async fn follow_current_context(&self, loaded: &Loaded) {
        if self.pinned {
            return;
        }
        let Ok(current) = loaded.pick_context(None) else {
            return;
        };
        let previous = self.default_name();
        if current == previous {
            return;
        }
        let attempt = (current.clone(), fingerprint(&loaded.kubeconfig, &current));
        if !self.running.lock().await.contains_key(&current) {
            if self
                .unusable_current
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                == Some(&attempt)
            {
                return;
            }
            match self.launch(loaded, &current).await {
                Ok(started) => {
                    let mut running = self.running.lock().await;
                    if let Some(spare) = running.insert(current.clone(), started) {
                        // Started meanwhile by a request: keep one.
                        let _ = spare.stop.send(true);
                    }
                }
                Err(error) => {
                    tracing::warn!(context = %current, %error, "the kubeconfig's current-context changed, but it is unusable; requests without --context stay on the previous one");
                    *self
                        .unusable_current
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = Some(attempt);
                    return;
                }
            }
        }
        tracing::info!(from = %previous, to = %current, "the kubeconfig's current-context changed; requests without --context now go to it");
        *self.default.lock().unwrap_or_else(|p| p.into_inner()) = current;
    }

    /// Evict idle contexts; restart the ones whose kubeconfig entries
    /// changed (launched outside the `running` lock).
    async fn maintain(&self) {
        let loaded = match kubeconfig::load(self.kubeconfig.as_deref()) {
            Ok(loaded) => loaded,
            Err(error) => {
                tracing::warn!(%error, "cannot re-read the kubeconfig; keeping the contexts as they are");
                return;
            }
        };
        *self.names.lock().unwrap_or_else(|p| p.into_inner()) = loaded.context_names();
        self.follow_current_context(&loaded).await;
        let default = self.default_name();
        let mut changed = Vec::new();
        {
            let mut running = self.running.lock().await;
            let names: Vec<String> = running.keys().cloned().collect();
            for name in names {
                let Some(entry) = running.get(&name) else {
                    continue;
                };
                let busy = entry.users.load(Ordering::SeqCst) > 0;
                if name != default && !busy && entry.last_used.elapsed() > self.idle {
                    tracing::info!(context = %name, idle = ?entry.last_used.elapsed(), "dropping an idle context's caches");
                    if let Some(entry) = running.remove(&name) {
                        let _ = entry.stop.send(true);
                    }
                    continue;
                }
                let now = fingerprint(&loaded.kubeconfig, &name);
                if now == entry.fingerprint {
                    continue;
                }
                if !loaded.context_names().contains(&name) && name != default {
                    tracing::info!(context = %name, "context removed from the kubeconfig; dropping its caches");
                    if let Some(entry) = running.remove(&name) {
                        let _ = entry.stop.send(true);
                    }
                    continue;
                }
                changed.push((name, now));
            }
        }
        for entry in self.running.lock().await.values() {
            entry.cluster.close_idle_kinds(self.idle);
        }
        for (name, now) in changed {
            let launched = self.launch(&loaded, &name).await;
            let mut running = self.running.lock().await;
            match launched {
                Ok(fresh) => {
                    tracing::info!(context = %name, "the kubeconfig changed for this context; restarted its caches");
                    if let Some(old) = running.insert(name, fresh) {
                        let _ = old.stop.send(true);
                    }
                }
                Err(error) => {
                    tracing::warn!(context = %name, %error, "the kubeconfig changed but the context is unusable; keeping the old caches");
                    if let Some(entry) = running.get_mut(&name) {
                        entry.fingerprint = now;
                    }
                }
            }
        }
    }
}
