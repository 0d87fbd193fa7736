//! The gRPC service: validates requests, turns them into queries on the
//! right cluster and kind, and converts results to the wire types. Handlers
//! stay thin; the work happens in `query` on a blocking thread.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use futures::Stream;
use timoneiro_proto::v1::{self, timoneiro_server::Timoneiro};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::catalog::Kind;
use crate::cluster::Cluster;
use crate::contexts::{Contexts, Lease};
use crate::query::{self, Query};
use crate::row::Row;
use crate::status::SyncState;

/// Largest `limit` a List accepts; larger asks are refused, not truncated.
pub const MAX_LIMIT: u32 = 1_000_000;
/// How long a Describe waits for its kind's first load.
pub const DESCRIBE_WAIT: Duration = Duration::from_secs(10);
/// The most names one request may ask for (`get pods a b c …`).
pub const MAX_NAMES: usize = 1000;

/// The service state: the clusters the daemon serves.
#[derive(Debug, Clone)]
pub struct Service {
    contexts: Arc<Contexts>,
    started: Instant,
    shutdown: watch::Receiver<bool>,
    readonly: Arc<crate::actions::ReadOnly>,
    window_first_rows: usize,
}

impl Service {
    /// A service for the kubeconfig's contexts.
    pub fn new(contexts: Arc<Contexts>, shutdown: watch::Receiver<bool>) -> Service {
        Service {
            contexts,
            started: Instant::now(),
            shutdown,
            readonly: Arc::default(),
            window_first_rows: query::WINDOW_FIRST_ROWS,
        }
    }

    /// The same service, answering `window_first` streams over caches of
    /// at least `rows` rows with their windows before their counts.
    pub fn with_window_first_rows(mut self, rows: usize) -> Service {
        self.window_first_rows = rows;
        self
    }

    /// The same service, refusing actions on the contexts `readonly` covers.
    pub fn with_readonly(mut self, readonly: crate::actions::ReadOnly) -> Service {
        self.readonly = Arc::new(readonly);
        self
    }

    /// The cluster an action goes to, once it is known the caller may act
    /// and the context is not read-only.
    async fn acting<T>(
        &self,
        request: &Request<T>,
        context: &str,
        verb: &str,
    ) -> Result<Lease, Status> {
        owner_only(request)?;
        let cluster = self.cluster(context).await?;
        self.readonly.check(&cluster.context.name, verb)?;
        Ok(cluster)
    }

    /// Resolve a kind for an action, with the namespace it acts in.
    async fn action_kind(
        cluster: &Cluster,
        kind: &str,
        namespace: &str,
    ) -> Result<(crate::catalog::KindSpec, String), Status> {
        let kind = cluster
            .resolve(kind)
            .await
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let spec = kind.spec().clone();
        let namespace = match (spec.namespaced, namespace) {
            (false, _) => String::new(),
            (true, "") => cluster.context.namespace.clone(),
            (true, ns) => ns.to_string(),
        };
        Ok((spec, namespace))
    }

    /// Run one action on one object: audited, answered as kubectl prints it.
    async fn act(
        &self,
        cluster: &Cluster,
        verb: &str,
        spec: &crate::catalog::KindSpec,
        namespace: &str,
        name: &str,
        action: impl std::future::Future<Output = Result<String, Status>>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        let result = action.await;
        crate::actions::Audit {
            context: &cluster.context.name,
            verb,
            kind: &spec.plural,
            namespace,
            name,
        }
        .record(&result);
        Ok(Response::new(v1::ActionResponse {
            results: vec![result?],
            errors: Vec::new(),
        }))
    }

    /// The cluster of a context ("" = the default), started on first use.
    async fn cluster(&self, context: &str) -> Result<Lease, Status> {
        self.contexts.get(context).await
    }

    /// Validate a list request and start its kind if needed.
    async fn prepare(&self, request: v1::ListRequest) -> Result<Prepared, Status> {
        // Everything that can be checked without the kind's store is,
        // before any context, discovery or informer starts.
        if request.limit > MAX_LIMIT {
            return Err(Status::invalid_argument(format!(
                "limit {} is larger than the daemon accepts ({MAX_LIMIT}); use 0 for all rows",
                request.limit
            )));
        }
        if request.names.len() > MAX_NAMES {
            return Err(Status::invalid_argument(format!(
                "{} names asked for; at most {MAX_NAMES} at once (use a label selector or a filter for more)",
                request.names.len()
            )));
        }
        if request.kind.len() > crate::catalog::MAX_NAME {
            return Err(Status::invalid_argument(
                crate::catalog::ResolveError::TooLong {
                    length: request.kind.len(),
                }
                .to_string(),
            ));
        }
        crate::filter::Filter::parse(&request.filter)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        crate::selector::Selector::parse(&request.label_selector)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let cluster = self.cluster(&request.context).await?;
        let kind = cluster
            .resolve(&request.kind)
            .await
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        // A discovered kind's store carries its printer columns.
        let store = cluster.open(&kind).await;
        let in_use = store.begin_use();
        let kind = store.kind().clone();
        let spec = kind.spec();
        let namespace = if !spec.namespaced || request.all_namespaces {
            None
        } else if request.namespace.is_empty() {
            Some(cluster.context.namespace.clone())
        } else {
            Some(request.namespace.clone())
        };
        let limit = (request.limit > 0).then_some(request.limit as usize);
        // CPU and memory are not columns of the cache: their order comes
        // from the latest metrics reading (pods and nodes only).
        let usage_sort = usage_sort(spec, &request.sort_by);
        let query = Query::parse(
            spec,
            namespace.clone(),
            &request.filter,
            &request.label_selector,
            if usage_sort.is_some() {
                ""
            } else {
                &request.sort_by
            },
            request.offset as usize,
            limit,
        )
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let mut query = query;
        if let Some((descending, memory)) = usage_sort {
            let reading = cluster.metrics.reading().await.map_err(|message| {
                Status::failed_precondition(format!(
                    "cannot sort by {}: {message}",
                    request.sort_by.trim_start_matches('-')
                ))
            })?;
            query.sort = query::SortKey::Usage;
            query.descending = descending;
            query.usage = Some(Arc::new(usage_keys(
                &reading,
                spec.plural == "pods",
                memory,
            )));
        }
        query.names = request.names.iter().cloned().collect();
        Ok(Prepared {
            with_namespace: spec.namespaced && namespace.is_none(),
            kind,
            store,
            query,
            namespace,
            wide: request.wide,
            objects: request.objects,
            stopped: cluster.stopped(),
            window_first: request.window_first.then_some(self.window_first_rows),
            cancelled: AtomicBool::new(false),
            _use: in_use,
            _lease: cluster,
        })
    }

    /// The cluster of `context` and its store of `kind` (started if it was
    /// not), marked in use while the guard lives; the kind as the store
    /// knows it (a discovered kind's store carries its columns).
    async fn open_kind(
        &self,
        context: &str,
        kind: &str,
    ) -> Result<
        (
            Lease,
            Kind,
            Arc<crate::store::Store>,
            crate::store::StoreUse,
        ),
        Status,
    > {
        let cluster = self.cluster(context).await?;
        let kind = cluster
            .resolve(kind)
            .await
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let store = cluster.open(&kind).await;
        let in_use = store.begin_use();
        let kind = store.kind().clone();
        Ok((cluster, kind, store, in_use))
    }

    fn status_response(cluster: &Cluster) -> v1::StatusResponse {
        v1::StatusResponse {
            context: cluster.context.name.clone(),
            kinds: cluster
                .stores()
                .iter()
                .map(|store| {
                    let spec = store.kind().spec();
                    store.status().to_proto(spec)
                })
                .collect(),
        }
    }
}

/// Refuse a request whose caller is not the daemon's own user. The socket
/// accepts only this user already; each action checks again, so that no
/// other path to the service (an inherited or proxied socket) can act.
fn owner_only<T>(request: &Request<T>) -> Result<(), Status> {
    let own = rustix::process::getuid().as_raw();
    let peer = request
        .extensions()
        .get::<tonic::transport::server::UdsConnectInfo>()
        .and_then(|info| info.peer_cred);
    match peer {
        Some(cred) if timoneiro_client::socket::peer_allowed(cred.uid(), own) => Ok(()),
        Some(cred) => Err(Status::permission_denied(format!(
            "uid {} may not act through this daemon (it serves uid {own})",
            cred.uid()
        ))),
        None => Err(Status::permission_denied(
            "the caller's credentials are unknown: actions are taken only over the daemon's Unix socket",
        )),
    }
}

fn kind_info(kind: &Kind) -> v1::KindInfo {
    let spec = kind.spec();
    v1::KindInfo {
        plural: spec.plural.clone(),
        singular: spec.singular.clone(),
        kind: spec.kind.clone(),
        group: spec.group.clone(),
        version: spec.version.clone(),
        namespaced: spec.namespaced,
        short_names: spec.short_names.clone(),
        tier: spec.tier,
    }
}

/// Columns of a response: NAMESPACE when listing all namespaces of a
/// namespaced kind, NAME, then the kind's columns (wide ones only if asked).
pub fn columns(kind: &Kind, with_namespace: bool, wide: bool) -> Vec<v1::Column> {
    let mut columns = Vec::new();
    if with_namespace {
        columns.push(v1::Column {
            name: "NAMESPACE".into(),
            wide: false,
        });
    }
    if kind.spec().name_first {
        columns.push(v1::Column {
            name: "NAME".into(),
            wide: false,
        });
    }
    columns.extend(
        kind.spec()
            .columns
            .iter()
            .filter(|c| wide || !c.wide)
            .map(|c| v1::Column {
                name: c.name.clone(),
                wide: c.wide,
            }),
    );
    columns
}

/// A row's cells in the response's columns, as text and moment:
/// NAMESPACE when listing all namespaces, NAME, then the kind's columns
/// (wide ones only if asked), as [`columns`] names them.
fn wire_cells<'a>(
    kind: &'a Kind,
    row: &'a Row,
    with_namespace: bool,
    wide: bool,
) -> impl Iterator<Item = (&'a str, i64)> + 'a {
    let namespace = with_namespace.then_some((&*row.namespace, 0));
    let name = kind.spec().name_first.then_some((&*row.name, 0));
    namespace.into_iter().chain(name).chain(
        kind.spec()
            .columns
            .iter()
            .zip(row.cells().iter())
            .filter(move |(c, _)| wide || !c.wide)
            .map(|(_, v)| (v.text, v.since_ms)),
    )
}

/// A row in wire form, with the cells of the response's columns.
pub fn row(kind: &Kind, row: &Row, with_namespace: bool, wide: bool) -> v1::Row {
    let cells = wire_cells(kind, row, with_namespace, wide)
        .map(|(text, since_unix_ms)| v1::Cell {
            text: text.to_string(),
            since_unix_ms,
        })
        .collect();
    v1::Row {
        namespace: row.namespace.to_string(),
        name: row.name.to_string(),
        uid: row.uid.to_string(),
        created_unix_ms: row.created_ms,
        cells,
        labels: row
            .labels()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        object: Vec::new(),
    }
}

type StatusStream = Pin<Box<dyn Stream<Item = Result<v1::StatusResponse, Status>> + Send>>;
type ListStream = Pin<Box<dyn Stream<Item = Result<v1::ListResponse, Status>> + Send>>;
type LogsStream = Pin<Box<dyn Stream<Item = Result<v1::LogsResponse, Status>> + Send>>;
type DrainStream = Pin<Box<dyn Stream<Item = Result<v1::DrainProgress, Status>> + Send>>;
type ExecStream = Pin<Box<dyn Stream<Item = Result<v1::ExecOutput, Status>> + Send>>;
type ForwardStream = Pin<Box<dyn Stream<Item = Result<v1::ForwardOutput, Status>> + Send>>;

/// Shortest time between two answers of one WatchList stream.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(100);

/// A validated List or WatchList request, ready to run against its store.
struct Prepared {
    kind: Kind,
    store: Arc<crate::store::Store>,
    query: Query,
    namespace: Option<String>,
    with_namespace: bool,
    wide: bool,
    /// Whether rows carry their whole objects.
    objects: bool,
    /// Turns true when the context's caches stop (evicted or reloaded).
    stopped: watch::Receiver<bool>,
    /// When a stream's first answer may be its window before the count:
    /// over caches of at least this many rows.
    window_first: Option<usize>,
    /// Set when the stream's client has gone: a scan running for it stops.
    cancelled: AtomicBool,
    /// Keeps the context in use while the query or stream lives.
    _lease: Lease,
    /// Keeps the kind in use (a discovered kind unused for long is closed).
    _use: crate::store::StoreUse,
}

/// Objects in one answer from which it is written on every core.
const PARALLEL_OBJECTS: usize = 512;

/// Rows in one message of a ListPages answer: table rows (about 100 bytes
/// each on the wire) and whole objects (kilobytes each).
const PAGE_ROWS: usize = 2000;
const PAGE_OBJECTS: usize = 512;

impl Prepared {
    /// Run the query and build the response (blocking: call off the async threads).
    fn answer(&self) -> v1::ListResponse {
        let started = Instant::now();
        let result = query::run(&self.store, &self.query);
        self.response(&result, started.elapsed())
    }

    /// A stream's answer (blocking, as `answer`): its window before the
    /// count when this is the `first` and the client asked for it, else
    /// the whole answer; None once the client has gone.
    fn stream_answer(&self, first: bool) -> Option<v1::ListResponse> {
        let started = Instant::now();
        let quick = self.window_first.filter(|_| first).and_then(|rows| {
            query::window_first(&self.store, &self.query, rows, query::WINDOW_FIRST_BUDGET)
        });
        let result = match quick {
            Some(result) => result,
            None => query::run_unless(&self.store, &self.query, &self.cancelled)?,
        };
        Some(self.response(&result, started.elapsed()))
    }

    fn response(&self, result: &query::QueryResult, queried: Duration) -> v1::ListResponse {
        let rows = self.rows(&result.rows);
        self.head(result, rows, queried)
    }

    /// Run the query and send its answer in pages on `pages`, the first
    /// with the column widths of the whole answer; stop when the client
    /// goes away (blocking: call off the async threads).
    fn pages(&self, pages: &mpsc::Sender<Result<v1::ListResponse, Status>>) {
        let started = Instant::now();
        let result = query::run(&self.store, &self.query);
        let (size, widths, now) = if self.objects {
            (PAGE_OBJECTS, Vec::new(), 0)
        } else {
            let now = timoneiro_client::render::now_unix_ms();
            (PAGE_ROWS, self.widths(&result.rows, now), now)
        };
        let queried = started.elapsed();
        let mut chunks = result.rows.chunks(size);
        let first = chunks.next().map_or_else(Vec::new, |rows| self.rows(rows));
        let head = v1::ListResponse {
            widths,
            now_unix_ms: now,
            ..self.head(&result, first, queried)
        };
        if pages.blocking_send(Ok(head)).is_err() {
            return;
        }
        for rows in chunks {
            let page = v1::ListResponse {
                rows: self.rows(rows),
                ..v1::ListResponse::default()
            };
            if pages.blocking_send(Ok(page)).is_err() {
                return;
            }
        }
    }

    /// Per column, the width of its widest cell as the client prints it,
    /// ages rendered at `now_unix_ms`.
    fn widths(&self, rows: &[Arc<Row>], now_unix_ms: i64) -> Vec<u32> {
        let mut widths = vec![0u32; columns(&self.kind, self.with_namespace, self.wide).len()];
        for row in rows {
            let cells = wire_cells(&self.kind, row, self.with_namespace, self.wide);
            for (width, (text, since)) in widths.iter_mut().zip(cells) {
                let shown = timoneiro_client::render::table_text(text, since, now_unix_ms);
                let chars = u32::try_from(shown.chars().count()).unwrap_or(u32::MAX);
                *width = (*width).max(chars);
            }
        }
        widths
    }

    /// Rows in wire form, with their objects when asked for.
    fn rows(&self, rows: &[Arc<Row>]) -> Vec<v1::Row> {
        let answer = |rows: &[Arc<Row>]| -> Vec<v1::Row> {
            rows.iter()
                .map(|r| {
                    let mut answer = row(&self.kind, r, self.with_namespace, self.wide);
                    if self.objects {
                        answer.object =
                            self.store.codec().decompress(&r.object).unwrap_or_default();
                    }
                    answer
                })
                .collect()
        };
        // Objects kept as protobuf are decoded and written as JSON for the
        // answer, tens of microseconds each: many of them on every core.
        if !self.objects || rows.len() < PARALLEL_OBJECTS {
            return answer(rows);
        }
        let chunk = rows.len().div_ceil(crate::parallel::cores());
        crate::parallel::map_parts(rows.chunks(chunk), answer)
    }

    /// The answer around `rows`: kind, columns, counts, status, and how
    /// long the query took (`queried`).
    fn head(
        &self,
        result: &query::QueryResult,
        rows: Vec<v1::Row>,
        queried: Duration,
    ) -> v1::ListResponse {
        v1::ListResponse {
            kind: Some(kind_info(&self.kind)),
            columns: columns(&self.kind, self.with_namespace, self.wide),
            rows,
            total: result.total as u64,
            matched: result.matched as u64,
            status: Some(result.status.to_proto(self.kind.spec())),
            query_micros: u64::try_from(queried.as_micros()).unwrap_or(u64::MAX),
            namespace: self.namespace.clone().unwrap_or_default(),
            widths: Vec::new(),
            now_unix_ms: 0,
            counting: !result.counted,
        }
    }
}

#[tonic::async_trait]
impl Timoneiro for Service {
    async fn info(
        &self,
        _request: Request<v1::InfoRequest>,
    ) -> Result<Response<v1::InfoResponse>, Status> {
        let mut contexts = Vec::new();
        for state in self.contexts.states().await {
            let mut info = v1::ContextInfo {
                is_default: state.name == self.contexts.default_name(),
                readonly: self.readonly.covers(&state.name),
                name: state.name,
                active: state.cluster.is_some(),
                idle_seconds: state.idle.as_secs(),
                ..v1::ContextInfo::default()
            };
            if let Some(cluster) = &state.cluster {
                info.server = cluster.context.server.clone();
                info.namespace = cluster.context.namespace.clone();
                for store in cluster.stores() {
                    let status = store.status();
                    if status.state != crate::status::SyncState::Pending {
                        info.started_kinds += 1;
                    }
                    if status.state == crate::status::SyncState::Synced {
                        info.synced_kinds += 1;
                    }
                    info.objects += status.objects;
                    info.memory_bytes += store.approximate_bytes();
                }
            }
            contexts.push(info);
        }
        Ok(Response::new(v1::InfoResponse {
            daemon_version: timoneiro_proto::VERSION.into(),
            protocol_version: timoneiro_proto::PROTOCOL_VERSION,
            pid: std::process::id(),
            contexts,
            uptime_seconds: self.started.elapsed().as_secs(),
        }))
    }

    async fn list(
        &self,
        request: Request<v1::ListRequest>,
    ) -> Result<Response<v1::ListResponse>, Status> {
        let prepared = self.prepare(request.into_inner()).await?;
        let response = tokio::task::spawn_blocking(move || prepared.answer())
            .await
            .map_err(|e| Status::internal(format!("query failed: {e}")))?;
        Ok(Response::new(response))
    }

    async fn list_pages(
        &self,
        request: Request<v1::ListRequest>,
    ) -> Result<Response<ListStream>, Status> {
        let prepared = self.prepare(request.into_inner()).await?;
        let (tx, rx) = mpsc::channel(2);
        tokio::task::spawn_blocking(move || prepared.pages(&tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    type WatchListStream = ListStream;
    type ListPagesStream = ListStream;
    type LogsStream = LogsStream;
    type DrainStream = DrainStream;
    type ExecStream = ExecStream;
    type PortForwardStream = ForwardStream;

    async fn exec(
        &self,
        request: Request<tonic::Streaming<v1::ExecInput>>,
    ) -> Result<Response<ExecStream>, Status> {
        owner_only(&request)?;
        let mut inputs = request.into_inner();
        let start = match inputs.message().await? {
            Some(v1::ExecInput {
                input: Some(v1::exec_input::Input::Start(start)),
            }) => start,
            _ => {
                return Err(Status::invalid_argument(
                    "exec: the stream's first message must be ExecStart",
                ));
            }
        };
        let cluster = self.cluster(&start.context).await?;
        self.readonly.check(&cluster.context.name, "exec")?;
        let (tx, rx) = mpsc::channel(64);
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let failed = tx.clone();
            let (namespace, pod) = (start.namespace.clone(), start.pod.clone());
            tokio::select! {
                _ = shutdown.changed() => {}
                result = crate::exec::run(&cluster, start, inputs, tx) => {
                    crate::actions::Audit {
                        context: &cluster.context.name,
                        verb: "exec",
                        kind: "pods",
                        namespace: &namespace,
                        name: &pod,
                    }
                    .record(&result);
                    if let Err(status) = result {
                        let _ = failed.send(Err(status)).await;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn resolve_forward(
        &self,
        request: Request<v1::ResolveForwardRequest>,
    ) -> Result<Response<v1::ResolveForwardResponse>, Status> {
        owner_only(&request)?;
        let request = request.into_inner();
        let cluster = self.cluster(&request.context).await?;
        let forwarding = !request.ports.is_empty();
        let result = crate::forward::resolve(&cluster, request.clone()).await;
        // Without ports it only picks exec's pod: the exec is what is audited.
        if forwarding {
            crate::actions::Audit {
                context: &cluster.context.name,
                verb: "port-forward",
                kind: "pods",
                namespace: result.as_ref().map_or(&request.namespace, |r| &r.namespace),
                name: result.as_ref().map_or(&request.target, |r| &r.pod),
            }
            .record(&result);
        }
        Ok(Response::new(result?))
    }

    async fn port_forward(
        &self,
        request: Request<tonic::Streaming<v1::ForwardInput>>,
    ) -> Result<Response<ForwardStream>, Status> {
        owner_only(&request)?;
        let mut inputs = request.into_inner();
        let start = match inputs.message().await? {
            Some(v1::ForwardInput {
                input: Some(v1::forward_input::Input::Start(start)),
            }) => start,
            _ => {
                return Err(Status::invalid_argument(
                    "port-forward: the stream's first message must be ForwardStart",
                ));
            }
        };
        let cluster = self.cluster(&start.context).await?;
        let (tx, rx) = mpsc::channel(64);
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let failed = tx.clone();
            tokio::select! {
                _ = shutdown.changed() => {}
                result = crate::forward::tunnel(&cluster, start, inputs, tx) => {
                    if let Err(status) = result {
                        let _ = failed.send(Err(status)).await;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn drain(
        &self,
        request: Request<v1::DrainRequest>,
    ) -> Result<Response<DrainStream>, Status> {
        let cluster = self
            .acting(&request, &request.get_ref().context, "drain")
            .await?;
        let request = request.into_inner();
        let (nodes, _) = Self::action_kind(&cluster, "nodes", "").await?;
        let options = crate::drain::Options {
            ignore_daemonsets: request.ignore_daemonsets,
            delete_emptydir_data: request.delete_emptydir_data,
            force: request.force,
            timeout: (request.timeout_seconds > 0)
                .then(|| Duration::from_secs(request.timeout_seconds)),
        };
        let (tx, rx) = mpsc::channel(64);
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.changed() => {}
                result = crate::drain::run(&cluster, &nodes, &request.node, options, &tx) => {
                    crate::actions::Audit {
                        context: &cluster.context.name,
                        verb: "drain",
                        kind: "nodes",
                        namespace: "",
                        name: &request.node,
                    }
                    .record(&result);
                    if let Err(status) = result {
                        let _ = tx.send(Err(status)).await;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn logs(
        &self,
        request: Request<v1::LogsRequest>,
    ) -> Result<Response<LogsStream>, Status> {
        owner_only(&request)?;
        let request = request.into_inner();
        let cluster = self.cluster(&request.context).await?;
        let mut shutdown = self.shutdown.clone();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            let failed = tx.clone();
            tokio::select! {
                _ = shutdown.changed() => {}
                result = crate::logs::run(&cluster, request, tx) => {
                    if let Err(status) = result {
                        let _ = failed.send(Err(status)).await;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn delete(
        &self,
        request: Request<v1::DeleteRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        let cluster = self
            .acting(&request, &request.get_ref().context, "delete")
            .await?;
        let request = request.into_inner();
        if request.names.is_empty() {
            return Err(Status::invalid_argument("delete: name at least one object"));
        }
        if request.names.len() > MAX_NAMES {
            return Err(Status::invalid_argument(format!(
                "delete: {} names; at most {MAX_NAMES} at once",
                request.names.len()
            )));
        }
        let (spec, namespace) =
            Self::action_kind(&cluster, &request.kind, &request.namespace).await?;
        let grace = crate::actions::effective_grace(request.grace_period_seconds, request.force);
        let mut answer = v1::ActionResponse::default();
        for name in &request.names {
            let result = crate::actions::delete(&cluster, &spec, &namespace, name, grace).await;
            crate::actions::Audit {
                context: &cluster.context.name,
                verb: "delete",
                kind: &spec.plural,
                namespace: &namespace,
                name,
            }
            .record(&result);
            match result {
                Ok(line) => answer.results.push(line),
                Err(status) => answer.errors.push(status.message().to_string()),
            }
        }
        Ok(Response::new(answer))
    }

    async fn scale(
        &self,
        request: Request<v1::ScaleRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        let cluster = self
            .acting(&request, &request.get_ref().context, "scale")
            .await?;
        let request = request.into_inner();
        let (spec, namespace) =
            Self::action_kind(&cluster, &request.kind, &request.namespace).await?;
        let action =
            crate::actions::scale(&cluster, &spec, &namespace, &request.name, request.replicas);
        self.act(&cluster, "scale", &spec, &namespace, &request.name, action)
            .await
    }

    async fn restart(
        &self,
        request: Request<v1::RestartRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        let cluster = self
            .acting(&request, &request.get_ref().context, "restart")
            .await?;
        let request = request.into_inner();
        let (spec, namespace) =
            Self::action_kind(&cluster, &request.kind, &request.namespace).await?;
        let action = crate::actions::restart(&cluster, &spec, &namespace, &request.name);
        self.act(
            &cluster,
            "restart",
            &spec,
            &namespace,
            &request.name,
            action,
        )
        .await
    }

    async fn cordon(
        &self,
        request: Request<v1::CordonRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        let verb = if request.get_ref().unschedulable {
            "cordon"
        } else {
            "uncordon"
        };
        let cluster = self
            .acting(&request, &request.get_ref().context, verb)
            .await?;
        let request = request.into_inner();
        let (spec, _) = Self::action_kind(&cluster, "nodes", "").await?;
        let action = crate::actions::cordon(&cluster, &spec, &request.node, request.unschedulable);
        self.act(&cluster, verb, &spec, "", &request.node, action)
            .await
    }

    async fn replace(
        &self,
        request: Request<v1::ReplaceRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        let cluster = self
            .acting(&request, &request.get_ref().context, "edit")
            .await?;
        let request = request.into_inner();
        let (spec, namespace) =
            Self::action_kind(&cluster, &request.kind, &request.namespace).await?;
        let action =
            crate::actions::replace(&cluster, &spec, &namespace, &request.name, &request.json);
        self.act(&cluster, "edit", &spec, &namespace, &request.name, action)
            .await
    }

    async fn trigger_cron_job(
        &self,
        request: Request<v1::TriggerCronJobRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        let cluster = self
            .acting(&request, &request.get_ref().context, "trigger")
            .await?;
        let request = request.into_inner();
        let (cronjobs, namespace) =
            Self::action_kind(&cluster, "cronjobs", &request.namespace).await?;
        let (jobs, _) = Self::action_kind(&cluster, "jobs", &request.namespace).await?;
        let job_name = if request.job_name.is_empty() {
            let now = jiff::Timestamp::now().as_second();
            format!("{}-manual-{now}", request.cronjob)
        } else {
            request.job_name.clone()
        };
        let action = crate::actions::trigger(
            &cluster,
            &cronjobs,
            &jobs,
            &namespace,
            &request.cronjob,
            &job_name,
        );
        self.act(
            &cluster,
            "trigger",
            &cronjobs,
            &namespace,
            &request.cronjob,
            action,
        )
        .await
    }

    async fn watch_list(
        &self,
        request: Request<v1::ListRequest>,
    ) -> Result<Response<ListStream>, Status> {
        let prepared = Arc::new(self.prepare(request.into_inner()).await?);
        let mut changes = prepared.store.subscribe();
        let mut shutdown = self.shutdown.clone();
        let mut stopped = prepared.stopped.clone();
        let (tx, rx) = mpsc::channel(1);
        tokio::spawn(async move {
            let mut first = true;
            loop {
                // Wait for the client to have room before querying, so what it
                // gets is the newest state: a slow reader skips versions, it
                // never holds anyone else up.
                let permit = tokio::select! {
                    _ = shutdown.changed() => return,
                    permit = tx.reserve() => match permit { Ok(p) => p, Err(_) => return },
                };
                changes.borrow_and_update();
                let query = prepared.clone();
                let job = tokio::task::spawn_blocking(move || query.stream_answer(first));
                // A client that goes while its query runs (the next key typed)
                // stops the query: it would only hold a core from the next one.
                let response = tokio::select! {
                    done = job => match done {
                        Ok(Some(response)) => response,
                        _ => return,
                    },
                    _ = tx.closed() => {
                        prepared.cancelled.store(true, std::sync::atomic::Ordering::Relaxed);
                        return;
                    }
                };
                first = false;
                let counting = response.counting;
                permit.send(Ok(response));
                if counting {
                    // The count follows at once.
                    continue;
                }
                let sent = tokio::time::Instant::now();
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tx.closed() => return,
                    _ = stopped.changed() => {
                        let _ = tx.send(Err(Status::unavailable("the context's caches were restarted (kubeconfig changed); reconnect"))).await;
                        return;
                    }
                    changed = changes.changed() => if changed.is_err() { return },
                }
                // Coalesce bursts of changes: at most one answer per interval.
                tokio::time::sleep_until(sent + WATCH_INTERVAL).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get(
        &self,
        request: Request<v1::GetRequest>,
    ) -> Result<Response<v1::GetResponse>, Status> {
        let request = request.into_inner();
        let (cluster, kind, store, _in_use) =
            self.open_kind(&request.context, &request.kind).await?;
        let namespace = if kind.spec().namespaced {
            request.namespace.as_str()
        } else {
            ""
        };
        let value = if request.from_server {
            let namespace = match namespace {
                "" if kind.spec().namespaced => cluster.context.namespace.clone(),
                ns => ns.to_string(),
            };
            crate::actions::fetch(&cluster, kind.spec(), &namespace, &request.name).await?
        } else {
            cached_object(&store, namespace, &request.name)?
        };
        let text = match v1::ObjectFormat::try_from(request.format)
            .unwrap_or(v1::ObjectFormat::Unspecified)
        {
            v1::ObjectFormat::Json => serde_json::to_string_pretty(&value).unwrap_or_default(),
            _ => serde_saphyr::to_string(&value)
                .map_err(|e| Status::internal(format!("cannot render YAML: {e}")))?,
        };
        Ok(Response::new(v1::GetResponse {
            text,
            kind: Some(kind_info(&kind)),
        }))
    }

    async fn describe(
        &self,
        request: Request<v1::DescribeRequest>,
    ) -> Result<Response<v1::DescribeResponse>, Status> {
        let request = request.into_inner();
        let (cluster, kind, store, _in_use) =
            self.open_kind(&request.context, &request.kind).await?;
        let spec = kind.spec();
        let namespace = match (spec.namespaced, request.namespace.as_str()) {
            (false, _) => String::new(),
            (true, "") => cluster.context.namespace.clone(),
            (true, ns) => ns.to_string(),
        };
        // Like `get` in the CLI, wait for a kind that is still loading
        // rather than answer "not found" for an object not listed yet.
        crate::describe::gather::wait_loaded(&store, DESCRIBE_WAIT).await;
        let object = cached_object(&store, &namespace, &request.name)?;
        let mut gathered =
            crate::describe::gather::gather(&cluster, &spec.group, &spec.plural, &object).await;
        if spec.group.is_empty() && spec.plural == "secrets" {
            gathered.related.secret_keys = secret_keys(&store, &namespace, &request.name);
        }
        let (group, plural) = (spec.group.clone(), spec.plural.clone());
        let related = gathered.related;
        let text = tokio::task::spawn_blocking(move || {
            crate::describe::describe(&group, &plural, &object, &related, jiff::Timestamp::now())
        })
        .await
        .map_err(|e| Status::internal(format!("describe stopped: {e}")))?
        .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(v1::DescribeResponse {
            text,
            kind: Some(kind_info(&kind)),
            notes: gathered.notes,
        }))
    }

    async fn top(
        &self,
        request: Request<v1::TopRequest>,
    ) -> Result<Response<v1::TopResponse>, Status> {
        let request = request.into_inner();
        if request.names.len() > MAX_NAMES {
            return Err(Status::invalid_argument(format!(
                "{} names asked for; at most {MAX_NAMES} at once",
                request.names.len()
            )));
        }
        let cluster = self.cluster(&request.context).await?;
        let kind = cluster
            .resolve(&request.kind)
            .await
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let spec = kind.spec();
        let pods = match (spec.group.as_str(), spec.plural.as_str()) {
            ("", "pods") => true,
            ("", "nodes") => false,
            _ => {
                return Err(Status::invalid_argument(format!(
                    "top shows pods or nodes, not {}",
                    spec.plural
                )));
            }
        };
        let reading = match cluster.metrics.reading().await {
            Ok(reading) => reading,
            Err(message) => {
                return Ok(Response::new(v1::TopResponse {
                    available: false,
                    message,
                    ..v1::TopResponse::default()
                }));
            }
        };
        let namespace = match (request.all_namespaces, request.namespace.as_str()) {
            (true, _) => None,
            (false, "") => Some(cluster.context.namespace.clone()),
            (false, ns) => Some(ns.to_string()),
        };
        let mut items = usage_items(&reading, pods, namespace.as_deref(), &request.names);
        // Requests and limits of the pods asked for by name; nodes'
        // allocatable: from the cached objects.
        if !pods || !request.names.is_empty() {
            let store = cluster.open(&kind).await;
            let _in_use = store.begin_use();
            crate::describe::gather::wait_loaded(&store, DESCRIBE_WAIT).await;
            add_resources(&store, pods, &mut items);
        }
        Ok(Response::new(v1::TopResponse {
            available: true,
            message: String::new(),
            fetched_unix_ms: reading.fetched_unix_ms,
            items,
        }))
    }

    async fn status(
        &self,
        request: Request<v1::StatusRequest>,
    ) -> Result<Response<v1::StatusResponse>, Status> {
        let cluster = self.cluster(&request.get_ref().context).await?;
        Ok(Response::new(Self::status_response(&cluster)))
    }

    async fn api_resources(
        &self,
        request: Request<v1::ApiResourcesRequest>,
    ) -> Result<Response<v1::ApiResourcesResponse>, Status> {
        let request = request.into_inner();
        let cluster = self.cluster(&request.context).await?;
        if request.refresh || cluster.discovery_state().ran.is_none() {
            cluster.refresh_discovery().await;
        }
        let stores = cluster.stores();
        let resources = cluster
            .catalog()
            .kinds()
            .iter()
            .map(|kind| {
                // An opened kind's store has the final columns and the status.
                let store = stores.iter().find(|s| s.kind() == kind);
                let kind = store.map_or(kind, |s| s.kind());
                let status = store.map(|s| s.status()).unwrap_or_default();
                v1::ApiResource {
                    kind: Some(kind_info(kind)),
                    status: Some(status.to_proto(kind.spec())),
                }
            })
            .collect();
        let discovery = cluster.discovery_state();
        Ok(Response::new(v1::ApiResourcesResponse {
            context: cluster.context.name.clone(),
            resources,
            discovery: discovery.method.to_string(),
            discovery_error: discovery.error.unwrap_or_default(),
            discovery_age_seconds: discovery.ran.map_or(0, |r| r.elapsed().as_secs()),
        }))
    }

    type WatchStatusStream = StatusStream;

    async fn watch_status(
        &self,
        request: Request<v1::StatusRequest>,
    ) -> Result<Response<StatusStream>, Status> {
        let cluster = self.cluster(&request.get_ref().context).await?;
        let mut changes = cluster.subscribe_status();
        let mut shutdown = self.shutdown.clone();
        let mut stopped = cluster.stopped();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            // Full status first, then on every state change; while anything is
            // loading, object counts are refreshed a few times a second.
            let mut last: Option<v1::StatusResponse> = None;
            loop {
                let current = Self::status_response(&cluster);
                if last.as_ref() != Some(&current) {
                    if tx.send(Ok(current.clone())).await.is_err() {
                        return;
                    }
                    last = Some(current.clone());
                }
                let loading = current
                    .kinds
                    .iter()
                    .any(|k| k.state == v1::SyncState::Loading as i32);
                let tick = if loading {
                    Duration::from_millis(250)
                } else {
                    Duration::from_secs(3600)
                };
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = stopped.changed() => {
                        let _ = tx.send(Err(Status::unavailable("the context's caches were restarted (kubeconfig changed); reconnect"))).await;
                        return;
                    }
                    _ = tx.closed() => return,
                    changed = changes.changed() => if changed.is_err() { return },
                    _ = tokio::time::sleep(tick) => {}
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// The kept object `namespace/name` of `store`, as JSON.
pub(crate) fn cached_object(
    store: &crate::store::Store,
    namespace: &str,
    name: &str,
) -> Result<serde_json::Value, Status> {
    let object = {
        let view = store.view();
        match view.find(namespace, name) {
            Some(row) => store
                .codec()
                .decompress(&row.object)
                .map_err(Status::internal)?,
            None => {
                let status = view.status();
                let whole = if status.state == SyncState::Synced {
                    ""
                } else {
                    " (the cache is not synced yet)"
                };
                let place = if namespace.is_empty() {
                    String::new()
                } else {
                    format!(" in namespace {namespace:?}")
                };
                return Err(Status::not_found(format!(
                    "{} {name:?} not found{place}{whole}",
                    store.kind().spec().plural,
                )));
            }
        }
    };
    serde_json::from_slice(&object)
        .map_err(|e| Status::internal(format!("the cached object does not decode: {e}")))
}

/// A secret's key count: the DATA cell of the server's Table (the daemon
/// never holds the data itself).
fn secret_keys(store: &crate::store::Store, namespace: &str, name: &str) -> Option<String> {
    let spec = store.kind().spec();
    let column = spec.columns.iter().position(|c| c.name == "DATA")?;
    let view = store.view();
    let row = view.find(namespace, name)?;
    row.cells().get(column).map(|c| c.text.to_string())
}

/// `Some((descending, memory))` when a pods or nodes query sorts by CPU or
/// memory use (`CPU`, `-CPU`, `MEM`, `MEMORY`, …).
fn usage_sort(spec: &crate::catalog::KindSpec, sort_by: &str) -> Option<(bool, bool)> {
    if !spec.group.is_empty() || !matches!(spec.plural.as_str(), "pods" | "nodes") {
        return None;
    }
    let (descending, name) = match sort_by.trim().strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sort_by.trim()),
    };
    match name.to_ascii_uppercase().as_str() {
        "CPU" => Some((descending, false)),
        "MEM" | "MEMORY" => Some((descending, true)),
        _ => None,
    }
}

/// One figure per object of a metrics reading, by namespace and name.
fn usage_keys(reading: &crate::metrics::Reading, pods: bool, memory: bool) -> query::UsageKeys {
    let mut keys = query::UsageKeys::new();
    let pick = |u: &crate::metrics::Use| if memory { u.memory_bytes } else { u.cpu_nanos };
    if pods {
        for ((namespace, name), used) in &reading.pods {
            keys.entry(namespace.clone())
                .or_default()
                .insert(name.clone(), pick(&used.total));
        }
    } else {
        let nodes = keys.entry(String::new()).or_default();
        for (name, used) in &reading.nodes {
            nodes.insert(name.clone(), pick(used));
        }
    }
    keys
}

/// Pods' (in `namespace`, or all) or nodes' use from a metrics reading,
/// of the objects `names` (none: all), by namespace and name.
fn usage_items(
    reading: &crate::metrics::Reading,
    pods: bool,
    namespace: Option<&str>,
    names: &[String],
) -> Vec<v1::Usage> {
    let names: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let wanted = |name: &str| names.is_empty() || names.contains(name);
    let mut items: Vec<v1::Usage> = if pods {
        reading
            .pods
            .iter()
            .filter(|((ns, name), _)| namespace.is_none_or(|n| n == ns) && wanted(name))
            .map(|((ns, name), used)| v1::Usage {
                namespace: ns.clone(),
                name: name.clone(),
                cpu_nanos: used.total.cpu_nanos,
                memory_bytes: used.total.memory_bytes,
                containers: used
                    .containers
                    .iter()
                    .map(|(c, u)| v1::ContainerUsage {
                        name: c.clone(),
                        cpu_nanos: u.cpu_nanos,
                        memory_bytes: u.memory_bytes,
                    })
                    .collect(),
                ..v1::Usage::default()
            })
            .collect()
    } else {
        reading
            .nodes
            .iter()
            .filter(|(name, _)| wanted(name))
            .map(|(name, used)| v1::Usage {
                name: name.clone(),
                cpu_nanos: used.cpu_nanos,
                memory_bytes: used.memory_bytes,
                ..v1::Usage::default()
            })
            .collect()
    };
    items.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    items
}

/// Pods' requests and limits, nodes' allocatable, from the cached objects
/// of `items`: one pass over the rows for all of them (a lookup by name is
/// a scan: one per name would cost a scan each).
fn add_resources(store: &crate::store::Store, pods: bool, items: &mut [v1::Usage]) {
    let wanted: std::collections::HashSet<(&str, &str)> = items
        .iter()
        .map(|i| (i.namespace.as_str(), i.name.as_str()))
        .collect();
    let found: std::collections::HashMap<(String, String), Arc<crate::row::Row>> = {
        let view = store.view();
        view.rows()
            .filter(|r| wanted.contains(&(&*r.namespace, r.name.as_str())))
            .map(|r| ((r.namespace.to_string(), r.name.to_string()), r.clone()))
            .collect()
    };
    for item in items {
        let key = (item.namespace.clone(), item.name.clone());
        let Some(object) = found
            .get(&key)
            .and_then(|row| store.codec().decompress(&row.object).ok())
            .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        else {
            continue;
        };
        if pods {
            let (cpu_request, memory_request, cpu_limit, memory_limit) =
                crate::metrics::pod_resources(&object);
            item.cpu_request_nanos = cpu_request;
            item.memory_request_bytes = memory_request;
            item.cpu_limit_nanos = cpu_limit;
            item.memory_limit_bytes = memory_limit;
        } else {
            let allocatable = &object["status"]["allocatable"];
            let q = |name: &str| {
                allocatable[name]
                    .as_str()
                    .and_then(crate::metrics::quantity_nanos)
                    .unwrap_or(0)
            };
            item.cpu_allocatable_nanos = q("cpu") as i64;
            item.memory_allocatable_bytes = (q("memory") / 1_000_000_000) as i64;
        }
    }
}
