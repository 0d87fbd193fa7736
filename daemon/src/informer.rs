//! One informer per kind: kube-runtime's `watcher` (paging, resume, relist on
//! an in-stream 410) feeding a `Store`, each object projected into a row the
//! moment it arrives. No reflector: decoded objects are dropped after
//! projection.
//!
//! On any error the watcher is recreated after a capped, jittered backoff,
//! which relists. The backoff starts over only once a watch has stayed
//! healthy for a while (client-go's reflector: two minutes), not when a list
//! succeeds: a watch that fails right after every list (RBAC that allows
//! list but not watch, a proxy that kills watches) would otherwise relist
//! the whole kind every second, forever. A watch the API server forbids
//! (403 after a good list) is not retried like a fault: the listed rows are
//! served, the kind says why it is STALE, and it is listed again every
//! [`WATCH_FORBIDDEN_RELIST`]. That covers the case kube's watcher does not: an API
//! server answering the watch request itself with HTTP 410 (kube would retry
//! the same resourceVersion forever). A relist also proves the cache is whole
//! again, so the kind leaves STALE only when it really is synced.
//!
//! When RBAC forbids the cluster-wide list of a namespaced kind, the
//! informer falls back to one watcher per namespace of the scope (the
//! context's namespace and the daemon's `--namespace` ones), merged into the
//! same store, and the kind's status names those namespaces.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::codec::{Kept, ObjectCodec};
use crate::row::RowParts;
use crate::store::Store;
use crate::wire::{self, Encoding, Wire};

/// Which annotations of an object are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annotations {
    /// Every one.
    All,
    /// Only these; the others are dropped.
    Only(&'static [&'static str]),
}

impl Annotations {
    /// Whether the annotation `key` is kept.
    pub fn keeps(self, key: &str) -> bool {
        match self {
            Annotations::All => true,
            Annotations::Only(keys) => keys.contains(&key),
        }
    }
}

/// The annotations a secret keeps: an allowlist of ones that say what the
/// secret is, never what it holds. Any other may carry its values:
/// `kubectl.kubernetes.io/last-applied-configuration` holds them in plain
/// text for secrets applied with `stringData`, and tools such as kapp copy
/// whole manifests into annotations of their own.
pub const SECRET_ANNOTATIONS: Annotations = Annotations::Only(&[
    "kubernetes.io/service-account.name",
    "kubernetes.io/service-account.uid",
    "kubernetes.io/description",
    "meta.helm.sh/release-name",
    "meta.helm.sh/release-namespace",
    "cert-manager.io/certificate-name",
    "cert-manager.io/issuer-name",
    "cert-manager.io/issuer-kind",
    "cert-manager.io/issuer-group",
    "cert-manager.io/common-name",
    "cert-manager.io/alt-names",
    "cert-manager.io/ip-sans",
    "cert-manager.io/uri-sans",
]);

/// Project an object and keep its encoded form for `Get`, compressed by
/// `codec`: the protobuf it came in (without managedFields), or JSON
/// without managedFields and with only the `annotations` kept. Kinds that
/// keep only some (secrets) are kept as JSON from the decoded object,
/// whichever encoding it came in: their objects are metadata, which
/// protobuf decoding never prunes (`project::UNREAD`).
pub fn row_parts<K: Resource + Serialize + wire::FromProtobuf>(
    project: &impl Fn(&K) -> RowParts,
    mut object: K,
    annotations: Annotations,
    codec: &ObjectCodec,
) -> RowParts {
    let mut parts = project(&object);
    if let Some(protobuf) = object.take_protobuf()
        && annotations == Annotations::All
    {
        parts.object = codec.compress(Kept::Protobuf(&protobuf));
        return parts;
    }
    object.meta_mut().managed_fields = None;
    object
        .annotations_mut()
        .retain(|key, _| annotations.keeps(key));
    if object
        .meta()
        .annotations
        .as_ref()
        .is_some_and(|a| a.is_empty())
    {
        // The server's JSON leaves an empty map out (`omitempty`).
        object.meta_mut().annotations = None;
    }
    parts.object = codec.compress(Kept::Json(&serde_json::to_vec(&object).unwrap_or_default()));
    parts
}

/// How long a watch must stay up before the backoff starts over.
const HEALTHY_AFTER: Duration = Duration::from_secs(120);

/// How often a kind whose watch RBAC forbids is listed again.
pub const WATCH_FORBIDDEN_RELIST: Duration = Duration::from_secs(300);

/// Capped exponential backoff with jitter: 800 ms doubling to 2 minutes.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(800);
    const MAX: Duration = Duration::from_secs(120);

    fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        // Up to 25% jitter so informers of many kinds do not retry in lockstep.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }
}

/// What an informer error means for the kind.
struct Failure {
    message: String,
    /// The API server refused (401/403/404): the kind is ERROR, not STALE.
    refused: bool,
    /// 403 Forbidden: RBAC does not allow it.
    forbidden: bool,
    /// The server does not serve the kind in protobuf (why).
    protobuf_refused: Option<String>,
    /// It failed watching, after the list (not listing).
    watching: bool,
    /// The namespace whose watcher failed (per-namespace mode).
    namespace: Option<Arc<str>>,
}

impl Failure {
    fn transient(message: String) -> Failure {
        Failure {
            message,
            refused: false,
            forbidden: false,
            protobuf_refused: None,
            watching: false,
            namespace: None,
        }
    }

    fn refused_protobuf(reason: String) -> Failure {
        Failure {
            protobuf_refused: Some(reason.clone()),
            ..Failure::transient(reason)
        }
    }
}

/// Makes the `Api` of a kind in one namespace.
pub type InNamespace<K> = Box<dyn Fn(&str) -> Api<K> + Send>;

/// Where an informer lists and watches a kind.
pub struct Scope<K> {
    /// Every namespace at once (or the cluster, for cluster-scoped kinds).
    pub all: Api<K>,
    /// The kind in one namespace: for namespaced kinds, the fallback when
    /// RBAC forbids the cluster-wide list.
    pub in_namespace: Option<InNamespace<K>>,
    /// The namespaces of that fallback.
    pub namespaces: Arc<[String]>,
}

impl<K> Scope<K> {
    /// A scope without a namespaced fallback.
    pub fn cluster(all: Api<K>) -> Scope<K> {
        Scope {
            all,
            in_namespace: None,
            namespaces: Arc::from([]),
        }
    }
}

/// Whether the API server said 410 Gone (a resourceVersion it no longer
/// has), in a watch's ERROR event or as the answer to the request.
fn gone(error: &watcher::Error) -> bool {
    match error {
        watcher::Error::WatchError(status) => status.code == 410,
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status)) => status.code == 410,
        _ => false,
    }
}

fn classify(error: &watcher::Error) -> Failure {
    let watching = matches!(
        error,
        watcher::Error::WatchStartFailed(_)
            | watcher::Error::WatchFailed(_)
            | watcher::Error::WatchError(_)
    );
    Failure {
        watching,
        ..classify_cause(error)
    }
}

fn classify_cause(error: &watcher::Error) -> Failure {
    let client_error = match error {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => e,
        watcher::Error::WatchError(status) => {
            return Failure::transient(format!(
                "watch error from the API server: {}",
                status.message
            ));
        }
        watcher::Error::NoResourceVersion => return Failure::transient(error.to_string()),
    };
    match client_error {
        kube::Error::Api(status) if status.code == 401 => Failure {
            message: format!(
                "{} (401): the API server did not accept this context's credentials; the token or client certificate may have expired or be wrong",
                status.message
            ),
            refused: true,
            ..Failure::transient(String::new())
        },
        kube::Error::Api(status) => Failure {
            message: status.message.clone(),
            refused: matches!(status.code, 401 | 403 | 404),
            forbidden: status.code == 403,
            ..Failure::transient(String::new())
        },
        other => {
            let mut message = crate::errors::error_chain(other);
            let certificate = crate::errors::find_in_chain::<tokio_rustls::rustls::Error>(other)
                .is_some_and(|e| matches!(e, tokio_rustls::rustls::Error::InvalidCertificate(_)));
            if certificate {
                message.push_str(
                    " (the API server's certificate does not verify against the context's certificate authority)",
                );
            }
            Failure::transient(message)
        }
    }
}

/// What an informer can list and watch: a Kubernetes object that decodes
/// from JSON and protobuf.
pub trait Watched:
    Resource + Clone + DeserializeOwned + wire::FromProtobuf + Serialize + Debug + Send + 'static
{
}

impl<K> Watched for K where
    K: Resource
        + Clone
        + DeserializeOwned
        + wire::FromProtobuf
        + Serialize
        + Debug
        + Send
        + 'static
{
}

/// Run `task`, the informer of `store`'s kind; if it panics (a bug), the
/// kind turns ERROR saying so, instead of staying SYNCED with rows that are
/// no longer updated.
pub async fn supervised(store: Arc<Store>, task: impl std::future::Future<Output = ()>) {
    use futures::FutureExt;
    if let Err(panic) = std::panic::AssertUnwindSafe(task).catch_unwind().await {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        tracing::error!(kind = %store.kind(), panic = %what, "the informer stopped");
        store.fail(
            format!(
                "internal error: this kind's informer stopped ({what}); its rows are no longer updated: restart timoneirod, and please report it"
            ),
            true,
        );
    }
}

/// Run an informer until `shutdown` turns true (supervised: a panic turns
/// the kind ERROR).
pub async fn run<K, P>(
    scope: Scope<K>,
    store: Arc<Store>,
    project: P,
    annotations: Annotations,
    wire: Wire,
    shutdown: watch::Receiver<bool>,
) where
    K: Watched,
    P: Fn(&K) -> RowParts + Send + 'static,
{
    supervised(
        store.clone(),
        watch_kind(scope, store, project, annotations, wire, shutdown),
    )
    .await;
}

/// Events of one list+watch stream, in order, as they came together (a
/// list page's in one batch), with the namespace whose watcher sent them
/// (None: cluster-wide).
type Tagged<K> = (Option<Arc<str>>, wire::Batch<K>);

/// What an informer keeps across its streams.
struct Informer<K: Watched, P> {
    scope: Scope<K>,
    store: Arc<Store>,
    project: P,
    annotations: Annotations,
    encoding: Encoding,
    watch_timeout: u32,
    backoff: Backoff,
    /// Listing namespace by namespace (the cluster-wide list is forbidden).
    namespaced: bool,
    /// Namespaces of the scope where listing is forbidden: skipped.
    skipped: Vec<String>,
    /// Why the next list is a relist (None before the first list).
    relist_reason: Option<String>,
    listed_before: bool,
    /// Where the protobuf source puts its list's resourceVersion.
    listed: wire::Listed,
    /// A snapshot's resourceVersion: cluster-wide protobuf streams resume
    /// from it instead of listing until one has resumed (InitDone) or the
    /// server says it is gone (410).
    resume: Option<Box<str>>,
    /// Whether the objects kept before the kind's dictionary was trained
    /// are being compressed again, or were ([`Informer::listed`]).
    recompressing: bool,
}

/// How one stream went, while it ran and when it ended.
#[derive(Default)]
struct Run {
    /// The namespaces it lists (per-namespace mode).
    active: Vec<String>,
    /// Namespaces listed so far (per-namespace mode).
    listed: HashSet<Arc<str>>,
    /// When its list finished and its watch began.
    watching_since: Option<Instant>,
    /// Lists begun: the first is the one `relist_reason` is about; a later
    /// one is the watcher relisting by itself (kube's JSON watcher does on
    /// an in-stream 410 Gone).
    lists: u32,
}

/// What to do once a stream failed.
enum Next {
    /// Open the next stream now.
    Now,
    /// After this long.
    After(Duration),
}

async fn watch_kind<K, P>(
    scope: Scope<K>,
    store: Arc<Store>,
    project: P,
    annotations: Annotations,
    wire: Wire,
    mut shutdown: watch::Receiver<bool>,
) where
    K: Watched,
    P: Fn(&K) -> RowParts + Send + 'static,
{
    store.start();
    store.set_encoding(wire.encoding.to_string());
    store.codec().set_protobuf_json(K::protobuf_json);
    let mut informer = Informer {
        scope,
        store,
        project,
        annotations,
        encoding: wire.encoding,
        watch_timeout: wire.watch_timeout_seconds(),
        backoff: Backoff::new(),
        namespaced: false,
        skipped: Vec::new(),
        relist_reason: None,
        listed_before: false,
        listed: wire::Listed::default(),
        resume: None,
        recompressing: false,
    };
    informer.resume = informer.store.take_resume();
    loop {
        let mut run = Run::default();
        let mut stream = informer.open(&mut run);
        let failure = loop {
            let (ns, batch) = tokio::select! {
                _ = shutdown.changed() => return,
                batch = stream.next() => match batch {
                    Some(batch) => batch,
                    None => break Failure::transient("watch stream ended".into()),
                },
            };
            if let Some(failure) = informer.apply_batch(&mut run, ns, batch) {
                break failure;
            }
        };
        drop(stream);
        if let Next::After(delay) = informer.recover(&run, failure) {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }
}

impl<K: Watched, P: Fn(&K) -> RowParts> Informer<K, P> {
    /// One list+watch of the kind where `api` points, in the current
    /// encoding; in protobuf, a watch from `resume` instead when given.
    fn source(
        &self,
        api: Api<K>,
        resume: Option<Box<str>>,
    ) -> futures::stream::BoxStream<'static, wire::Batch<K>> {
        let kind = self.store.kind().spec();
        match self.encoding {
            Encoding::Protobuf => wire::watcher(
                api.resource_url().to_string(),
                api.into_client(),
                K::metadata_api(),
                self.watch_timeout,
                match resume {
                    Some(version) => wire::Start::Resume(version.into()),
                    None => wire::Start::List(self.listed.clone()),
                },
            ),
            Encoding::Json => {
                let config = watcher::Config::default().timeout(self.watch_timeout);
                watcher::watcher(api, config)
                    .map(|event| wire::Batch::Events(vec![event]))
                    .boxed()
            }
            Encoding::Table => crate::table::watcher(
                api.resource_url().to_string(),
                api.into_client(),
                kind.api_version(),
                kind.kind.clone(),
                self.watch_timeout,
            )
            .map(|event| wire::Batch::Events(vec![event]))
            .boxed(),
        }
    }

    /// The kind is listed (every namespace of its scope, if listed by
    /// namespace): training starts now if it waits for objects the kind
    /// does not have ([`ObjectCodec::listed`]). The first time, a blocking
    /// thread waits for the dictionary, then compresses again with it the
    /// objects kept before ([`Store::recompress_kept`]); objects kept later
    /// use it.
    fn listed(recompressing: &mut bool, store: &Arc<Store>) {
        store.codec().listed();
        if std::mem::replace(recompressing, true) {
            return;
        }
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            if !store.codec().wait_trained() {
                return;
            }
            let started = Instant::now();
            let objects = store.recompress_kept();
            if objects > 0 {
                tracing::info!(kind = %store.kind(), objects, millis = started.elapsed().as_millis(), "kept objects compressed again with the trained dictionary");
            }
        });
    }

    /// The row an object makes: projected, its object kept compressed.
    fn parts(&self, object: K) -> RowParts {
        row_parts(&self.project, object, self.annotations, self.store.codec())
    }

    /// Apply a batch's events in order; the failure that ends the stream,
    /// if one is. A list page's objects go to the store together: one
    /// lock and one wake-up of the store's watchers a page, not an object.
    fn apply_batch(
        &mut self,
        run: &mut Run,
        ns: Option<Arc<str>>,
        batch: wire::Batch<K>,
    ) -> Option<Failure> {
        let events = match batch {
            wire::Batch::Events(events) => events,
            wire::Batch::Bookmark(version) => {
                self.record(ns.is_none(), Some(version));
                return None;
            }
        };
        let mut listed = Vec::new();
        for event in events {
            match event {
                Ok(Event::InitApply(object)) => listed.push(self.parts(object)),
                event => {
                    self.relist_apply(ns.as_deref(), std::mem::take(&mut listed));
                    if let Some(failure) = self.apply(run, ns.clone(), event) {
                        return Some(failure);
                    }
                }
            }
        }
        self.relist_apply(ns.as_deref(), listed);
        None
    }

    /// Objects of a list, cluster-wide or of one namespace's.
    fn relist_apply(&self, ns: Option<&str>, listed: Vec<RowParts>) {
        if listed.is_empty() {
            return;
        }
        match ns {
            None => self.store.relist_apply(listed),
            Some(ns) => self.store.relist_apply_in(ns, listed),
        }
    }

    /// The next stream: cluster-wide, or one watcher per namespace not skipped.
    fn open(&self, run: &mut Run) -> futures::stream::BoxStream<'static, Tagged<K>> {
        let resume = self.resume.clone();
        run.active = self
            .scope
            .namespaces
            .iter()
            .filter(|ns| !self.skipped.contains(ns))
            .cloned()
            .collect();
        match (&self.scope.in_namespace, self.namespaced) {
            (Some(in_namespace), true) => {
                futures::stream::select_all(run.active.iter().map(|ns| {
                    let ns: Arc<str> = Arc::from(ns.as_str());
                    self.source(in_namespace(&ns), None)
                        .map(move |event| (Some(ns.clone()), event))
                        .boxed()
                }))
                .boxed()
            }
            _ => self
                .source(self.scope.all.clone(), resume)
                .map(|event| (None, event))
                .boxed(),
        }
    }

    /// Apply one event to the store; the failure that ends the stream, if it is one.
    fn apply(
        &mut self,
        run: &mut Run,
        ns: Option<Arc<str>>,
        event: Result<Event<K>, watcher::Error>,
    ) -> Option<Failure> {
        let store = &self.store;
        let kind = store.kind();
        if let Ok(Event::Init) = &event {
            run.lists += 1;
            match (run.lists, self.relist_reason.take()) {
                (1, Some(reason)) => store.record_relist(&reason),
                (1, None) => {}
                // Per-namespace watchers each list once per stream.
                _ if ns.is_some() => {}
                _ => store.record_relist("the watch's resourceVersion expired (410 Gone)"),
            }
        }
        match (event, ns) {
            (Ok(Event::Init), None) => store.begin_relist(),
            (Ok(Event::Init), Some(ns)) => store.begin_relist_in(&ns),
            (Ok(Event::InitApply(object)), ns) => {
                self.relist_apply(ns.as_deref(), vec![self.parts(object)]);
            }
            (Ok(Event::InitDone), None) => {
                self.resume = None;
                store.finish_relist();
                Self::listed(&mut self.recompressing, store);
                let listed = self.listed.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(version) = listed {
                    store.record_version(&version);
                }
                run.watching_since = Some(Instant::now());
                if run.lists == 0 {
                    tracing::info!(%kind, objects = store.status().objects, "synced: the watch resumed from the snapshot, no list");
                } else {
                    tracing::info!(%kind, objects = store.status().objects, "synced");
                }
            }
            (Ok(Event::InitDone), Some(ns)) => {
                run.listed.insert(ns.clone());
                let all_listed = run.listed.len() == run.active.len();
                store.finish_relist_in(&ns, all_listed);
                if all_listed {
                    run.watching_since = Some(Instant::now());
                    Self::listed(&mut self.recompressing, store);
                }
                tracing::info!(%kind, namespace = %ns, objects = store.status().objects, "synced a namespace");
            }
            (Ok(Event::Apply(object)), ns) => {
                let version = object.meta().resource_version.clone();
                store.apply(self.parts(object));
                self.record(ns.is_none(), version);
            }
            (Ok(Event::Delete(object)), ns) => {
                if let Some(uid) = object.meta().uid.as_deref() {
                    store.delete(uid);
                }
                self.record(ns.is_none(), object.meta().resource_version.clone());
            }
            (Err(error), ns) => {
                if gone(&error) {
                    // The snapshot's version is too old: list.
                    self.resume = None;
                }
                if self.encoding == Encoding::Protobuf
                    && let Some(reason) = wire::refused_protobuf(&error)
                {
                    return Some(Failure::refused_protobuf(reason));
                }
                return Some(Failure {
                    namespace: ns,
                    ..classify(&error)
                });
            }
        }
        None
    }

    /// The store's rows are at `version` now: kept for a snapshot's resumed
    /// watch, when the watch is the protobuf source's and cluster-wide
    /// (whose lists say their own version).
    fn record(&self, cluster_wide: bool, version: Option<String>) {
        if self.encoding == Encoding::Protobuf
            && cluster_wide
            && let Some(version) = version
        {
            self.store.record_version(&version);
        }
    }

    /// After a stream failed: change what the next one does (JSON instead
    /// of protobuf, per namespace, a namespace skipped), or say so and
    /// back off.
    fn recover(&mut self, run: &Run, failure: Failure) -> Next {
        let kind = self.store.kind().clone();
        self.listed_before |= run.lists > 0;
        if self.listed_before {
            self.relist_reason = Some(failure.message.clone());
        }
        if let Some(reason) = &failure.protobuf_refused {
            tracing::warn!(%kind, %reason, "the API server refused protobuf; using JSON");
            self.encoding = Encoding::Json;
            self.store
                .set_encoding(format!("json (the API server refused protobuf: {reason})"));
            return Next::Now;
        }
        if run
            .watching_since
            .is_some_and(|since| since.elapsed() >= HEALTHY_AFTER)
        {
            self.backoff.reset();
        }
        if failure.forbidden && failure.watching && run.watching_since.is_some() {
            // Listing is allowed, watching is not: keep the list, say so,
            // and list again now and then (no per-namespace fallback: the
            // list was not the problem).
            let listed_at = jiff::Zoned::now().strftime("%H:%M:%S").to_string();
            tracing::warn!(%kind, error = %failure.message, relist_in = ?WATCH_FORBIDDEN_RELIST, "watch forbidden; serving the list and listing again periodically");
            self.store.fail(
                format!(
                    "watch forbidden (403): {}; showing the list of {listed_at}, listed again every {}",
                    failure.message,
                    timoneiro_client::render::human_duration(
                        WATCH_FORBIDDEN_RELIST.as_millis() as i64
                    )
                ),
                false,
            );
            return Next::After(WATCH_FORBIDDEN_RELIST);
        }
        if failure.forbidden
            && !failure.watching
            && let Some(next) = self.narrow(run, &failure)
        {
            return next;
        }
        let delay = self.backoff.next_delay();
        tracing::warn!(%kind, error = %failure.message, retry_in = ?delay, "informer failed; relisting after backoff");
        self.store.fail(failure.message, failure.refused);
        Next::After(delay)
    }

    /// A list forbidden by RBAC: skip the one namespace it was forbidden in
    /// (a `--namespace` the user has no RoleBinding in) and serve the
    /// others, or go from the cluster-wide list to one per namespace.
    fn narrow(&mut self, run: &Run, failure: &Failure) -> Option<Next> {
        let kind = self.store.kind();
        if self.namespaced
            && let Some(ns) = &failure.namespace
        {
            self.skipped.push(ns.to_string());
            let rest: Vec<String> = run.active.iter().filter(|n| **n != **ns).cloned().collect();
            if !rest.is_empty() {
                tracing::warn!(%kind, namespace = %ns, error = %failure.message, "listing is forbidden in this namespace; skipping it");
                self.store.set_scope(rest, self.skipped.clone());
                return Some(Next::Now);
            }
        }
        if !self.namespaced
            && self.scope.in_namespace.is_some()
            && !self.scope.namespaces.is_empty()
        {
            tracing::info!(%kind, namespaces = ?self.scope.namespaces, error = %failure.message, "cluster-wide list forbidden; caching the kind per namespace");
            self.namespaced = true;
            self.store
                .set_scope(run.active.clone(), self.skipped.clone());
            return Some(Next::Now);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret as its Table row carries it (the recorded
    /// `watch-all-kinds/secrets-table.json.stream` shape, with a value in
    /// its last-applied annotation and a whole manifest in kapp's): kept as
    /// kubectl's object without data, managedFields and every annotation
    /// but the allowed one dropped.
    #[test]
    fn kept_secrets_lose_managed_fields_and_the_annotations_that_hold_values() {
        let line = serde_json::json!({"type": "ADDED", "object": {
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": "7"},
            "columnDefinitions": [{"name": "Name"}, {"name": "Type"}, {"name": "Data"}, {"name": "Age"}],
            "rows": [{"cells": ["db", "Opaque", 1, "0s"], "object": {
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"name": "db", "namespace": "shop", "uid": "u1",
                    "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"stringData\":{\"password\":\"hunter2\"}}",
                        "kapp.k14s.io/original": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}",
                        "kubernetes.io/service-account.name": "builder"},
                    "managedFields": [{"manager": "kubectl", "operation": "Update"}]}}}]
        }});
        let rows = crate::table::watch_rows(&line.to_string(), "v1", "Secret").expect("rows");
        let (_, row) = rows.into_iter().next().expect("a row");
        let codec = ObjectCodec::new();
        let parts = row_parts(&crate::project::secret, row, SECRET_ANNOTATIONS, &codec);
        assert_eq!(
            parts
                .cells
                .iter()
                .map(|c| c.text.to_string())
                .collect::<Vec<_>>()[..2],
            ["Opaque", "1"]
        );
        // A Table whose rows carry whole objects, not metadata, is refused.
        let whole = line.to_string().replace("PartialObjectMetadata", "Secret");
        let refused = crate::table::watch_rows(&whole, "v1", "Secret").expect_err("refused");
        assert!(refused.contains("sent Secret objects"), "{refused}");
        let row = crate::row::Row::new(parts, |ns| std::sync::Arc::from(ns));
        let json: serde_json::Value =
            serde_json::from_slice(&codec.decompress(&row.object).expect("decompresses"))
                .expect("JSON");
        assert_eq!(
            json,
            serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "db", "namespace": "shop", "uid": "u1",
                    "annotations": {"kubernetes.io/service-account.name": "builder"}}})
        );
    }

    #[tokio::test]
    async fn a_panicking_informer_turns_its_kind_error() {
        let store = Arc::new(Store::new(
            crate::catalog::Builtin::PODS.kind(),
            Arc::new(watch::channel(0).0),
        ));
        store.start();
        supervised(store.clone(), async { panic!("decoder bug") }).await;
        let status = store.status();
        assert_eq!(status.state, crate::status::SyncState::Error);
        assert!(
            status.message.contains("informer stopped (decoder bug)"),
            "{}",
            status.message
        );
    }

    #[test]
    fn backoff_grows_to_a_cap() {
        let mut backoff = Backoff::new();
        let first = backoff.next_delay();
        assert!(
            first >= Duration::from_millis(800) && first <= Duration::from_millis(1000),
            "{first:?}"
        );
        let mut last = first;
        for _ in 0..12 {
            last = backoff.next_delay();
        }
        assert!(
            last >= Duration::from_secs(120) && last <= Duration::from_secs(150),
            "{last:?}"
        );
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(1000));
    }
}
