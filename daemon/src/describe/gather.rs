//! What a describe reads from the caches besides the object itself: the
//! object's events (the events cache starts on the first describe), the pods
//! a controller owns, the replica sets of a deployment, a secret's key count.
//! Rows are narrowed by namespace and labels before any kept object is
//! decoded, so a describe decodes only the objects it may print.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use super::Related;
use crate::cluster::Cluster;
use crate::row::Row;
use crate::selector::Selector;
use crate::status::SyncState;
use crate::store::Store;

/// How long a describe waits for the events cache to load.
pub const EVENTS_WAIT: Duration = Duration::from_secs(5);

/// What a describe gathered, and what it could not.
#[derive(Debug, Default)]
pub struct Gathered {
    /// The objects around the described one.
    pub related: Related,
    /// What the description may lack, in words for the user.
    pub notes: Vec<String>,
}

/// Gather what describing `object` (of `group`/`plural`) needs.
pub async fn gather(cluster: &Cluster, group: &str, plural: &str, object: &Value) -> Gathered {
    let mut gathered = Gathered::default();
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let uid = object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let selector = object
        .pointer("/spec/selector")
        .cloned()
        .and_then(|s| serde_json::from_value::<LabelSelector>(s).ok());
    if !matches!(plural, "secrets" | "namespaces") {
        gathered.related.events =
            Some(events(cluster, &namespace, &uid, &mut gathered.notes).await);
    }
    match (group, plural) {
        ("apps", "replicasets" | "daemonsets" | "statefulsets") => {
            gathered.related.pods = objects(cluster, "pods", &namespace, selector.as_ref()).await;
        }
        ("", "persistentvolumeclaims") => {
            gathered.related.pods = objects(cluster, "pods", &namespace, None).await;
        }
        ("", "services") => {
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let by_service = LabelSelector {
                match_labels: Some(
                    [(
                        super::network::SERVICE_NAME_LABEL.to_string(),
                        name.to_string(),
                    )]
                    .into(),
                ),
                ..LabelSelector::default()
            };
            no_slices_note(cluster, &mut gathered.notes).await;
            gathered.related.endpoint_slices =
                objects(cluster, "endpointslices", &namespace, Some(&by_service)).await;
        }
        ("networking.k8s.io", "ingresses") => {
            no_slices_note(cluster, &mut gathered.notes).await;
            gathered.related.services = objects(cluster, "services", &namespace, None).await;
            gathered.related.endpoint_slices =
                objects(cluster, "endpointslices", &namespace, None).await;
        }
        ("apps", "deployments") => {
            gathered.related.replica_sets =
                objects::<ReplicaSet>(cluster, "replicasets", &namespace, selector.as_ref()).await;
        }
        _ => {}
    }
    gathered
}

/// Say so when the cluster serves no EndpointSlices (endpoints are `<none>`).
async fn no_slices_note(cluster: &Cluster, notes: &mut Vec<String>) {
    if cluster.resolve("endpointslices").await.is_err() {
        notes.push("this cluster serves no EndpointSlices: endpoints show as <none>".into());
    }
}

/// Wait until `store` has finished its first load (or failed), up to
/// `timeout`; its status then.
pub async fn wait_loaded(store: &Store, timeout: Duration) -> crate::status::SyncStatus {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let status = store.status();
        let loading = matches!(status.state, SyncState::Loading | SyncState::Pending);
        if !loading || tokio::time::Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The events whose involved object has `uid`, from the events cache,
/// waiting up to `EVENTS_WAIT` for it to load.
async fn events(
    cluster: &Cluster,
    namespace: &str,
    uid: &str,
    notes: &mut Vec<String>,
) -> Vec<Event> {
    let Ok(kind) = cluster.resolve("events").await else {
        notes.push("this cluster serves no events: the Events section is empty".into());
        return Vec::new();
    };
    let store = cluster.open(&kind).await;
    let _in_use = store.begin_use();
    let state = wait_loaded(&store, EVENTS_WAIT).await;
    match state.state {
        SyncState::Synced => {}
        SyncState::Loading => notes.push(format!(
            "the events cache is still loading ({} so far): the Events section may be incomplete",
            state.objects
        )),
        _ => notes.push(format!(
            "the events cache is {:?}: {}",
            state.state, state.message
        )),
    }
    let uid = uid.to_string();
    // Cluster-scoped objects have their events in other namespaces.
    let namespace = (!namespace.is_empty()).then(|| namespace.to_string());
    let store = Arc::clone(&store);
    tokio::task::spawn_blocking(move || {
        decode_rows(&store, namespace.as_deref(), |_| true)
            .into_iter()
            .filter(|e: &Value| {
                e.pointer("/involvedObject/uid").and_then(Value::as_str) == Some(uid.as_str())
            })
            .filter_map(|e| serde_json::from_value(e).ok())
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// The cached objects of `plural` in `namespace` whose labels match
/// `selector` (all of them when there is none).
async fn objects<T: serde::de::DeserializeOwned + Send + 'static>(
    cluster: &Cluster,
    plural: &str,
    namespace: &str,
    selector: Option<&LabelSelector>,
) -> Vec<T> {
    let Ok(kind) = cluster.resolve(plural).await else {
        return Vec::new();
    };
    let store = cluster.open(&kind).await;
    let _in_use = store.begin_use();
    let selector = match selector {
        Some(s) => match Selector::parse(&super::workloads::selector_string(Some(s))) {
            Ok(parsed) => Some(parsed),
            Err(_) => return Vec::new(),
        },
        None => None,
    };
    let namespace = namespace.to_string();
    let (api_version, kind_name) = {
        let spec = kind.spec();
        let version = if spec.group.is_empty() {
            spec.version.clone()
        } else {
            format!("{}/{}", spec.group, spec.version)
        };
        (version, spec.kind.clone())
    };
    tokio::task::spawn_blocking(move || {
        let matches = |row: &Row| {
            selector.as_ref().is_none_or(|s| {
                s.matches(|key| {
                    row.labels
                        .binary_search_by(|(k, _)| k.as_str().cmp(key))
                        .ok()
                        .map(|i| row.labels[i].1.as_str())
                })
            })
        };
        decode_rows(&store, Some(&namespace), matches)
            .into_iter()
            .filter_map(|mut v| {
                if let Some(map) = v.as_object_mut() {
                    map.insert("apiVersion".into(), Value::from(api_version.clone()));
                    map.insert("kind".into(), Value::from(kind_name.clone()));
                }
                serde_json::from_value(v).ok()
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// Decode the kept objects of the rows in `namespace` (every namespace for
/// `None`) that pass `keep`. The rows are copied out first so the store's
/// lock is not held while objects are decoded.
fn decode_rows(store: &Store, namespace: Option<&str>, keep: impl Fn(&Row) -> bool) -> Vec<Value> {
    let rows: Vec<Arc<Row>> = {
        let view = store.view();
        view.rows()
            .filter(|r| namespace.is_none_or(|ns| &*r.namespace == ns))
            .filter(|r| keep(r))
            .cloned()
            .collect()
    };
    rows.iter()
        .filter_map(|row| store.codec().decompress(&row.object).ok())
        .filter_map(|json| serde_json::from_slice(&json).ok())
        .collect()
}
