//! The simulated cluster's state: objects per resource, a global
//! resourceVersion, a bounded history of changes (older resourceVersions are
//! "compacted" and answered with 410 Gone), snapshots that serve paged lists
//! consistently, and a broadcast of live changes for watches.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::pack::{self, Form, Packers};
use crate::resources::Resource;

/// (namespace, name); namespace is "" for cluster-scoped objects.
pub type Key = (String, String);

/// One stored object, kept serialized.
#[derive(Debug)]
pub struct Obj {
    /// Where it lives.
    pub key: Key,
    /// metadata.uid.
    pub uid: String,
    /// metadata.resourceVersion.
    pub rv: u64,
    /// The object as a list item: JSON without kind and apiVersion.
    item: Form,
    /// metadata alone, for metadata-only (PartialObjectMetadata) answers.
    meta: Form,
    /// The object as a protobuf message, made on first use.
    protobuf: std::sync::OnceLock<Form>,
    /// The PartialObjectMetadata message, made on first use.
    protobuf_meta: std::sync::OnceLock<Form>,
    /// Where its forms are kept (packed or whole).
    packers: Arc<Packers>,
}

impl Obj {
    /// The object decoded again, for churn and tests. Only the serialized
    /// forms are kept: a decoded `Value` per version of every object in the
    /// history cost gigabytes at 100,000 pods.
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.item()).unwrap_or_default()
    }

    /// The object as a list item: JSON without kind and apiVersion.
    pub fn item(&self) -> Bytes {
        self.item.bytes()
    }

    /// metadata alone, for metadata-only (PartialObjectMetadata) answers.
    pub fn meta(&self) -> Bytes {
        self.meta.bytes()
    }

    /// The object's protobuf message (its kind's message, or
    /// PartialObjectMetadata when `metadata`), encoded once and kept.
    pub fn protobuf(&self, resource: &Resource, metadata: bool) -> Result<Bytes, ProtobufError> {
        let (cell, kind, form) = if metadata {
            (
                &self.protobuf_meta,
                "PartialObjectMetadata",
                pack::Kind::ProtobufMeta,
            )
        } else {
            (&self.protobuf, resource.kind, pack::Kind::Protobuf)
        };
        if let Some(kept) = cell.get() {
            return Ok(kept.bytes());
        }
        let api_version = if metadata {
            "meta.k8s.io/v1".to_string()
        } else {
            resource.api_version()
        };
        let ty = crate::gopb::message_name(&api_version, kind).ok_or_else(|| {
            ProtobufError::NoSchema {
                api_version: api_version.clone(),
                kind: kind.to_string(),
            }
        })?;
        let value: Value = if metadata {
            serde_json::json!({ "metadata": serde_json::from_slice::<Value>(&self.meta())? })
        } else {
            serde_json::from_slice(&self.item())?
        };
        let bytes = Bytes::from(crate::gopb::encode(ty, &value)?);
        let _ = cell.set(self.packers.keep(resource.plural, form, bytes.clone()));
        Ok(bytes)
    }
}

/// Why an object has no protobuf form.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    /// No Go type (custom resources).
    #[error("{kind} ({api_version}) has no protobuf schema")]
    NoSchema {
        /// The object's apiVersion.
        api_version: String,
        /// The object's kind.
        kind: String,
    },
    /// The object does not fit its Go type.
    #[error("the object does not fit its Go type: {0}")]
    DoesNotFit(#[from] crate::gopb::Error),
    /// The kept JSON does not parse.
    #[error("the kept JSON does not parse: {0}")]
    Json(#[from] serde_json::Error),
}

/// Watch event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// ADDED.
    Added,
    /// MODIFIED.
    Modified,
    /// DELETED.
    Deleted,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches replay it.
#[derive(Debug)]
pub struct Change {
    /// The resourceVersion of the change.
    pub rv: u64,
    /// Which resource.
    pub resource: &'static Resource,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (for DELETED: its last state, new resourceVersion).
    pub obj: Arc<Obj>,
}

/// A consistent list for paging: items in key order at one resourceVersion.
#[derive(Debug)]
pub struct Snapshot {
    /// The list's resourceVersion.
    pub rv: u64,
    /// Items in key order.
    pub items: Vec<Arc<Obj>>,
    created: Instant,
}

impl Snapshot {
    /// A snapshot of `items` at `rv`.
    pub fn new(rv: u64, items: Vec<Arc<Obj>>) -> Snapshot {
        Snapshot {
            rv,
            items,
            created: Instant::now(),
        }
    }
}

/// Errors of mutations.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object has no metadata.name.
    #[error("object has no metadata.name")]
    NoName,
    /// Create of an existing object.
    #[error("{0} {1:?} already exists")]
    AlreadyExists(&'static str, Key),
    /// Update or delete of a missing object.
    #[error("{0} {1:?} not found")]
    NotFound(&'static str, Key),
    /// An update made from an older version than the stored one.
    #[error("{0} {1:?} has been modified")]
    Conflict(&'static str, Key),
}

#[derive(Debug, Default)]
struct State {
    rv: u64,
    objects: HashMap<&'static str, BTreeMap<Key, Arc<Obj>>>,
    history: VecDeque<Arc<Change>>,
    /// Watches from a resourceVersion below this get 410 Gone.
    compacted: u64,
    snapshots: HashMap<(&'static str, String, u64), Arc<Snapshot>>,
}

/// The shared state of the simulated cluster.
#[derive(Debug)]
pub struct Store {
    state: Mutex<State>,
    changes: broadcast::Sender<Arc<Change>>,
    history_limit: usize,
    packers: Arc<Packers>,
}

fn key_of(value: &Value) -> Result<Key, StoreError> {
    let meta = &value["metadata"];
    let name = meta["name"].as_str().ok_or(StoreError::NoName)?;
    Ok((
        meta["namespace"].as_str().unwrap_or_default().to_string(),
        name.to_string(),
    ))
}

impl Store {
    /// An empty cluster keeping `history_limit` changes for watch resumption.
    pub fn new(history_limit: usize) -> Store {
        Store::packing(history_limit, false)
    }

    /// An empty cluster that keeps its objects packed ([`crate::pack`]) when `pack`.
    pub fn packing(history_limit: usize, pack: bool) -> Store {
        let state = State {
            rv: 1000,
            ..State::default()
        };
        Store {
            state: Mutex::new(state),
            changes: broadcast::channel(8192).0,
            history_limit: history_limit.max(1),
            packers: Arc::new(Packers::new(pack)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribe to live changes.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.changes.subscribe()
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// The oldest resourceVersion a watch may resume from.
    pub fn compacted(&self) -> u64 {
        self.lock().compacted
    }

    fn serialize(&self, resource: &'static Resource, mut value: Value, rv: u64) -> Obj {
        let key = key_of(&value).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.remove("kind");
            map.remove("apiVersion");
        }
        value["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let uid = value["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let item = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let meta = Bytes::from(serde_json::to_vec(&value["metadata"]).unwrap_or_default());
        let packers = &self.packers;
        Obj {
            key,
            uid,
            rv,
            item: packers.keep(resource.plural, pack::Kind::Item, item),
            meta: packers.keep(resource.plural, pack::Kind::Meta, meta),
            protobuf: std::sync::OnceLock::new(),
            protobuf_meta: std::sync::OnceLock::new(),
            packers: packers.clone(),
        }
    }

    fn record(
        &self,
        state: &mut State,
        resource: &'static Resource,
        kind: EventType,
        obj: Arc<Obj>,
    ) {
        let change = Arc::new(Change {
            rv: obj.rv,
            resource,
            kind,
            obj,
        });
        state.history.push_back(change.clone());
        while state.history.len() > self.history_limit {
            if let Some(old) = state.history.pop_front() {
                state.compacted = state.compacted.max(old.rv);
            }
        }
        // Nobody listening is fine.
        let _ = self.changes.send(change);
    }

    /// Create an object (metadata.uid and creationTimestamp must be set by the caller).
    pub fn create(
        &self,
        resource: &'static Resource,
        value: Value,
    ) -> Result<Arc<Obj>, StoreError> {
        self.put(resource, value, EventType::Added)
    }

    /// Replace an object.
    pub fn update(
        &self,
        resource: &'static Resource,
        value: Value,
    ) -> Result<Arc<Obj>, StoreError> {
        self.put(resource, value, EventType::Modified)
    }

    /// Replace an object only if it is still at resourceVersion `expected`
    /// (`None`: whatever it is at), as an update carrying a
    /// resourceVersion is checked by the API server.
    pub fn update_from(
        &self,
        resource: &'static Resource,
        value: Value,
        expected: Option<u64>,
    ) -> Result<Arc<Obj>, StoreError> {
        self.put_checked(resource, value, EventType::Modified, expected)
    }

    /// Store a new object (`Added`, which must not exist) or a new version of one (`Modified`).
    fn put(
        &self,
        resource: &'static Resource,
        value: Value,
        kind: EventType,
    ) -> Result<Arc<Obj>, StoreError> {
        self.put_checked(resource, value, kind, None)
    }

    fn put_checked(
        &self,
        resource: &'static Resource,
        value: Value,
        kind: EventType,
        expected: Option<u64>,
    ) -> Result<Arc<Obj>, StoreError> {
        let key = key_of(&value)?;
        let mut state = self.lock();
        let current = state
            .objects
            .get(resource.plural)
            .and_then(|m| m.get(&key))
            .map(|obj| obj.rv);
        if let (Some(expected), Some(current)) = (expected, current)
            && expected != current
        {
            return Err(StoreError::Conflict(resource.plural, key));
        }
        let exists = current.is_some();
        match kind {
            EventType::Added if exists => {
                return Err(StoreError::AlreadyExists(resource.plural, key));
            }
            EventType::Modified if !exists => {
                return Err(StoreError::NotFound(resource.plural, key));
            }
            _ => {}
        }
        state.rv += 1;
        let obj = Arc::new(self.serialize(resource, value, state.rv));
        state
            .objects
            .entry(resource.plural)
            .or_default()
            .insert(key, obj.clone());
        self.record(&mut state, resource, kind, obj.clone());
        Ok(obj)
    }

    /// Delete an object.
    pub fn delete(&self, resource: &'static Resource, key: &Key) -> Result<(), StoreError> {
        let mut state = self.lock();
        let removed = state
            .objects
            .get_mut(resource.plural)
            .and_then(|m| m.remove(key));
        let Some(last) = removed else {
            return Err(StoreError::NotFound(resource.plural, key.clone()));
        };
        state.rv += 1;
        let obj = Arc::new(self.serialize(resource, last.value(), state.rv));
        self.record(&mut state, resource, EventType::Deleted, obj);
        Ok(())
    }

    /// One object.
    pub fn get(&self, resource: &'static Resource, key: &Key) -> Option<Arc<Obj>> {
        self.lock()
            .objects
            .get(resource.plural)
            .and_then(|m| m.get(key))
            .cloned()
    }

    /// Every object of a resource (in one namespace, or all), in key order.
    pub fn list(
        &self,
        resource: &'static Resource,
        namespace: Option<&str>,
    ) -> (u64, Vec<Arc<Obj>>) {
        let state = self.lock();
        (state.rv, Self::items(&state, resource, namespace))
    }

    fn items(state: &State, resource: &'static Resource, namespace: Option<&str>) -> Vec<Arc<Obj>> {
        let Some(map) = state.objects.get(resource.plural) else {
            return Vec::new();
        };
        match namespace {
            None => map.values().cloned().collect(),
            Some(ns) => {
                let start = (ns.to_string(), String::new());
                let end = (format!("{ns}\u{0}"), String::new());
                map.range((Bound::Included(start), Bound::Excluded(end)))
                    .map(|(_, v)| v.clone())
                    .collect()
            }
        }
    }

    /// A snapshot for a paged list, kept so later pages see the same state.
    pub fn snapshot(&self, resource: &'static Resource, namespace: Option<&str>) -> Arc<Snapshot> {
        let mut state = self.lock();
        let items = Self::items(&state, resource, namespace);
        let snapshot = Arc::new(Snapshot {
            rv: state.rv,
            items,
            created: Instant::now(),
        });
        // Continue tokens live for a few minutes, like etcd's compaction window.
        state
            .snapshots
            .retain(|_, s| s.created.elapsed().as_secs() < 300);
        if state.snapshots.len() > 64 {
            state.snapshots.clear();
        }
        let scope = namespace.unwrap_or_default().to_string();
        state
            .snapshots
            .insert((resource.plural, scope, snapshot.rv), snapshot.clone());
        snapshot
    }

    /// The snapshot a continue token refers to, if it is still kept and not compacted.
    pub fn find_snapshot(
        &self,
        resource: &'static Resource,
        namespace: Option<&str>,
        rv: u64,
    ) -> Option<Arc<Snapshot>> {
        let state = self.lock();
        if rv < state.compacted {
            return None;
        }
        state
            .snapshots
            .get(&(
                resource.plural,
                namespace.unwrap_or_default().to_string(),
                rv,
            ))
            .cloned()
    }

    /// Changes of a resource after `rv`, or Err(current rv) if `rv` is compacted.
    pub fn changes_since(
        &self,
        resource: &'static Resource,
        rv: u64,
    ) -> Result<Vec<Arc<Change>>, u64> {
        let state = self.lock();
        if rv < state.compacted {
            return Err(state.rv);
        }
        Ok(state
            .history
            .iter()
            .filter(|c| c.rv > rv && c.resource.plural == resource.plural)
            .cloned()
            .collect())
    }

    /// Forget all history: every resourceVersion before now becomes too old
    /// (as etcd compaction does).
    pub fn compact(&self) {
        let mut state = self.lock();
        state.history.clear();
        state.compacted = state.rv;
        state.snapshots.clear();
    }

    /// Number of objects of a resource.
    pub fn count(&self, resource: &'static Resource) -> usize {
        self.lock()
            .objects
            .get(resource.plural)
            .map_or(0, BTreeMap::len)
    }

    /// Keys of every object of a resource.
    pub fn keys(&self, resource: &'static Resource) -> Vec<Key> {
        self.lock()
            .objects
            .get(resource.plural)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}
