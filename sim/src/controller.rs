//! The little of kube-controller-manager and the kubelet that makes a write
//! visible the way it is on a real cluster:
//!
//! - a Deployment's pod template whose annotations change (what `rollout
//!   restart` does) rolls out a new ReplicaSet; its old ones scale to zero;
//! - a ReplicaSet keeps `spec.replicas` pods: new ones start at once, extra
//!   ones are deleted with their grace period, and a deleted pod is replaced;
//! - a StatefulSet keeps pods `NAME-0` … `NAME-(N-1)`, recreating a pod only
//!   once the old one of that name is gone, and on a template change
//!   replaces them one by one from the highest ordinal;
//! - a created Job gets its selector, labels and one running pod;
//! - a deleted object's dependents (ownerReferences) are deleted
//!   (background garbage collection);
//! - a pod deleted with a grace period is Terminating until its containers
//!   stop, after `min(grace, Server::pod_stop)`.
//!
//! Pods start Running and Ready at once: there is no scheduler or image pull.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::resources::Resource;
use crate::seed::{Owner, format_ts};
use crate::server::Server;
use crate::store::StoreError;

fn resource(plural: &str) -> Option<&'static Resource> {
    Resource::by_plural(plural)
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

fn now() -> String {
    format_ts(jiff::Timestamp::now())
}

/// `matchLabels` as a selector string, `a=b,c=d`.
pub fn selector_text(selector: &Value) -> String {
    selector["matchLabels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", text(v)))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// The objects of `plural` in `namespace` that `owner_uid` controls.
fn owned(server: &Server, plural: &str, namespace: &str, owner_uid: &str) -> Vec<Value> {
    let Some(resource) = resource(plural) else {
        return Vec::new();
    };
    let (_, items) = server.store.list(resource, Some(namespace));
    items
        .iter()
        // Most objects do not mention the uid at all: skip decoding them.
        .filter(|obj| std::str::from_utf8(&obj.item()).is_ok_and(|s| s.contains(owner_uid)))
        .map(|obj| obj.value())
        .filter(|value| {
            value["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["uid"] == owner_uid)
        })
        .collect()
}

fn terminating(value: &Value) -> bool {
    !value["metadata"]["deletionTimestamp"].is_null()
}

fn lock_generator(server: &Server) -> std::sync::MutexGuard<'_, crate::seed::Generator> {
    server.generator.lock().unwrap_or_else(|p| p.into_inner())
}

/// A pod for `owner` from its pod `template`: the template's containers,
/// labels and annotations, every container running since now.
fn make_pod(
    server: &Server,
    namespace: &str,
    owner: &Owner,
    template: &Value,
    name: Option<String>,
) -> Value {
    let mut pod = lock_generator(server).started_pod(namespace, owner);
    schedule(server, &mut pod);
    if let Some(name) = name {
        pod["metadata"]["name"] = Value::String(name);
    }
    if let Some(annotations) = template["metadata"]["annotations"].as_object() {
        pod["metadata"]["annotations"] = Value::Object(annotations.clone());
    }
    if let Some(containers) = template["spec"]["containers"]
        .as_array()
        .filter(|c| !c.is_empty())
    {
        let started = now();
        let statuses: Vec<Value> = containers
            .iter()
            .map(|c| {
                let id = lock_generator(server).name_hash(12);
                json!({
                    "name": c["name"], "state": {"running": {"startedAt": started}}, "lastState": {},
                    "ready": true, "restartCount": 0, "image": c["image"], "imageID": "",
                    "containerID": format!("containerd://{id}"), "started": true,
                })
            })
            .collect();
        pod["spec"]["containers"] = Value::Array(containers.clone());
        pod["status"]["containerStatuses"] = Value::Array(statuses);
        if let Some(status) = pod["status"].as_object_mut() {
            status.remove("initContainerStatuses");
        }
        if let Some(spec) = pod["spec"].as_object_mut() {
            spec.remove("initContainers");
        }
    }
    pod
}

/// The scheduler's one rule the sim keeps: no new pod on a cordoned node.
fn schedule(server: &Server, pod: &mut Value) {
    let Some(nodes) = resource("nodes") else {
        return;
    };
    let (_, items) = server.store.list(nodes, None);
    let cordoned = |name: &str| {
        items.iter().any(|n| {
            n.key.1 == name && {
                let node = n.value();
                node["spec"]["unschedulable"] == true
            }
        })
    };
    let current = text(&pod["spec"]["nodeName"]).to_string();
    if current.is_empty() || !cordoned(&current) {
        return;
    }
    let open: Vec<&str> = items
        .iter()
        .map(|n| n.key.1.as_str())
        .filter(|name| !cordoned(name))
        .collect();
    if let Some(node) = open.get(lock_generator(server).pick(open.len())) {
        pod["spec"]["nodeName"] = Value::String((*node).to_string());
    }
}

fn owner_of(kind: &'static str, object: &Value, labels: &Value) -> Owner {
    Owner {
        kind,
        name: text(&object["metadata"]["name"]).to_string(),
        uid: text(&object["metadata"]["uid"]).to_string(),
        labels: labels
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), text(v).to_string()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn replicas(object: &Value) -> i64 {
    object["spec"]["replicas"].as_i64().unwrap_or(1).max(0)
}

/// Store a status (or other controller-owned) change without reacting to it.
fn store_quietly(server: &Server, plural: &str, value: Value) -> Option<Value> {
    server
        .store
        .update(resource(plural)?, value)
        .ok()
        .map(|obj| obj.value())
}

/// Before a create is stored: what the API server's defaulting and the
/// job controller's admission add.
pub fn admit(_server: &Arc<Server>, resource: &Resource, mut value: Value) -> Value {
    if resource.plural == "jobs" && resource.group == "batch" {
        let uid = text(&value["metadata"]["uid"]).to_string();
        let name = text(&value["metadata"]["name"]).to_string();
        let labels = json!({
            "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
            "controller-uid": uid, "job-name": name,
        });
        if value["spec"]["selector"].is_null() {
            value["spec"]["selector"] =
                json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
        }
        crate::write::merge_patch(
            &mut value["spec"]["template"]["metadata"]["labels"],
            &labels,
        );
        crate::write::merge_patch(&mut value["metadata"]["labels"], &labels);
    }
    value
}

/// After a create: a job starts its pod.
pub fn created(server: &Arc<Server>, resource: &Resource, value: &Value) {
    if resource.plural == "jobs" && resource.group == "batch" {
        let namespace = text(&value["metadata"]["namespace"]).to_string();
        let template = &value["spec"]["template"];
        let owner = owner_of("Job", value, &template["metadata"]["labels"]);
        let name = format!("{}-{}", owner.name, lock_generator(server).name_hash(5));
        let pod = make_pod(server, &namespace, &owner, template, Some(name));
        if let Some(pods) = crate::resources::Resource::by_plural("pods") {
            let _ = server.store.create(pods, pod);
        }
        let mut job = value.clone();
        job["status"] = json!({"active": 1, "startTime": now(), "ready": 1, "terminating": 0,
            "uncountedTerminatedPods": {}});
        store_quietly(server, "jobs", job);
    }
}

/// After an update: the controllers of workloads reconcile.
pub fn updated(server: &Arc<Server>, resource: &Resource, old: &Value, new: &Value) {
    if old["spec"] == new["spec"] {
        return;
    }
    match (resource.group, resource.plural) {
        ("apps", "deployments") => reconcile_deployment(server, new),
        ("apps", "replicasets") => reconcile_replica_set(server, new),
        ("apps", "statefulsets") => {
            let restart = old["spec"]["template"] != new["spec"]["template"];
            reconcile_stateful_set(server, new, restart);
        }
        _ => {}
    }
}

fn annotations(template: &Value) -> Value {
    match &template["metadata"]["annotations"] {
        Value::Object(map) if !map.is_empty() => Value::Object(map.clone()),
        _ => json!({}),
    }
}

fn reconcile_deployment(server: &Arc<Server>, deploy: &Value) {
    let namespace = text(&deploy["metadata"]["namespace"]).to_string();
    let uid = text(&deploy["metadata"]["uid"]).to_string();
    let template = &deploy["spec"]["template"];
    let mut sets = owned(server, "replicasets", &namespace, &uid);
    sets.sort_by_key(|rs| {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .as_str()
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0)
    });
    let revision = sets.len() as i64 + 1;
    let current = sets
        .iter()
        .rposition(|rs| annotations(&rs["spec"]["template"]) == annotations(template));
    let desired = replicas(deploy);
    for (index, rs) in sets.iter().enumerate() {
        if Some(index) != current && replicas(rs) != 0 {
            let mut rs = rs.clone();
            rs["spec"]["replicas"] = json!(0);
            if let Some(rs) = store_quietly(server, "replicasets", rs) {
                reconcile_replica_set(server, &rs);
            }
        }
    }
    let current = match current {
        Some(index) => {
            let mut rs = sets[index].clone();
            if replicas(&rs) != desired {
                rs["spec"]["replicas"] = json!(desired);
                rs = store_quietly(server, "replicasets", rs).unwrap_or_default();
            }
            rs
        }
        None => new_replica_set(server, deploy, revision, desired).unwrap_or_default(),
    };
    if current.is_object() {
        reconcile_replica_set(server, &current);
    }
    let mut deploy = deploy.clone();
    deploy["status"]["replicas"] = json!(desired);
    deploy["status"]["updatedReplicas"] = json!(desired);
    deploy["status"]["readyReplicas"] = json!(desired);
    deploy["status"]["availableReplicas"] = json!(desired);
    deploy["status"]["observedGeneration"] = deploy["metadata"]["generation"].clone();
    if desired == 0
        && let Some(status) = deploy["status"].as_object_mut()
    {
        status.remove("readyReplicas");
        status.remove("availableReplicas");
    }
    store_quietly(server, "deployments", deploy);
}

fn new_replica_set(
    server: &Arc<Server>,
    deploy: &Value,
    revision: i64,
    desired: i64,
) -> Option<Value> {
    let name = text(&deploy["metadata"]["name"]);
    let hash = lock_generator(server).name_hash(10);
    let mut template = deploy["spec"]["template"].clone();
    template["metadata"]["labels"]["pod-template-hash"] = Value::String(hash.clone());
    let mut selector = deploy["spec"]["selector"].clone();
    selector["matchLabels"]["pod-template-hash"] = Value::String(hash.clone());
    let uid = lock_generator(server).uid();
    let rs = json!({
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": deploy["metadata"]["namespace"],
            "uid": uid,
            "generation": 1,
            "creationTimestamp": now(),
            "labels": template["metadata"]["labels"],
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                "deployment.kubernetes.io/max-replicas": (desired + 1).to_string(),
                "deployment.kubernetes.io/revision": revision.to_string(),
            },
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                "uid": deploy["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": {"replicas": desired, "selector": selector, "template": template},
        "status": {"replicas": 0, "observedGeneration": 1},
    });
    server
        .store
        .create(resource("replicasets")?, rs)
        .ok()
        .map(|obj| obj.value())
}

fn reconcile_replica_set(server: &Arc<Server>, rs: &Value) {
    let namespace = text(&rs["metadata"]["namespace"]).to_string();
    let uid = text(&rs["metadata"]["uid"]).to_string();
    let desired = replicas(rs) as usize;
    let mut pods: Vec<Value> = owned(server, "pods", &namespace, &uid)
        .into_iter()
        .filter(|p| !terminating(p))
        .collect();
    let template = &rs["spec"]["template"];
    let owner = owner_of("ReplicaSet", rs, &template["metadata"]["labels"]);
    let Some(pods_resource) = resource("pods") else {
        return;
    };
    while pods.len() < desired {
        let pod = make_pod(server, &namespace, &owner, template, None);
        match server.store.create(pods_resource, pod) {
            Ok(obj) => pods.push(obj.value()),
            Err(_) => break,
        }
    }
    // Newest first, as the ReplicaSet controller prefers to delete.
    pods.sort_by(|a, b| {
        text(&b["metadata"]["creationTimestamp"]).cmp(text(&a["metadata"]["creationTimestamp"]))
    });
    while pods.len() > desired {
        let pod = pods.remove(0);
        let grace = pod["spec"]["terminationGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(30);
        let _ = terminate(server, &pod, grace);
    }
    let mut rs = rs.clone();
    let count = json!(desired);
    rs["status"]["replicas"] = count.clone();
    rs["status"]["fullyLabeledReplicas"] = count.clone();
    rs["status"]["readyReplicas"] = count.clone();
    rs["status"]["availableReplicas"] = count;
    rs["status"]["observedGeneration"] = rs["metadata"]["generation"].clone();
    store_quietly(server, "replicasets", rs);
}

fn reconcile_stateful_set(server: &Arc<Server>, sts: &Value, restart: bool) {
    let namespace = text(&sts["metadata"]["namespace"]).to_string();
    let name = text(&sts["metadata"]["name"]).to_string();
    let uid = text(&sts["metadata"]["uid"]).to_string();
    let desired = replicas(sts);
    let Some(pods_resource) = resource("pods") else {
        return;
    };
    let pods = owned(server, "pods", &namespace, &uid);
    let ordinal = |pod: &Value| -> Option<i64> {
        text(&pod["metadata"]["name"])
            .strip_prefix(&format!("{name}-"))
            .and_then(|n| n.parse().ok())
    };
    // Scale down: the highest ordinals go.
    for pod in &pods {
        if ordinal(pod).is_some_and(|o| o >= desired) && !terminating(pod) {
            let grace = pod["spec"]["terminationGracePeriodSeconds"]
                .as_i64()
                .unwrap_or(30);
            let _ = terminate(server, pod, grace);
        }
    }
    let template = sts["spec"]["template"].clone();
    let owner = owner_of("StatefulSet", sts, &template["metadata"]["labels"]);
    for o in 0..desired {
        let key = (namespace.clone(), format!("{name}-{o}"));
        if server.store.get(pods_resource, &key).is_none() {
            let pod = make_pod(server, &namespace, &owner, &template, Some(key.1));
            let _ = server.store.create(pods_resource, pod);
        }
    }
    if restart {
        // One pod at a time from the highest ordinal: delete it, wait until
        // it is gone, start its successor.
        let server = server.clone();
        tokio::spawn(async move {
            for o in (0..desired).rev() {
                let key = (namespace.clone(), format!("{name}-{o}"));
                let Some(old) = server.store.get(pods_resource, &key) else {
                    continue;
                };
                let old = old.value();
                let grace = old["spec"]["terminationGracePeriodSeconds"]
                    .as_i64()
                    .unwrap_or(30);
                // Subscribed before the delete, so its change is not missed.
                let mut changes = server.store.subscribe();
                let _ = terminate(&server, &old, grace);
                while server
                    .store
                    .get(pods_resource, &key)
                    .is_some_and(|p| p.uid == text(&old["metadata"]["uid"]))
                {
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) =
                        changes.recv().await
                    {
                        return;
                    }
                }
                if server.store.get(pods_resource, &key).is_none() {
                    let pod = make_pod(&server, &namespace, &owner, &template, Some(key.1.clone()));
                    let _ = server.store.create(pods_resource, pod);
                }
            }
        });
    }
    let mut sts = sts.clone();
    sts["status"]["replicas"] = json!(desired);
    sts["status"]["readyReplicas"] = json!(desired);
    sts["status"]["currentReplicas"] = json!(desired);
    sts["status"]["updatedReplicas"] = json!(desired);
    sts["status"]["availableReplicas"] = json!(desired);
    sts["status"]["observedGeneration"] = sts["metadata"]["generation"].clone();
    store_quietly(server, "statefulsets", sts);
}

/// Mark `pod` Terminating, and have the kubelet remove it once its
/// containers stopped. Its ReplicaSet replaces it at once (a terminating
/// pod no longer counts), its StatefulSet once it is gone.
pub fn terminate(server: &Arc<Server>, pod: &Value, grace: i64) -> Result<Value, StoreError> {
    let Some(pods) = resource("pods") else {
        return Err(StoreError::NoName);
    };
    let key = (
        text(&pod["metadata"]["namespace"]).to_string(),
        text(&pod["metadata"]["name"]).to_string(),
    );
    let Some(current) = server.store.get(pods, &key).map(|obj| obj.value()) else {
        return Err(StoreError::NotFound(pods.plural, key));
    };
    if terminating(&current) {
        return Ok(current);
    }
    let mut marked = current;
    let at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(grace))
        .unwrap_or_else(|_| jiff::Timestamp::now());
    marked["metadata"]["deletionTimestamp"] = Value::String(format_ts(at));
    marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    let stored = server.store.update(pods, marked)?.value();
    let stop = server
        .pod_stop
        .min(std::time::Duration::from_secs(grace.max(0) as u64));
    let (server_for_kubelet, uid) = (server.clone(), text(&pod["metadata"]["uid"]).to_string());
    let last = stored.clone();
    tokio::spawn(async move {
        tokio::time::sleep(stop).await;
        let server = server_for_kubelet;
        if server.store.get(pods, &key).is_some_and(|p| p.uid == uid)
            && server.store.delete(pods, &key).is_ok()
        {
            pod_gone(&server, &last);
        }
    });
    Ok(stored)
}

/// A user deleted `pod` (it is Terminating or gone): its ReplicaSet
/// replaces it at once, as a terminating pod no longer counts.
pub fn pod_deleted(server: &Arc<Server>, pod: &Value) {
    reconcile_owner(server, pod, "ReplicaSet");
}

/// The controller owning `object` of kind `kind`, if any.
fn controller_of(server: &Server, object: &Value, kind: &str) -> Option<Value> {
    let reference = object["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true && r["kind"] == kind)?;
    let plural = match kind {
        "ReplicaSet" => "replicasets",
        "StatefulSet" => "statefulsets",
        _ => return None,
    };
    let key = (
        text(&object["metadata"]["namespace"]).to_string(),
        text(&reference["name"]).to_string(),
    );
    let owner = server.store.get(resource(plural)?, &key)?;
    (owner.uid == text(&reference["uid"])).then(|| owner.value())
}

fn reconcile_owner(server: &Arc<Server>, pod: &Value, kind: &str) {
    match (kind, controller_of(server, pod, kind)) {
        ("ReplicaSet", Some(rs)) => reconcile_replica_set(server, &rs),
        ("StatefulSet", Some(sts)) => reconcile_stateful_set(server, &sts, false),
        _ => {}
    }
}

/// After a pod is gone: its controller makes up for it.
pub fn pod_gone(server: &Arc<Server>, pod: &Value) {
    reconcile_owner(server, pod, "ReplicaSet");
    reconcile_owner(server, pod, "StatefulSet");
}

/// Delete what `owner` (just deleted) owned, as the garbage collector does.
pub fn collect_dependents(server: &Arc<Server>, owner: &Value) {
    let namespace = text(&owner["metadata"]["namespace"]).to_string();
    let uid = text(&owner["metadata"]["uid"]).to_string();
    if text(&owner["metadata"]["name"]).is_empty() {
        return;
    }
    if namespace.is_empty() || uid.is_empty() {
        return;
    }
    for plural in ["replicasets", "jobs", "pods"] {
        let Some(resource) = resource(plural) else {
            continue;
        };
        for dependent in owned(server, plural, &namespace, &uid) {
            if plural == "pods" {
                let grace = dependent["spec"]["terminationGracePeriodSeconds"]
                    .as_i64()
                    .unwrap_or(30);
                let _ = terminate(server, &dependent, grace);
            } else {
                let key = (
                    namespace.clone(),
                    text(&dependent["metadata"]["name"]).to_string(),
                );
                if server.store.delete(resource, &key).is_ok() {
                    collect_dependents(server, &dependent);
                }
            }
        }
    }
}

/// A PodDisruptionBudget the eviction subresource honours. The sim does not
/// serve PodDisruptionBudgets as an API (nothing of theirs was recorded to
/// be faithful to); tests install them with `POST /sim/pdbs`.
#[derive(Debug, Clone)]
pub struct Budget {
    pub namespace: String,
    pub name: String,
    /// matchLabels.
    pub selector: std::collections::BTreeMap<String, String>,
    pub min_available: Option<i64>,
    pub max_unavailable: Option<i64>,
}

impl Budget {
    fn selects(&self, pod: &Value) -> bool {
        text(&pod["metadata"]["namespace"]) == self.namespace
            && self
                .selector
                .iter()
                .all(|(k, v)| pod["metadata"]["labels"][k].as_str() == Some(v.as_str()))
    }
}

/// Running and Ready, and not on its way out: what a budget counts.
fn healthy(pod: &Value) -> bool {
    !terminating(pod)
        && pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// `POST …/pods/{name}/eviction`: refused with the API server's 429 when a
/// budget would be broken (pkg/registry/core/pod/storage/eviction.go: "The
/// disruption budget %s needs %d healthy pods and has %d currently"), else
/// the pod is deleted with its grace period (201).
pub fn evict(server: &Arc<Server>, namespace: &str, name: &str) -> axum::response::Response {
    use crate::server::{failure, json_response};
    let Some(pods) = resource("pods") else {
        return failure(500, "InternalError", "no pods resource", None, None);
    };
    let key = (namespace.to_string(), name.to_string());
    let Some(obj) = server.store.get(pods, &key) else {
        let details = format!(
            "{{\"name\":{},\"kind\":\"pods\"}}",
            crate::server::quote(name)
        );
        return failure(
            404,
            "NotFound",
            &format!("pods {} not found", crate::server::quote(name)),
            Some(&details),
            None,
        );
    };
    let pod = obj.value();
    if healthy(&pod) {
        let budgets: Vec<Budget> = server
            .budgets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|b| b.selects(&pod))
            .cloned()
            .collect();
        if !budgets.is_empty() {
            let (_, items) = server.store.list(pods, Some(namespace));
            let all: Vec<Value> = items.iter().map(|o| o.value()).collect();
            for budget in budgets {
                let matching: Vec<&Value> = all
                    .iter()
                    .filter(|p| budget.selects(p) && !terminating(p))
                    .collect();
                let current = matching.iter().filter(|p| healthy(p)).count() as i64;
                let desired = match (budget.min_available, budget.max_unavailable) {
                    (Some(min), _) => min,
                    (None, Some(max)) => (matching.len() as i64 - max).max(0),
                    (None, None) => 0,
                };
                if current - 1 < desired {
                    let cause = format!(
                        "The disruption budget {} needs {desired} healthy pods and has {current} currently",
                        budget.name
                    );
                    let details = format!(
                        "{{\"causes\":[{{\"reason\":\"DisruptionBudget\",\"message\":{}}}]}}",
                        crate::server::quote(&cause)
                    );
                    return failure(
                        429,
                        "TooManyRequests",
                        "Cannot evict pod as it would violate the pod's disruption budget.",
                        Some(&details),
                        None,
                    );
                }
            }
        }
    }
    let grace = pod["spec"]["terminationGracePeriodSeconds"]
        .as_i64()
        .unwrap_or(30);
    if let Err(error) = terminate(server, &pod, grace) {
        return failure(500, "InternalError", &error.to_string(), None, None);
    }
    pod_deleted(server, &pod);
    let mut response = json_response(&json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201
    }));
    *response.status_mut() = axum::http::StatusCode::CREATED;
    response
}
