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

/// EndpointSlices, as `from_server` reads them.
const SLICES: (&str, &str, &str) = ("discovery.k8s.io/v1", "endpointslices", "EndpointSlice");

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
            let selector = format!("{}={name}", super::network::SERVICE_NAME_LABEL);
            gathered.related.endpoint_slices = typed_items(
                from_server(cluster, SLICES, &namespace, &selector, &mut gathered.notes).await,
            );
        }
        ("networking.k8s.io", "ingresses") => {
            gathered.related.services = objects(cluster, "services", &namespace, None).await;
            gathered.related.endpoint_slices = typed_items(
                from_server(cluster, SLICES, &namespace, "", &mut gathered.notes).await,
            );
        }
        ("", "namespaces") => {
            // A namespace's own name is where its quotas and ranges live.
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let quotas = from_server(
                cluster,
                ("v1", "resourcequotas", "ResourceQuota"),
                &name,
                "",
                &mut gathered.notes,
            )
            .await;
            let ranges = from_server(
                cluster,
                ("v1", "limitranges", "LimitRange"),
                &name,
                "",
                &mut gathered.notes,
            )
            .await;
            gathered.related.resource_quotas = quotas.map(|items| typed_items(Some(items)));
            gathered.related.limit_ranges = ranges.map(|items| typed_items(Some(items)));
        }
        ("apps", "deployments") => {
            gathered.related.replica_sets =
                objects::<ReplicaSet>(cluster, "replicasets", &namespace, selector.as_ref()).await;
        }
        _ => {}
    }
    gathered
}

/// Objects the caches do not keep in full (a kind watched as the server's
/// Table keeps metadata only): read from the API server, as kubectl does
/// for a describe. `None`, with a note, when they could not be listed.
async fn from_server(
    cluster: &Cluster,
    (api_version, plural, kind): (&str, &str, &str),
    namespace: &str,
    label_selector: &str,
    notes: &mut Vec<String>,
) -> Option<Vec<Value>> {
    let prefix = if api_version == "v1" {
        "/api/v1".to_string()
    } else {
        format!("/apis/{api_version}")
    };
    let mut path = format!("{prefix}/namespaces/{namespace}/{plural}");
    if !label_selector.is_empty() {
        let encoded: String = label_selector
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                other => format!("%{other:02X}"),
            })
            .collect();
        path.push_str(&format!("?labelSelector={encoded}"));
    }
    let request = http::Request::get(&path)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .ok()?;
    match cluster.client().request::<Value>(request).await {
        Ok(list) => Some(items_of(&list, api_version, kind)),
        Err(error) => {
            let why = match &error {
                kube::Error::Api(status) => status.message.clone(),
                other => other.to_string(),
            };
            notes.push(format!("{plural} could not be listed ({why}): left out"));
            None
        }
    }
}

/// The items of a list, each given the `apiVersion` and `kind` a list's
/// items lack and k8s-openapi wants.
fn items_of(list: &Value, api_version: &str, kind: &str) -> Vec<Value> {
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut item| {
            if let Some(map) = item.as_object_mut() {
                map.insert("apiVersion".into(), Value::from(api_version));
                map.insert("kind".into(), Value::from(kind));
            }
            item
        })
        .collect()
}

/// Items of a list as typed objects (those that do not decode are skipped).
fn typed_items<T: serde::de::DeserializeOwned>(items: Option<Vec<Value>>) -> Vec<T> {
    items
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

/// Wait until `store` has finished its first load (or failed), up to
/// `timeout`; its status then.
pub async fn wait_loaded(store: &Store, timeout: Duration) -> crate::status::SyncStatus {
    let deadline = tokio::time::Instant::now() + timeout;
    // Every row or status change of the store wakes this: no polling.
    let mut changes = store.subscribe();
    loop {
        let status = store.status();
        if !matches!(status.state, SyncState::Loading | SyncState::Pending) {
            return status;
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            // Timed out, or the store is gone: its status as it is.
            _ => return store.status(),
        }
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
    let selector = match selector {
        Some(s) => match Selector::parse(&super::workloads::selector_string(Some(s))) {
            Ok(parsed) => Some(parsed),
            Err(_) => return Vec::new(),
        },
        None => None,
    };
    selected(cluster, &kind, Some(namespace), selector).await
}

/// The cached objects of `kind` in `namespace` (every namespace for
/// `None`) that `selector` matches (all of them for `None`), typed.
pub async fn selected<T: serde::de::DeserializeOwned + Send + 'static>(
    cluster: &Cluster,
    kind: &crate::catalog::Kind,
    namespace: Option<&str>,
    selector: Option<Selector>,
) -> Vec<T> {
    let store = cluster.open(kind).await;
    let _in_use = store.begin_use();
    let namespace = namespace.map(str::to_string);
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
            selector
                .as_ref()
                .is_none_or(|s| s.matches(|key| row.label(key)))
        };
        decode_rows(&store, namespace.as_deref(), matches)
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

#[cfg(test)]
mod tests {
    use k8s_openapi::api::discovery::v1::EndpointSlice;

    use super::*;

    #[test]
    fn a_recorded_endpointslice_list_decodes_with_its_endpoints() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/other-kinds/list/endpointslices.json"
        ));
        let mut list: Value = serde_json::from_str(text).expect("JSON");
        // As the API server sends a list: items without apiVersion and kind.
        for item in list["items"].as_array_mut().into_iter().flatten() {
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
        }
        let recorded = list["items"].as_array().map_or(0, Vec::len);
        let slices: Vec<EndpointSlice> = typed_items(Some(items_of(&list, SLICES.0, SLICES.2)));
        assert!(recorded > 0);
        assert_eq!(slices.len(), recorded);
        assert!(
            slices
                .iter()
                .any(|s| s.endpoints.as_ref().is_some_and(|e| !e.is_empty()))
        );
    }
}
