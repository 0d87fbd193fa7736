//! A built-in kind, described once: its names, where the API server serves
//! it, its loading tier, kubectl's columns, and how its objects reach the
//! cache (the Rust type they decode into and the projection that makes
//! their rows). Each descriptor sits next to its projection in
//! `crate::project`; the catalog, the informers and the tests all read it
//! from [`crate::project::BUILTIN`].

use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use kube::core::NamespaceScope;
use kube::{Api, Client, Resource};
use tokio::sync::watch;

use crate::codec::ObjectCodec;
use crate::informer::{self, Annotations, Scope, Watched};
use crate::lean::Lean;
use crate::row::RowParts;
use crate::store::{RowLimit, Store};
use crate::table::TableRow;
use crate::wire::{Encoding, FromProtobuf, Wire};

/// Everything about one built-in kind.
pub struct Descriptor {
    /// Plural resource name, the path segment ("pods").
    pub plural: &'static str,
    /// Singular name ("pod").
    pub singular: &'static str,
    /// The object's kind ("Pod").
    pub kind: &'static str,
    /// API group ("" for core).
    pub group: &'static str,
    /// API version ("v1").
    pub version: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl's short names.
    pub short_names: &'static [&'static str],
    /// Loading tier: 1 at start (clients wait for it), 2 and 3 in the
    /// background once tier 1 is synced, 4 ([`crate::catalog::ON_DEMAND_TIER`]) on first use.
    pub tier: u32,
    /// kubectl prints NAME first (every kind but events, whose NAME is a wide column).
    pub name_first: bool,
    /// The columns after NAME, as `kubectl get` prints them.
    pub columns: &'static [Column],
    /// A bound on the rows kept (events only).
    pub row_limit: Option<RowLimit>,
    /// How objects are watched, decoded and projected.
    pub cache: &'static (dyn Cache + Sync),
}

impl std::fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Descriptor")
            .field("group", &self.group)
            .field("plural", &self.plural)
            .finish_non_exhaustive()
    }
}

/// One column after NAME.
#[derive(Debug)]
pub struct Column {
    /// Header, e.g. "READY".
    pub name: &'static str,
    /// Shown only with `-o wide`.
    pub wide: bool,
}

/// A column `kubectl get` always prints.
pub const fn col(name: &'static str) -> Column {
    Column { name, wide: false }
}

/// A column `kubectl get -o wide` adds.
pub const fn wide(name: &'static str) -> Column {
    Column { name, wide: true }
}

/// What an informer needs to start filling a kind's store.
pub struct Start {
    /// The cluster's client.
    pub client: Client,
    /// The store the informer fills.
    pub store: Arc<Store>,
    /// The namespaces to fall back to when RBAC forbids the cluster-wide list.
    pub namespaces: Arc<[String]>,
    /// How objects travel.
    pub wire: Wire,
    /// Set when the cluster shuts down.
    pub shutdown: watch::Receiver<bool>,
}

/// A body as the API server answers a list or a get, for decoding the way
/// the informer decodes (the golden tests feed recorded bodies through it).
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// A JSON list.
    Json(&'a [u8]),
    /// A protobuf list (`k8s\0` envelope).
    Protobuf(&'a [u8]),
    /// One object as JSON.
    JsonObject(&'a [u8]),
    /// One object as protobuf.
    ProtobufObject(&'a [u8]),
}

/// Why a body did not decode.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// JSON of another shape.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Protobuf of another shape.
    #[error(transparent)]
    Protobuf(#[from] timoneiro_kpb::Error),
    /// The kind is watched as the server's Table, which has no protobuf form.
    #[error("Tables do not travel as protobuf")]
    TableAsProtobuf,
    /// Not a Table of this kind.
    #[error("not a Table: {0}")]
    Table(String),
}

/// How a kind's objects reach the cache.
pub trait Cache {
    /// The informer of this kind, until shutdown.
    fn start(&self, start: Start) -> BoxFuture<'static, ()>;

    /// Each object of `body`, an answer about `kind`, as the informer keeps
    /// it: its row and its kept bytes (compressed by the codec it returns
    /// beside them).
    fn decode(
        &self,
        kind: &Descriptor,
        body: Body<'_>,
    ) -> Result<(Vec<RowParts>, ObjectCodec), DecodeError>;
}

/// A kind decoded into `K` and projected into rows, listed and watched
/// as its scope `S` says.
pub struct Typed<K, S> {
    project: fn(&K) -> RowParts,
    scope: PhantomData<S>,
}

impl<K, S> Typed<K, S> {
    /// Objects decoded into `K` and projected by `project`.
    pub const fn new(project: fn(&K) -> RowParts) -> Self {
        Typed {
            project,
            scope: PhantomData,
        }
    }
}

/// A namespaced kind (with the per-namespace fallback when RBAC forbids
/// the cluster-wide list).
pub type Namespaced<K> = Typed<K, InNamespaces>;

/// A cluster-scoped kind.
pub type ClusterScoped<K> = Typed<K, ClusterWide>;

/// Where a typed kind is listed and watched.
pub trait Scoping<K> {
    /// The informer's scope for the cluster-wide `all`.
    fn scope(all: Api<K>, namespaces: Arc<[String]>) -> Scope<K>;
}

/// In namespaces: cluster-wide, or namespace by namespace when forbidden.
#[derive(Debug)]
pub struct InNamespaces;

/// Cluster-wide only.
#[derive(Debug)]
pub struct ClusterWide;

impl<K> Scoping<K> for InNamespaces
where
    K: Resource + Clone + 'static,
    K::Scope: NamespaceScope,
{
    fn scope(all: Api<K>, namespaces: Arc<[String]>) -> Scope<K> {
        namespaced_scope(all, namespaces)
    }
}

impl<K> Scoping<K> for ClusterWide {
    fn scope(all: Api<K>, _: Arc<[String]>) -> Scope<K> {
        Scope::cluster(all)
    }
}

/// A namespaced kind watched as the API server's Table, each row with its
/// metadata only, the annotations in `annotations` (secrets: kubectl's TYPE
/// and DATA, and not one value).
pub struct ServerTable {
    project: fn(&TableRow) -> RowParts,
    annotations: Annotations,
}

impl ServerTable {
    /// Rows projected by `project`, keeping `annotations`.
    pub const fn new(project: fn(&TableRow) -> RowParts, annotations: Annotations) -> Self {
        ServerTable {
            project,
            annotations,
        }
    }
}

/// The per-namespace fallback of a namespaced kind's scope.
pub(crate) fn namespaced_scope<K>(all: Api<K>, namespaces: Arc<[String]>) -> Scope<K>
where
    K: Resource + Clone + 'static,
    K::Scope: NamespaceScope,
{
    let each = all.clone();
    Scope {
        all,
        in_namespace: Some(Box::new(move |ns: &str| each.clone().constrain(ns))),
        namespaces,
    }
}

/// A typed body's objects, decoded as the informer decodes them.
fn typed_objects<K>(body: Body<'_>) -> Result<Vec<Lean<K>>, DecodeError>
where
    Lean<K>: Watched,
{
    Ok(match body {
        Body::Json(text) => serde_json::from_slice::<kube::core::ObjectList<Lean<K>>>(text)?.items,
        Body::Protobuf(bytes) => crate::wire::decode_list::<Lean<K>>(bytes)?.1,
        Body::JsonObject(text) => vec![serde_json::from_slice::<Lean<K>>(text)?],
        Body::ProtobufObject(bytes) => {
            let envelope = timoneiro_kpb::Envelope::parse(bytes)?;
            vec![Lean::<K>::from_protobuf(
                envelope.message_type()?,
                envelope.raw,
                envelope.api_version,
                envelope.kind,
            )?]
        }
    })
}

/// Each object of a typed `body` projected by `project` and kept as the
/// informer keeps it, with the codec that compressed the kept bytes.
pub fn decode_typed<K>(
    project: impl Fn(&K) -> RowParts,
    body: Body<'_>,
) -> Result<(Vec<RowParts>, ObjectCodec), DecodeError>
where
    Lean<K>: Watched,
{
    let codec = ObjectCodec::new();
    codec.set_protobuf_json(Lean::<K>::protobuf_json);
    let rows = typed_objects::<K>(body)?
        .into_iter()
        .map(|item| {
            let lean = |item: &Lean<K>| project(&item.object);
            informer::row_parts(&lean, item, Annotations::All, &codec)
        })
        .collect();
    Ok((rows, codec))
}

impl<K, S> Cache for Typed<K, S>
where
    K: Send + Sync + 'static,
    S: Scoping<Lean<K>>,
    Lean<K>: Watched + Resource<DynamicType = ()>,
{
    fn start(&self, start: Start) -> BoxFuture<'static, ()> {
        let project = self.project;
        Box::pin(informer::run(
            S::scope(Api::<Lean<K>>::all(start.client), start.namespaces),
            start.store,
            move |object: &Lean<K>| project(&object.object),
            Annotations::All,
            start.wire,
            start.shutdown,
        ))
    }

    fn decode(
        &self,
        _: &Descriptor,
        body: Body<'_>,
    ) -> Result<(Vec<RowParts>, ObjectCodec), DecodeError> {
        decode_typed(self.project, body)
    }
}

impl Cache for ServerTable {
    fn start(&self, start: Start) -> BoxFuture<'static, ()> {
        let resource = start.store.kind().spec().api_resource();
        let all = Api::<TableRow>::all_with(start.client, &resource);
        Box::pin(informer::run(
            namespaced_scope(all, start.namespaces),
            start.store,
            self.project,
            self.annotations,
            Wire {
                encoding: Encoding::Table,
                ..start.wire
            },
            start.shutdown,
        ))
    }

    fn decode(
        &self,
        kind: &Descriptor,
        body: Body<'_>,
    ) -> Result<(Vec<RowParts>, ObjectCodec), DecodeError> {
        let text = match body {
            Body::Json(text) | Body::JsonObject(text) => text,
            Body::Protobuf(_) | Body::ProtobufObject(_) => {
                return Err(DecodeError::TableAsProtobuf);
            }
        };
        let api_version = crate::catalog::api_version(kind.group, kind.version);
        let rows =
            crate::table::list_rows(text, &api_version, kind.kind).map_err(DecodeError::Table)?;
        let codec = ObjectCodec::new();
        let rows = rows
            .into_iter()
            .map(|row| informer::row_parts(&self.project, row, self.annotations, &codec))
            .collect();
        Ok((rows, codec))
    }
}
