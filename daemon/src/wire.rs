//! The protobuf list/watch source of built-in kinds (kube speaks only JSON,
//! kube-rs#725): pages of `limit=500` with `continue`, then a watch from
//! the list's resourceVersion with bookmarks, resumed from the last
//! resourceVersion when the server ends it. It yields kube-runtime's
//! watcher events and errors, so the informer treats both encodings alike
//! (a 410 in the stream or on a request, any failure: the informer relists
//! after its backoff). Objects decode into the same k8s-openapi types as
//! JSON (`timoneiro_kpb`), so one projection serves both.

use std::fmt;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use http_body_util::BodyExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::core::Status;
use kube::runtime::watcher::{Error, Event};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use timoneiro_kpb::{self as kpb, Envelope, FrameReader, List, WatchEvent};
use tokio::sync::mpsc;

use crate::lean::Lean;

/// How a kind's objects travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// `application/vnd.kubernetes.protobuf` (built-in kinds).
    #[default]
    Protobuf,
    /// JSON (custom resources, aggregated APIs, `timoneirod --wire json`).
    Json,
    /// The server's Table, JSON (`crate::table`: secrets).
    Table,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Protobuf => "protobuf",
            Encoding::Json => "json",
            Encoding::Table => "table",
        })
    }
}

/// How the daemon talks to an API server: the encoding of built-in kinds
/// and how long a connection may stay silent before it is taken as dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire {
    /// How built-in kinds travel.
    pub encoding: Encoding,
    /// The longest silence of a connection (no byte read: not a header, a
    /// page, an event or a BOOKMARK). After a laptop sleep, a VPN or a NAT
    /// drop a connection is half-open and says nothing, ever: past this the
    /// read fails, the kind turns STALE and relists. Set as kube's client
    /// `read_timeout` (per read, reset by every request written).
    pub read_timeout: std::time::Duration,
}

impl Wire {
    /// The default silence: a healthy watch is renewed (`timeoutSeconds`
    /// 290, as kube's watcher asks) before it.
    pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

    /// `timeoutSeconds` of watches: the server ends a quiet watch cleanly
    /// (and it resumes from its resourceVersion) a little before the
    /// client would take the connection for dead, so a healthy cluster
    /// never trips the read timeout. 290 s at the default, as kube's watcher.
    pub fn watch_timeout_seconds(&self) -> u32 {
        let idle = self.read_timeout.as_secs();
        let seconds = idle.saturating_sub((idle / 30).max(1)).clamp(1, 290);
        u32::try_from(seconds).unwrap_or(290)
    }
}

impl Default for Wire {
    fn default() -> Wire {
        Wire {
            encoding: Encoding::Protobuf,
            read_timeout: Wire::READ_TIMEOUT,
        }
    }
}

/// What a watch body that fails to read means. A read timeout is the
/// connection gone silent past `Wire::read_timeout`: an error, so the kind
/// turns STALE and relists. Anything else cut the stream mid-way (a reset,
/// a proxy closing it) and is its end: resume from the last resourceVersion.
pub fn watch_body_error(error: &(dyn std::error::Error + 'static)) -> Option<Error> {
    let mut source = Some(error);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return Some(Error::WatchFailed(WireError::Silent.into()));
        }
        source = err.source();
    }
    None
}

/// A watch the server ended cleanly sooner than this after it began…
const SHORT_WATCH: std::time::Duration = std::time::Duration::from_secs(1);

/// …waits this long before the next one: a proxy or server that ends every
/// watch at once must not get a watch request per round trip, forever.
pub async fn pace_watch(started: std::time::Instant) {
    if started.elapsed() < SHORT_WATCH {
        tokio::time::sleep(SHORT_WATCH).await;
    }
}

/// Page size of lists, as kube's watcher.
const PAGE: u32 = 500;

/// What to ask for: the path of the collection and whether only metadata.
#[derive(Debug, Clone)]
pub struct Request {
    /// `/api/v1/pods`, `/apis/apps/v1/namespaces/shop/deployments`.
    pub path: String,
    /// `as=PartialObjectMetadata[List]` (secrets: values never fetched).
    pub metadata_only: bool,
}

impl Request {
    fn accept(&self, list: bool) -> String {
        if self.metadata_only {
            let kind = if list {
                "PartialObjectMetadataList"
            } else {
                "PartialObjectMetadata"
            };
            format!("{};as={kind};g=meta.k8s.io;v=v1", kpb::MEDIA_TYPE)
        } else {
            kpb::MEDIA_TYPE.to_string()
        }
    }
}

/// Whether an error means the server does not serve protobuf for the kind
/// (406 Not Acceptable, or a body in another encoding).
pub fn refused_protobuf(error: &Error) -> Option<String> {
    match error {
        Error::InitialListFailed(kube::Error::Api(status)) if status.code == 406 => {
            Some(format!("406 {}", status.message))
        }
        Error::InitialListFailed(kube::Error::Service(e)) => match e.downcast_ref() {
            Some(refused @ WireError::NotProtobuf { .. }) => Some(refused.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// What goes wrong on the wire. It travels inside `kube::Error::Service`,
/// so the watcher's error types stay kube's, and is found again by
/// downcasting ([`refused_protobuf`]).
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A success in another encoding than the protobuf asked for.
    #[error("the API server answered {content_type:?} where protobuf was asked for")]
    NotProtobuf {
        /// The Content-Type it answered.
        content_type: String,
    },
    /// Nothing read for longer than the read timeout.
    #[error(
        "the API server sent nothing (not even a BOOKMARK) for longer than the read timeout: the connection is taken as dead (sleep, VPN or NAT drop?)"
    )]
    Silent,
    /// A body that does not decode.
    #[error(transparent)]
    Protobuf(#[from] kpb::Error),
    /// A watch event of a type Kubernetes does not have.
    #[error("unknown watch event type {0:?}")]
    UnknownEvent(String),
    /// A Table that is not one, or a row of another type.
    #[error("{0}")]
    Table(String),
    /// Reading a body failed (its causes, as one line).
    #[error("{0}")]
    Body(String),
    /// The task fetching a list page ended without its page.
    #[error("fetching a list page: {0}")]
    Prefetch(#[from] tokio::task::JoinError),
    /// A request that cannot be built.
    #[error("cannot build the request: {0}")]
    Request(#[from] http::Error),
}

impl From<WireError> for kube::Error {
    fn from(error: WireError) -> kube::Error {
        kube::Error::Service(Box::new(error))
    }
}

/// What the protobuf source decodes objects into.
pub trait FromProtobuf: Sized {
    /// A top-level object of message type `ty`, with the `apiVersion` and
    /// `kind` its envelope carried.
    fn from_protobuf(
        ty: kpb::MessageType,
        bytes: &[u8],
        api_version: &str,
        kind: &str,
    ) -> Result<Self, kpb::Error>;

    /// The object as it came, if it came in protobuf: a `k8s\0` body
    /// without managedFields, for the cache to keep (once).
    fn take_protobuf(&mut self) -> Option<Vec<u8>>;

    /// The JSON of a body `take_protobuf` gave, as the API server would
    /// have written it (`kpb::json`: the Go types' rules), for `Get`.
    fn protobuf_json(body: &[u8]) -> Result<Vec<u8>, String>;

    /// The object of a server-side Table's row, for a kind watched as a
    /// Table (`crate::table`); None: this type is not one.
    fn from_table_row(row: crate::table::TableRow) -> Option<Self> {
        let _ = row;
        None
    }
}

/// `Lean<K>` keeps the object's bytes (without managedFields, which its
/// schema never decodes either) and decodes `K` pruned to what the
/// projections read (`project::UNREAD`): the rest would be built only to
/// be dropped, since `Get` answers from the bytes.
impl<K: DeserializeOwned + serde::Serialize + 'static> FromProtobuf for Lean<K> {
    fn from_protobuf(
        ty: kpb::MessageType,
        bytes: &[u8],
        api_version: &str,
        kind: &str,
    ) -> Result<Self, kpb::Error> {
        let object = decode_object(ty, bytes, api_version, kind, Some(pruning::<K>()))?;
        let protobuf = kpb::kept_body(ty, bytes, api_version, kind)?;
        Ok(Lean {
            object,
            protobuf: Some(protobuf),
        })
    }

    fn take_protobuf(&mut self) -> Option<Vec<u8>> {
        self.protobuf.take()
    }

    fn protobuf_json(body: &[u8]) -> Result<Vec<u8>, String> {
        kpb::json::object_json(body).map_err(|e| e.to_string())
    }
}

/// A top-level object of message type `ty` (with the `apiVersion` and
/// `kind` its envelope carried), without the fields `pruning` names: by
/// the kind's own decoder if it has one (`crate::direct`: pods), else
/// through the serde bridge.
pub fn decode_object<K: DeserializeOwned + 'static>(
    ty: kpb::MessageType,
    bytes: &[u8],
    api_version: &str,
    kind: &str,
    pruning: Option<&'static kpb::Pruning>,
) -> Result<Box<K>, kpb::Error> {
    if let Some(decoded) = crate::direct::decode_object(bytes, api_version, kind, pruning) {
        return decoded;
    }
    match pruning {
        Some(pruning) => kpb::decode_object_pruned(ty, bytes, api_version, kind, pruning),
        None => kpb::decode_object(ty, bytes, api_version, kind),
    }
    .map(Box::new)
}

/// What projections do not read, left out of the objects of kind `K` the
/// informer decodes: `project::UNREAD`, and for pods their metadata but
/// what the pod projection reads (`project::POD_METADATA_UNREAD`).
pub fn pruning<K: 'static>() -> &'static kpb::Pruning {
    use crate::project::{POD_METADATA_UNREAD, UNREAD};
    use std::sync::LazyLock;
    static PRUNING: LazyLock<kpb::Pruning> = LazyLock::new(|| {
        kpb::Pruning::new(UNREAD.iter().copied()).expect("project::UNREAD names schema fields")
    });
    static POD_PRUNING: LazyLock<kpb::Pruning> = LazyLock::new(|| {
        kpb::Pruning::new(UNREAD.iter().chain(POD_METADATA_UNREAD).copied())
            .expect("project::POD_METADATA_UNREAD names schema fields")
    });
    if std::any::TypeId::of::<K>() == std::any::TypeId::of::<k8s_openapi::api::core::v1::Pod>() {
        &POD_PRUNING
    } else {
        &PRUNING
    }
}

/// A list's items and metadata from a protobuf body.
pub fn decode_list<K: FromProtobuf>(body: &[u8]) -> Result<(ListMeta, Vec<K>), kpb::Error> {
    let page = ListPage::parse(body)?;
    let items = page.items()?;
    Ok((page.meta, items))
}

/// A protobuf list body with its metadata read and its items not yet
/// decoded: the continue token is known before the page's work is done.
pub struct ListPage<'a> {
    pub meta: ListMeta,
    envelope: Envelope<'a>,
    items_ty: kpb::MessageType,
    list: List<'a>,
}

impl<'a> ListPage<'a> {
    pub fn parse(body: &'a [u8]) -> Result<ListPage<'a>, kpb::Error> {
        let envelope = Envelope::parse(body)?;
        let ty = envelope.message_type()?;
        let items_ty = ty
            .items()
            .ok_or_else(|| serde::de::Error::custom(format!("{} is not a list", ty.name())))?;
        let list = List::parse(envelope.raw)?;
        let meta: ListMeta = kpb::decode(kpb::list_meta(), list.metadata)?;
        Ok(ListPage {
            meta,
            envelope,
            items_ty,
            list,
        })
    }

    /// How many items the page has.
    pub fn len(&self) -> usize {
        self.list.items.len()
    }

    /// Whether the page has no items.
    pub fn is_empty(&self) -> bool {
        self.list.items.is_empty()
    }

    /// The decoded items.
    pub fn items<K: FromProtobuf>(&self) -> Result<Vec<K>, kpb::Error> {
        self.items_in(0..self.len())
    }

    /// The decoded items in `range`.
    pub fn items_in<K: FromProtobuf>(
        &self,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<K>, kpb::Error> {
        let kind = self
            .envelope
            .kind
            .strip_suffix("List")
            .unwrap_or(self.envelope.kind);
        self.list.items[range]
            .iter()
            .map(|item| K::from_protobuf(self.items_ty, item, self.envelope.api_version, kind))
            .collect()
    }
}

/// The resourceVersion a BOOKMARK carries: an object of the watched kind
/// with only `metadata.resourceVersion` set, and, as the Go server writes
/// it, every other non-pointer field empty or zero (a workload's
/// `spec.template.metadata` included).
pub fn bookmark_resource_version(
    ty: kpb::MessageType,
    message: &[u8],
) -> Result<Option<String>, kpb::Error> {
    #[derive(serde::Deserialize)]
    struct Bookmark {
        metadata: Option<ListMeta>,
    }
    let bookmark: Bookmark = kpb::decode(ty, message)?;
    Ok(bookmark.metadata.and_then(|m| m.resource_version))
}

/// A `Status` from an error body, protobuf or JSON.
pub fn decode_status(code: u16, content_type: &str, body: &[u8]) -> Status {
    let decoded = if content_type.starts_with(kpb::MEDIA_TYPE) {
        Envelope::parse(body)
            .ok()
            .and_then(|e| kpb::decode::<Status>(kpb::status(), e.raw).ok())
    } else {
        serde_json::from_slice::<Status>(body).ok()
    };
    let mut status = decoded.unwrap_or_else(|| {
        Status::failure(
            String::from_utf8_lossy(body).trim(),
            "Failed to parse error data",
        )
    });
    if status.code == 0 {
        status.code = code;
    }
    status
}

/// List and watch a collection in protobuf, as kube-runtime's `watcher`
/// does in JSON, its events in batches (a list page's objects come as
/// one), and the resourceVersions its watch's BOOKMARKs carry.
pub fn watcher<K>(
    path: String,
    client: Client,
    metadata_only: bool,
    watch_timeout_seconds: u32,
    start: Start,
) -> BoxStream<'static, Batch<K>>
where
    K: Resource + FromProtobuf + Send + 'static,
{
    // Events go over in batches (a list page is one), so the informer
    // and this task meet once per page, not once per object.
    let (tx, rx) = mpsc::channel(BATCHES);
    tokio::spawn(async move {
        let source = Source {
            client,
            request: Request {
                path,
                metadata_only,
            },
            watch_timeout_seconds,
            tx,
        };
        tokio::select! {
            result = source.run(start) => {
                if let Err(error) = result {
                    let _ = source.tx.send(Batch::Events(vec![Err(error)])).await;
                }
            }
            _ = source.tx.closed() => {}
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx).boxed()
}

/// Where a [`watcher`] begins.
#[derive(Debug)]
pub enum Start {
    /// With the whole list (Init, InitApply…, InitDone), whose
    /// resourceVersion is put in the slot just before its InitDone.
    List(Listed),
    /// With a watch from this resourceVersion (a snapshot's), no list: its
    /// InitDone (no Init before it: the rows the store has are the list)
    /// comes once the server has shown it still has that version — with
    /// its first event, or after [`RESUME_QUIET`] of a quiet watch, since a
    /// server that no longer has it answers with an ERROR 410 at once
    /// (FIELD-NOTES: "HTTP 200, one ERROR event with a 410 Status"). A 410
    /// ends the stream like any watch error: the informer lists.
    Resume(String),
}

/// The resourceVersion of a source's list, for its informer to read at
/// the list's InitDone.
pub type Listed = std::sync::Arc<std::sync::Mutex<Option<String>>>;

/// How long a resumed watch may stay quiet before it is taken as valid.
pub const RESUME_QUIET: std::time::Duration = std::time::Duration::from_secs(2);

/// List items decoded between two yields to the runtime: a slice short
/// enough that watches and queries on the same threads are not held up.
const DECODE_SLICE: usize = 50;

/// Batches of events in flight between a source and its informer.
const BATCHES: usize = 4;

/// What a [`watcher`] hands its informer at once.
pub enum Batch<K> {
    /// Events in their order; a list page's objects come as one batch.
    Events(Vec<Result<Event<K>, Error>>),
    /// A BOOKMARK: the collection is at this resourceVersion, every change
    /// up to it sent. A kind nothing changes in has no other news of the
    /// server's progress: a watch resumed from its last event's (or
    /// list's) version after a restart finds it compacted away, and
    /// lists again.
    Bookmark(String),
}

struct Source<K> {
    client: Client,
    request: Request,
    watch_timeout_seconds: u32,
    tx: mpsc::Sender<Batch<K>>,
}

/// The receiver is gone: stop quietly.
struct Gone;

impl<K: Resource + FromProtobuf + Send + 'static> Source<K> {
    async fn emit(&self, event: Event<K>) -> Result<(), Gone> {
        self.emit_all(std::iter::once(event)).await
    }

    async fn emit_all(&self, events: impl Iterator<Item = Event<K>>) -> Result<(), Gone> {
        let events: Vec<_> = events.map(Ok).collect();
        if events.is_empty() {
            return Ok(());
        }
        self.tx.send(Batch::Events(events)).await.map_err(|_| Gone)
    }

    async fn run(&self, start: Start) -> Result<(), Error> {
        let (mut resource_version, mut unconfirmed) = match start {
            Start::List(listed) => match self.list(&listed).await? {
                Ok(resource_version) => (resource_version, false),
                Err(Gone) => return Ok(()),
            },
            Start::Resume(resource_version) => (resource_version, true),
        };
        loop {
            let started = std::time::Instant::now();
            match self.watch(&resource_version, &mut unconfirmed).await? {
                Some(last) => resource_version = last,
                None => return Ok(()),
            }
            pace_watch(started).await;
        }
    }

    async fn get(
        &self,
        query: &str,
        accept: &str,
    ) -> Result<http::Response<kube::client::Body>, kube::Error> {
        get(&self.client, &self.request.path, query, accept).await
    }

    /// Start fetching a list page on its own task: while it is on its way
    /// (and the server builds it), this task decodes the page before.
    fn prefetch(&self, continue_token: Option<&str>) -> Prefetch {
        let mut query = format!("limit={PAGE}");
        if let Some(token) = continue_token {
            query.push_str("&continue=");
            query.push_str(&encode_query(token));
        }
        let (client, path) = (self.client.clone(), self.request.path.clone());
        let accept = self.request.accept(true);
        Prefetch(tokio::spawn(async move {
            let response = get(&client, &path, &query, &accept).await?;
            body_of(response).await
        }))
    }

    /// The whole list, page by page: Init, InitApply…, InitDone. The list's resourceVersion,
    /// or `Err(Gone)` when the receiver went away.
    async fn list(&self, listed: &Listed) -> Result<Result<String, Gone>, Error> {
        if self.emit(Event::Init).await.is_err() {
            return Ok(Err(Gone));
        }
        let mut next = self.prefetch(None);
        loop {
            let body = next.body().await.map_err(Error::InitialListFailed)?;
            let invalid = |e: kpb::Error| Error::InitialListFailed(WireError::from(e).into());
            let page = ListPage::parse(&body).map_err(invalid)?;
            let continue_token = page.meta.continue_.as_deref().filter(|c| !c.is_empty());
            if let Some(token) = continue_token {
                next = self.prefetch(Some(token));
            }
            // Decoding a page is milliseconds of CPU: in slices, letting the
            // worker run the I/O of the page being fetched in between (held
            // up, it delays the chain of pages the whole list waits on).
            let mut items = Vec::with_capacity(page.len());
            for start in (0..page.len()).step_by(DECODE_SLICE) {
                items.extend(
                    page.items_in::<K>(start..page.len().min(start + DECODE_SLICE))
                        .map_err(invalid)?,
                );
                tokio::task::yield_now().await;
            }
            if self
                .emit_all(items.into_iter().map(Event::InitApply))
                .await
                .is_err()
            {
                return Ok(Err(Gone));
            }
            if continue_token.is_none() {
                let resource_version = page
                    .meta
                    .resource_version
                    .clone()
                    .ok_or(Error::NoResourceVersion)?;
                *listed.lock().unwrap_or_else(|p| p.into_inner()) = Some(resource_version.clone());
                if self.emit(Event::InitDone).await.is_err() {
                    return Ok(Err(Gone));
                }
                return Ok(Ok(resource_version));
            }
        }
    }

    /// One watch request until the server ends it: the last resourceVersion
    /// seen, or None when the receiver went away. While `unconfirmed` (a
    /// resumed watch), its first event that is not an ERROR, or
    /// [`RESUME_QUIET`] without any, is preceded by InitDone.
    async fn watch(&self, from: &str, unconfirmed: &mut bool) -> Result<Option<String>, Error> {
        let query = format!(
            "watch=true&resourceVersion={}&allowWatchBookmarks=true&timeoutSeconds={}",
            encode_query(from),
            self.watch_timeout_seconds
        );
        let accept = self.request.accept(false);
        let response = self
            .get(&query, &accept)
            .await
            .map_err(Error::WatchStartFailed)?;
        let mut body = response.into_body().into_data_stream();
        let mut frames = FrameReader::default();
        let mut last = from.to_string();
        loop {
            let chunk = if *unconfirmed {
                match tokio::time::timeout(RESUME_QUIET, body.next()).await {
                    Ok(chunk) => chunk,
                    Err(_) => {
                        *unconfirmed = false;
                        if self.emit(Event::InitDone).await.is_err() {
                            return Ok(None);
                        }
                        continue;
                    }
                }
            } else {
                body.next().await
            };
            let Some(chunk) = chunk else {
                break;
            };
            // kube's watcher treats a stream cut mid-way as its end and
            // resumes; so do we. A silent one is dead (`watch_body_error`).
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => match watch_body_error(&error) {
                    Some(error) => return Err(error),
                    None => break,
                },
            };
            frames.push(&chunk);
            while let Some(frame) = frames
                .next_frame()
                .map_err(|e| Error::WatchFailed(WireError::from(e).into()))?
            {
                match self.event(&frame, &mut last, unconfirmed).await? {
                    Ok(()) => {}
                    Err(Gone) => return Ok(None),
                }
            }
        }
        Ok(Some(last))
    }

    async fn event(
        &self,
        frame: &[u8],
        last: &mut String,
        unconfirmed: &mut bool,
    ) -> Result<Result<(), Gone>, Error> {
        let bad = |e: kpb::Error| Error::WatchFailed(WireError::from(e).into());
        let event = WatchEvent::parse(frame).map_err(bad)?;
        let envelope = Envelope::parse(event.object).map_err(bad)?;
        if event.kind == "ERROR" {
            let status: Status = kpb::decode(kpb::status(), envelope.raw).map_err(bad)?;
            return Err(Error::WatchError(Box::new(status)));
        }
        if std::mem::take(unconfirmed) && self.emit(Event::InitDone).await.is_err() {
            return Ok(Err(Gone));
        }
        let ty = envelope.message_type().map_err(bad)?;
        let mut object = || -> Result<K, Error> {
            let object = K::from_protobuf(ty, envelope.raw, envelope.api_version, envelope.kind)
                .map_err(bad)?;
            if let Some(rv) = &object.meta().resource_version {
                last.clone_from(rv);
            }
            Ok(object)
        };
        let sent = match event.kind {
            "ADDED" | "MODIFIED" => self.emit(Event::Apply(object()?)).await,
            "DELETED" => self.emit(Event::Delete(object()?)).await,
            "BOOKMARK" => match bookmark_resource_version(ty, envelope.raw).map_err(bad)? {
                Some(rv) => {
                    last.clone_from(&rv);
                    self.tx.send(Batch::Bookmark(rv)).await.map_err(|_| Gone)
                }
                None => Ok(()),
            },
            other => {
                return Err(Error::WatchFailed(
                    WireError::UnknownEvent(other.to_string()).into(),
                ));
            }
        };
        Ok(sent)
    }
}

/// A GET of `path?query`, checked ([`checked`]).
async fn get(
    client: &Client,
    path: &str,
    query: &str,
    accept: &str,
) -> Result<http::Response<kube::client::Body>, kube::Error> {
    let request = http::Request::get(format!("{path}?{query}"))
        .header(http::header::ACCEPT, accept)
        .body(kube::client::Body::empty())
        .map_err(WireError::from)?;
    checked(client.send(request).await?).await
}

/// A whole response body.
pub(crate) async fn body_of(
    response: http::Response<kube::client::Body>,
) -> Result<Bytes, kube::Error> {
    Ok(response
        .into_body()
        .collect()
        .await
        .map_err(|e| WireError::Body(crate::errors::error_chain(&e)))?
        .to_bytes())
}

/// Check the status and content type of a response; error bodies become `Status`.
async fn checked(
    response: http::Response<kube::client::Body>,
) -> Result<http::Response<kube::client::Body>, kube::Error> {
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let code = response.status().as_u16();
    if response.status().is_success() {
        if !content_type.starts_with(kpb::MEDIA_TYPE) {
            return Err(WireError::NotProtobuf { content_type }.into());
        }
        return Ok(response);
    }
    let body = body_of(response).await?;
    Err(kube::Error::Api(Box::new(decode_status(
        code,
        &content_type,
        body.as_ref(),
    ))))
}

/// A list page being fetched; dropped, it stops.
struct Prefetch(tokio::task::JoinHandle<Result<Bytes, kube::Error>>);

impl Prefetch {
    async fn body(&mut self) -> Result<Bytes, kube::Error> {
        (&mut self.0).await.map_err(WireError::from)?
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Percent-encode a query value (continue tokens are base64url, but be safe).
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_end_themselves_before_the_silence_counts() {
        let seconds = |read_timeout: u64| {
            Wire {
                encoding: Encoding::Protobuf,
                read_timeout: std::time::Duration::from_secs(read_timeout),
            }
            .watch_timeout_seconds()
        };
        // kube's watcher: timeoutSeconds=290, taken as dead at 295.
        assert_eq!(Wire::default().watch_timeout_seconds(), 290);
        assert_eq!(seconds(3600), 290);
        assert_eq!(seconds(60), 58);
        assert_eq!(seconds(4), 3);
        assert_eq!(seconds(2), 1);
        for read_timeout in 2..400 {
            assert!(u64::from(seconds(read_timeout)) < read_timeout);
        }
    }

    #[test]
    fn only_a_timed_out_read_is_a_dead_connection() {
        let timed_out = std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out");
        assert!(matches!(
            watch_body_error(&timed_out),
            Some(Error::WatchFailed(_))
        ));
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(watch_body_error(&reset).is_none());
    }
}
