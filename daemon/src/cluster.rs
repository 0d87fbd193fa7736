//! A cluster: one kube context with a store per kind and the informers that
//! fill them, started by tier. Tier 1 (pods) starts at once; tiers 2 and 3
//! start together, in the background, once tier 1 has synced (or failed);
//! tier 4 and discovered kinds start on their first query. Discovery runs at
//! start and every `DISCOVERY_INTERVAL`, and again (at most every
//! `DISCOVERY_RETRY`) when a name does not resolve, so a CRD installed while
//! the daemon runs is usable at once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use kube::api::{ApiResource, DynamicObject};
use kube::{Api, Client};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::catalog::{Builtin, Catalog, Kind, ResolveError, Source};
use crate::descriptor::Start;
use crate::discovery;
use crate::informer::{self, Scope};
use crate::lean::Lean;
use crate::project;
use crate::status::SyncState;
use crate::store::Store;
use crate::table::TableRow;
use crate::wire::{Encoding, Wire};

/// How often discovery is refreshed in the background.
pub const DISCOVERY_INTERVAL: Duration = Duration::from_secs(30);
/// Shortest time between two discoveries caused by unknown names: a name
/// that does not resolve waits at most this long for a fresh discovery.
pub const DISCOVERY_RETRY: Duration = Duration::from_millis(250);

/// What the daemon knows about a context.
#[derive(Debug, Clone)]
pub struct ContextInfo {
    /// The context's name.
    pub name: String,
    /// The API server URL.
    pub server: String,
    /// The context's namespace, "default" when unset.
    pub namespace: String,
    /// Where namespaced kinds are cached when RBAC forbids a cluster-wide
    /// list: the context's namespace, then the daemon's `--namespace` ones.
    pub fallback_namespaces: Vec<String>,
}

/// How the last discovery went.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryState {
    /// When the last discovery run started (successfully or not).
    pub ran: Option<Instant>,
    /// "aggregated" or "legacy" after a success.
    pub method: &'static str,
    /// The error of the last run, if it failed.
    pub error: Option<String>,
}

/// One context's caches.
pub struct Cluster {
    /// The context served.
    pub context: ContextInfo,
    client: Client,
    catalog: RwLock<Arc<Catalog>>,
    discovery: Mutex<DiscoveryState>,
    /// Serialises discovery runs.
    discovering: tokio::sync::Mutex<()>,
    /// Every store: the built-in kinds from the start, discovered ones once used.
    stores: RwLock<Vec<Arc<Store>>>,
    /// Serialises the opening of discovered kinds (one CRD read each).
    opening: tokio::sync::Mutex<()>,
    status_changes: Arc<watch::Sender<u64>>,
    tasks: Mutex<JoinSet<()>>,
    started: Mutex<HashSet<Builtin>>,
    shutdown: watch::Receiver<bool>,
    /// How built-in kinds travel (custom resources: always JSON).
    wire: Wire,
    /// What stops the informer of each discovered kind (by qualified name),
    /// so one can be retired without stopping the cluster.
    dynamic_stops: Mutex<std::collections::HashMap<String, Arc<watch::Sender<bool>>>>,
    /// CPU and memory use from metrics.k8s.io, read on demand.
    pub metrics: crate::metrics::Metrics,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Cluster {
    /// A cluster with every built-in kind PENDING. Nothing starts until `start`.
    pub fn new(
        context: ContextInfo,
        client: Client,
        shutdown: watch::Receiver<bool>,
        tiers: &std::collections::BTreeMap<Builtin, u32>,
        wire: Wire,
    ) -> Arc<Cluster> {
        let status_changes = Arc::new(watch::channel(0).0);
        let stores = Builtin::ALL
            .into_iter()
            .map(|builtin| {
                let limit = builtin.descriptor().row_limit;
                let kind = match tiers.get(&builtin) {
                    Some(tier) => builtin.kind().with_tier(*tier),
                    None => builtin.kind(),
                };
                Arc::new(Store::with_limit(kind, limit, status_changes.clone()))
            })
            .collect();
        Arc::new(Cluster {
            context,
            metrics: crate::metrics::Metrics::new(client.clone()),
            client,
            catalog: RwLock::new(Arc::new(Catalog::builtin())),
            discovery: Mutex::new(DiscoveryState::default()),
            discovering: tokio::sync::Mutex::new(()),
            stores: RwLock::new(stores),
            opening: tokio::sync::Mutex::new(()),
            status_changes,
            tasks: Mutex::new(JoinSet::new()),
            started: Mutex::new(HashSet::new()),
            shutdown,
            wire,
            dynamic_stops: Mutex::default(),
        })
    }

    /// The kinds known now.
    /// The cluster's API client, for the few reads that are not a cache's
    /// (a describe's EndpointSlices and quotas, metrics).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The catalog of kinds, as the last discovery found it.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How the last discovery went.
    pub fn discovery_state(&self) -> DiscoveryState {
        lock(&self.discovery).clone()
    }

    /// Run discovery now and replace the catalog with what it found. On
    /// failure the catalog stays as it was.
    pub async fn refresh_discovery(&self) {
        self.discover_after(Instant::now()).await;
    }

    /// Run discovery unless a run started after `asked` (it answers for us).
    async fn discover_after(&self, asked: Instant) {
        let _running = self.discovering.lock().await;
        if lock(&self.discovery).ran.is_some_and(|ran| ran > asked) {
            return;
        }
        let started = Instant::now();
        let result = discovery::discover(&self.client).await;
        let mut state = lock(&self.discovery);
        state.ran = Some(started);
        match result {
            Ok(found) => {
                let catalog = Catalog::with_discovered(found.kinds);
                tracing::debug!(
                    kinds = catalog.kinds().len(),
                    method = found.method,
                    "discovery"
                );
                *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(catalog);
                state.method = found.method;
                state.error = None;
            }
            Err(error) => {
                tracing::warn!(%error, "discovery failed; keeping the kinds known so far");
                state.error = Some(error);
            }
        }
    }

    /// Resolve a kind name. A name not known yet is checked against a
    /// discovery that started after the request (run at most every
    /// `DISCOVERY_RETRY`) before it is refused, so a CRD installed a moment
    /// ago resolves.
    pub async fn resolve(&self, name: &str) -> Result<Kind, ResolveError> {
        let asked = Instant::now();
        match self.catalog().resolve(name) {
            Err(ResolveError::Unknown(_)) => {
                let last = lock(&self.discovery).ran;
                if let Some(wait) = last.and_then(|ran| DISCOVERY_RETRY.checked_sub(ran.elapsed()))
                {
                    tokio::time::sleep(wait).await;
                }
                self.discover_after(asked).await;
                self.catalog().resolve(name)
            }
            other => other,
        }
    }

    /// The store of a kind, if it has one (built-in kinds always do;
    /// discovered kinds once opened).
    pub fn store(&self, kind: &Kind) -> Option<Arc<Store>> {
        self.stores
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|store| store.kind() == kind)
            .cloned()
    }

    /// Every store: built-in kinds in tier order, then discovered kinds in
    /// the order they were first used.
    pub fn stores(&self) -> Vec<Arc<Store>> {
        self.stores
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Turns true when this cluster's caches stop (daemon exit, eviction, reload).
    pub fn stopped(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// A receiver bumped whenever any kind's state changes.
    pub fn subscribe_status(&self) -> watch::Receiver<u64> {
        self.status_changes.subscribe()
    }

    /// Start tier 1 now, tiers 2 and 3 once it has synced or failed, and
    /// discovery in the background.
    pub fn start(self: &Arc<Self>) {
        for store in self.stores() {
            if let Some(builtin) = store.kind().builtin()
                && store.kind().spec().tier == 1
            {
                self.ensure_started(builtin);
            }
        }
        let cluster = self.clone();
        let mut changes = self.stores()[0].subscribe();
        let mut shutdown = self.shutdown.clone();
        self.spawn("tiers", async move {
            loop {
                let state = cluster.stores()[0].status().state;
                if matches!(
                    state,
                    SyncState::Synced | SyncState::Error | SyncState::Stale
                ) {
                    break;
                }
                tokio::select! {
                    _ = shutdown.changed() => return,
                    changed = changes.changed() => if changed.is_err() { return },
                }
            }
            for store in cluster.stores() {
                if let Some(builtin) = store.kind().builtin()
                    && matches!(store.kind().spec().tier, 2 | 3)
                {
                    cluster.ensure_started(builtin);
                }
            }
        });
        let cluster = self.clone();
        let mut shutdown = self.shutdown.clone();
        self.spawn("discovery", async move {
            loop {
                cluster.refresh_discovery().await;
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tokio::time::sleep(DISCOVERY_INTERVAL) => {}
                }
            }
        });
    }

    fn spawn(&self, name: &str, task: impl Future<Output = ()> + Send + 'static) {
        let span = tracing::info_span!("task", name, context = %self.context.name);
        lock(&self.tasks).spawn(tracing::Instrument::instrument(task, span));
    }

    /// The store of a kind with its informer running: built-in kinds start
    /// on first use; a discovered kind gets its store now, with the printer
    /// columns of its CRD.
    pub async fn open(&self, kind: &Kind) -> Arc<Store> {
        if let Some(builtin) = kind.builtin() {
            self.ensure_started(builtin);
            return self.stores()[builtin.index()].clone();
        }
        // Kinds compare by group and plural; the version decides too here.
        let current = |store: &Arc<Store>| store.kind().spec().version == kind.spec().version;
        if let Some(store) = self.store(kind).filter(current) {
            return store;
        }
        let _opening = self.opening.lock().await;
        match self.store(kind) {
            Some(store) if current(&store) => return store,
            // The kind is served at another version now (a CRD upgrade that
            // dropped the old one): the old store and its informer go.
            Some(old) => self.retire(&old),
            None => {}
        }
        // A CRD's printer columns, evaluated here, as long as they match
        // kubectl; any other kind (and a CRD without them) as the server's
        // Table, whose columns are kubectl's by construction.
        let found = kind.discovered();
        let printer = discovery::printer_columns(&self.client, &found).await;
        let table = if printer.is_empty() {
            discovery::table_columns(&self.client, &found).await
        } else {
            None
        };
        let kind = match table {
            Some(columns) => Kind::table(found, columns),
            None => Kind::dynamic(found, printer),
        };
        let store = Arc::new(Store::new(kind.clone(), self.status_changes.clone()));
        self.stores
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(store.clone());
        let spec = kind.spec();
        let resource = spec.api_resource();
        let name = format!("informer-{}", spec.qualified());
        let stopped = self.dynamic_stop(spec.qualified());
        tracing::info!(kind = %spec.qualified(), columns = spec.columns.len(), "starting informer");
        match spec.source.clone() {
            Source::Dynamic(columns) => {
                let api = Api::<Lean<DynamicObject>>::all_with(self.client.clone(), &resource);
                let project =
                    move |object: &Lean<DynamicObject>| project::dynamic(&columns, &object.object);
                let task = informer::run(
                    self.scope(api, spec.namespaced),
                    store.clone(),
                    project,
                    informer::Annotations::All,
                    Wire {
                        encoding: Encoding::Json,
                        ..self.wire
                    },
                    stopped.clone(),
                );
                self.spawn(&name, task);
            }
            Source::Table(names) => {
                let api = Api::<TableRow>::all_with(self.client.clone(), &resource);
                let project = move |row: &TableRow| project::table_row(&names, row);
                let task = informer::run(
                    self.scope(api, spec.namespaced),
                    store.clone(),
                    project,
                    informer::Annotations::All,
                    Wire {
                        encoding: Encoding::Table,
                        ..self.wire
                    },
                    stopped.clone(),
                );
                self.spawn(&name, task);
            }
            Source::Builtin(_) => unreachable!("built-in kinds start in ensure_started"),
        }
        store
    }

    /// The stop signal of a discovered kind's informer: set by `retire`, or
    /// when the cluster shuts down.
    fn dynamic_stop(&self, qualified: String) -> watch::Receiver<bool> {
        let (stop, stopped) = watch::channel(false);
        let stop = Arc::new(stop);
        let forward = stop.clone();
        let mut down = self.shutdown.clone();
        self.spawn("stop-forwarder", async move {
            tokio::select! {
                _ = down.changed() => { let _ = forward.send(true); }
                // The informer ended (retired): nothing to forward.
                () = forward.closed() => {}
            }
        });
        lock(&self.dynamic_stops).insert(qualified, stop);
        stopped
    }

    /// Close the caches of discovered kinds nothing has used (no query, no
    /// open stream) for `idle`: a CRD looked at once is not watched forever.
    /// The next query opens it again.
    pub fn close_idle_kinds(&self, idle: Duration) {
        let idle_stores: Vec<Arc<Store>> = self
            .stores()
            .into_iter()
            .filter(|s| s.kind().builtin().is_none())
            .filter(|s| s.unused_for().is_some_and(|unused| unused > idle))
            .collect();
        for store in idle_stores {
            tracing::info!(kind = %store.kind().spec().qualified(), "closing an unused kind's cache");
            self.retire(&store);
        }
    }

    /// Stop a discovered kind's informer and forget its store.
    fn retire(&self, store: &Arc<Store>) {
        let spec = store.kind().spec();
        tracing::info!(kind = %spec.qualified(), version = %spec.version, "the kind is no longer served at this version; retiring its cache");
        self.stores
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| !Arc::ptr_eq(s, store));
        if let Some(stop) = lock(&self.dynamic_stops).remove(&spec.qualified()) {
            let _ = stop.send(true);
        }
    }

    /// Where a discovered kind is listed: the cluster, or per namespace
    /// when RBAC forbids that (namespaced kinds only).
    fn scope<K>(&self, api: Api<K>, namespaced: bool) -> Scope<K>
    where
        K: kube::Resource<DynamicType = ApiResource> + Clone + Send + 'static,
        K::Scope: kube::core::NamespaceScope,
    {
        if !namespaced {
            return Scope::cluster(api);
        }
        crate::descriptor::namespaced_scope(api, self.fallback_namespaces())
    }

    fn fallback_namespaces(&self) -> Arc<[String]> {
        Arc::from(self.context.fallback_namespaces.as_slice())
    }

    /// Start a built-in kind's informer if it is not running yet.
    pub fn ensure_started(&self, builtin: Builtin) {
        if !lock(&self.started).insert(builtin) {
            return;
        }
        let store = self.stores()[builtin.index()].clone();
        let kind = store.kind().clone();
        tracing::info!(%kind, tier = kind.spec().tier, "starting informer");
        // Objects are decoded without managedFields (`Lean`), which the
        // daemon neither shows nor keeps. Namespaced kinds fall back to a
        // watcher per namespace when RBAC forbids the cluster-wide list;
        // cluster-scoped kinds have no fallback (`crate::descriptor`).
        let task = builtin.descriptor().cache.start(Start {
            client: self.client.clone(),
            store,
            namespaces: self.fallback_namespaces(),
            wire: self.wire,
            shutdown: self.shutdown.clone(),
        });
        self.spawn(&format!("informer-{kind}"), task);
    }
}
