//! metrics.k8s.io as metrics-server serves it: PodMetrics of every running
//! pod (one entry per container) and NodeMetrics of every node, as lists
//! (`GET /apis/metrics.k8s.io/v1beta1/pods`, `…/namespaces/NS/pods`,
//! `…/nodes`). Values are plausible and change every 15 seconds (metrics-
//! server's resolution): a per-container base from its pod's uid, plus a
//! swing that differs in each 15-second window. A node's use is the sum of
//! its pods' plus the system's. `--no-metrics` turns it all off (404 and no
//! discovery entry), as a cluster without metrics-server.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::resources::Resource;
use crate::store::Store;

/// The API group and version metrics-server serves.
pub const GROUP_VERSION: &str = "metrics.k8s.io/v1beta1";
/// The window metrics-server reports.
const WINDOW_SECONDS: i64 = 15;

/// The aggregated-discovery entry of the group (apidiscovery.k8s.io/v2).
pub fn aggregated_group() -> Value {
    json!({
        "metadata": {"name": "metrics.k8s.io", "creationTimestamp": null},
        "versions": [{
            "version": "v1beta1",
            "resources": [
                {"resource": "nodes", "responseKind": {"group": "", "version": "", "kind": "NodeMetrics"},
                 "scope": "Cluster", "singularResource": "", "verbs": ["get", "list"]},
                {"resource": "pods", "responseKind": {"group": "", "version": "", "kind": "PodMetrics"},
                 "scope": "Namespaced", "singularResource": "", "verbs": ["get", "list"]}
            ],
            "freshness": "Current"
        }]
    })
}

/// The legacy discovery entry of the group (`/apis`).
pub fn legacy_group() -> Value {
    json!({
        "name": "metrics.k8s.io",
        "versions": [{"groupVersion": GROUP_VERSION, "version": "v1beta1"}],
        "preferredVersion": {"groupVersion": GROUP_VERSION, "version": "v1beta1"}
    })
}

/// `/apis/metrics.k8s.io/v1beta1`.
pub fn resource_list() -> Value {
    json!({
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION,
        "resources": [
            {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]}
        ]
    })
}

fn hash(parts: &[&str], salt: u64) -> u64 {
    // FNV-1a: stable across runs and builds.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// One container's use in the window `bucket`: (nanocores, KiB).
fn container_use(uid: &str, container: &str, bucket: i64) -> (u64, u64) {
    let base = hash(&[uid, container], 1);
    let swing = hash(&[uid, container], bucket as u64);
    let cpu_milli = 1 + base % 120 + swing % 25;
    let cpu_nanos = cpu_milli * 1_000_000 + swing % 1_000_000;
    let memory_kib = (16 + base % 300 + swing % 20) * 1024 + swing % 1024;
    (cpu_nanos, memory_kib)
}

/// One window's metrics of the whole cluster, as metrics-server keeps its
/// last scrape: computed once per 15-second window.
#[derive(Default)]
pub struct Cache {
    last: std::sync::Mutex<Option<(i64, Lists)>>,
}

/// A window's PodMetricsList and NodeMetricsList.
type Lists = std::sync::Arc<(Value, Value)>;

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

/// The answer to a metrics.k8s.io path (`rest` after the group version),
/// or None when the path is not one metrics-server serves.
pub fn respond(store: &Store, cache: &Cache, rest: &str, now: jiff::Timestamp) -> Option<Value> {
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let namespace = match segments.as_slice() {
        ["pods"] | ["nodes"] => None,
        ["namespaces", ns, "pods"] => Some(*ns),
        _ => return None,
    };
    let bucket = now.as_second() / WINDOW_SECONDS;
    let lists = {
        let mut last = cache.last.lock().unwrap_or_else(|p| p.into_inner());
        match last.as_ref() {
            Some((at, lists)) if *at == bucket => lists.clone(),
            _ => {
                let lists = std::sync::Arc::new(compute(store, bucket, now)?);
                *last = Some((bucket, lists.clone()));
                lists
            }
        }
    };
    let (pods, nodes) = &*lists;
    if segments.last() == Some(&"nodes") {
        return Some(nodes.clone());
    }
    let mut list = pods.clone();
    if let (Some(ns), Some(items)) = (namespace, list["items"].as_array_mut()) {
        items.retain(|item| item["metadata"]["namespace"] == ns);
    }
    Some(list)
}

/// The PodMetricsList and NodeMetricsList of the window `bucket`.
fn compute(store: &Store, bucket: i64, now: jiff::Timestamp) -> Option<(Value, Value)> {
    let pods_in: Option<Option<&str>> = Some(None);
    let timestamp = jiff::Timestamp::from_second(bucket * WINDOW_SECONDS)
        .unwrap_or(now)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let pods = Resource::by_plural("pods")?;
    let mut pod_items = Vec::new();
    let mut per_node: HashMap<String, (u64, u64)> = HashMap::new();
    for obj in &store.snapshot(pods, None).items {
        // Only the fields metrics-server reports on, not the whole pod.
        let Ok(pod) = serde_json::from_slice::<PodFields>(&obj.item()) else {
            continue;
        };
        if pod.status.phase.as_deref() != Some("Running") {
            continue;
        }
        let mut containers = Vec::new();
        for c in &pod.spec.containers {
            let (cpu, memory) = container_use(&pod.metadata.uid, &c.name, bucket);
            if let Some(node) = &pod.spec.node_name {
                let entry = per_node.entry(node.clone()).or_default();
                entry.0 += cpu;
                entry.1 += memory;
            }
            containers.push(json!({"name": c.name, "usage": {"cpu": format!("{cpu}n"), "memory": format!("{memory}Ki")}}));
        }
        let namespace = pod.metadata.namespace.as_str();
        if pods_in.is_some_and(|want| want.is_some_and(|ns| ns != namespace)) {
            continue;
        }
        let mut metadata = json!({
            "name": pod.metadata.name, "namespace": namespace,
            "creationTimestamp": format_now(now),
        });
        if let Some(labels) = &pod.metadata.labels {
            metadata["labels"] = labels.clone();
        }
        pod_items.push(json!({
            "metadata": metadata, "timestamp": timestamp, "window": "15s", "containers": containers
        }));
    }
    let pod_list = json!({
        "kind": "PodMetricsList", "apiVersion": GROUP_VERSION,
        "metadata": {}, "items": pod_items
    });
    let node_resource = Resource::by_plural("nodes")?;
    let mut node_items = Vec::new();
    for obj in &store.snapshot(node_resource, None).items {
        let node = obj.value();
        let name = node["metadata"]["name"].as_str().unwrap_or("");
        let (pods_cpu, pods_memory) = per_node.get(name).copied().unwrap_or_default();
        let (system_cpu, system_memory) = container_use(name, "system", bucket);
        let cpu = pods_cpu + system_cpu * 2;
        let memory = pods_memory + system_memory * 4;
        let mut metadata = json!({"name": name, "creationTimestamp": format_now(now)});
        if let Some(labels) = node["metadata"].get("labels") {
            metadata["labels"] = labels.clone();
        }
        node_items.push(json!({
            "metadata": metadata, "timestamp": timestamp, "window": "20.05s",
            "usage": {"cpu": format!("{cpu}n"), "memory": format!("{memory}Ki")}
        }));
    }
    let node_list = json!({
        "kind": "NodeMetricsList", "apiVersion": GROUP_VERSION,
        "metadata": {}, "items": node_items
    });
    Some((pod_list, node_list))
}

/// The fields of a pod metrics-server reports on.
#[derive(serde::Deserialize)]
struct PodFields {
    metadata: Meta,
    #[serde(default)]
    spec: Spec,
    #[serde(default)]
    status: Status,
}

#[derive(serde::Deserialize)]
struct Meta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    uid: String,
    labels: Option<Value>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    containers: Vec<Named>,
    node_name: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct Named {
    #[serde(default)]
    name: String,
}

#[derive(serde::Deserialize, Default)]
struct Status {
    phase: Option<String>,
}

fn format_now(now: jiff::Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
