//! A cluster: one kube context with a store per kind and the informers that
//! fill them, started by tier. Tier 1 (pods) starts at once; tiers 2 and 3
//! start together, in the background, once tier 1 has synced (or failed).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, Service};
use kube::core::PartialObjectMeta;
use kube::{Api, Client};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::catalog::Kind;
use crate::informer;
use crate::project;
use crate::status::SyncState;
use crate::store::Store;

/// What the daemon knows about a context.
#[derive(Debug, Clone)]
pub struct ContextInfo {
    /// The context's name.
    pub name: String,
    /// The API server URL.
    pub server: String,
    /// The context's namespace, "default" when unset.
    pub namespace: String,
}

/// One context's caches.
pub struct Cluster {
    /// The context served.
    pub context: ContextInfo,
    client: Client,
    stores: BTreeMap<Kind, Arc<Store>>,
    status_changes: Arc<watch::Sender<u64>>,
    tasks: Mutex<JoinSet<()>>,
    started: Mutex<Vec<Kind>>,
    shutdown: watch::Receiver<bool>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// A cluster with every kind PENDING. Nothing starts until `start`.
    pub fn new(
        context: ContextInfo,
        client: Client,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<Cluster> {
        let status_changes = Arc::new(watch::channel(0).0);
        let stores = Kind::ALL
            .into_iter()
            .map(|kind| (kind, Arc::new(Store::new(kind, status_changes.clone()))))
            .collect();
        Arc::new(Cluster {
            context,
            client,
            stores,
            status_changes,
            tasks: Mutex::new(JoinSet::new()),
            started: Mutex::new(Vec::new()),
            shutdown,
        })
    }

    /// The store of a kind.
    pub fn store(&self, kind: Kind) -> &Arc<Store> {
        // Every kind has a store from `new`; the map is never modified.
        &self.stores[&kind]
    }

    /// Every store, in tier order.
    pub fn stores(&self) -> impl Iterator<Item = &Arc<Store>> {
        Kind::ALL.iter().map(|kind| self.store(*kind))
    }

    /// A receiver bumped whenever any kind's state changes.
    pub fn subscribe_status(&self) -> watch::Receiver<u64> {
        self.status_changes.subscribe()
    }

    /// Start tier 1 now, and tiers 2 and 3 once it has synced or failed.
    pub fn start(self: &Arc<Self>) {
        self.ensure_started(Kind::Pods);
        let cluster = self.clone();
        let mut changes = self.store(Kind::Pods).subscribe();
        let mut shutdown = self.shutdown.clone();
        self.spawn("tiers", async move {
            loop {
                let state = cluster.store(Kind::Pods).status().state;
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
            for kind in Kind::ALL.into_iter().filter(|k| k.spec().tier > 1) {
                cluster.ensure_started(kind);
            }
        });
    }

    fn spawn(&self, name: &str, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        let span = tracing::info_span!("task", name, context = %self.context.name);
        tasks.spawn(tracing::Instrument::instrument(task, span));
    }

    /// Start a kind's informer if it is not running yet (first use of a kind).
    pub fn ensure_started(&self, kind: Kind) {
        {
            let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
            if started.contains(&kind) {
                return;
            }
            started.push(kind);
        }
        let store = self.store(kind).clone();
        let client = self.client.clone();
        let shutdown = self.shutdown.clone();
        tracing::info!(%kind, tier = kind.spec().tier, "starting informer");
        macro_rules! informer {
            ($type:ty, $project:expr) => {
                informer::run(Api::<$type>::all(client), store, $project, &[], shutdown)
            };
            ($type:ty, $project:expr, $drop:expr) => {
                informer::run(Api::<$type>::all(client), store, $project, $drop, shutdown)
            };
        }
        let name = format!("informer-{kind}");
        match kind {
            Kind::Pods => self.spawn(&name, informer!(Pod, project::pod)),
            Kind::Deployments => self.spawn(&name, informer!(Deployment, project::deployment)),
            Kind::Services => self.spawn(&name, informer!(Service, project::service)),
            Kind::Namespaces => self.spawn(&name, informer!(Namespace, project::namespace)),
            Kind::StatefulSets => self.spawn(&name, informer!(StatefulSet, project::statefulset)),
            Kind::DaemonSets => self.spawn(&name, informer!(DaemonSet, project::daemonset)),
            Kind::ReplicaSets => self.spawn(&name, informer!(ReplicaSet, project::replicaset)),
            Kind::Jobs => self.spawn(&name, informer!(Job, project::job)),
            Kind::CronJobs => self.spawn(&name, informer!(CronJob, project::cronjob)),
            Kind::ConfigMaps => self.spawn(&name, informer!(ConfigMap, project::configmap)),
            // Metadata only (`as=PartialObjectMetadataList`): secret values never reach the daemon.
            Kind::Secrets => self.spawn(
                &name,
                informer!(
                    PartialObjectMeta<Secret>,
                    project::secret_metadata,
                    informer::SECRET_ANNOTATIONS
                ),
            ),
        }
    }
}
