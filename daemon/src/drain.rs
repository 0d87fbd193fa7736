//! `kubectl drain`: cordon the node, choose its pods as kubectl does
//! (DaemonSet-managed ones only with `--ignore-daemonsets`, pods no
//! controller manages only with `--force`, pods with emptyDir volumes only
//! with `--delete-emptydir-data`, mirror pods never), evict them all at once
//! through the eviction API — which honours PodDisruptionBudgets: a 429 is
//! retried every 5 s until the timeout — and wait until they are gone.
//! Progress is kubectl's lines.

use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use http_body_util::BodyExt as _;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};
use timoneiro_proto::v1;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tonic::Status;

use crate::catalog::KindSpec;
use crate::cluster::Cluster;
use crate::store::Store;

/// How long kubectl waits before evicting again after a 429.
pub const RETRY: Duration = Duration::from_secs(5);
/// The annotation of a static pod's mirror.
const MIRROR: &str = "kubernetes.io/config.mirror";

/// kubectl drain's flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub ignore_daemonsets: bool,
    pub delete_emptydir_data: bool,
    pub force: bool,
    pub timeout: Option<Duration>,
}

type Out = mpsc::Sender<Result<v1::DrainProgress, Status>>;

async fn say(out: &Out, line: String) {
    let _ = out.send(Ok(v1::DrainProgress { line })).await;
}

fn place(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or("")
    )
}

/// The pods to evict, what to warn about, and what stops the drain, as
/// kubectl's filters decide.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub evict: Vec<String>,
    pub warnings: Vec<String>,
    pub blockers: Vec<String>,
}

/// Sort `pods` (of one node) as kubectl drain does.
pub fn plan(pods: &[Pod], options: Options) -> Plan {
    let mut evict = Vec::new();
    let (mut daemon_sets, mut unmanaged, mut local) = (Vec::new(), Vec::new(), Vec::new());
    for pod in pods {
        let annotations = pod.metadata.annotations.as_ref();
        if annotations.is_some_and(|a| a.contains_key(MIRROR)) {
            continue;
        }
        let finished = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|p| p == "Succeeded" || p == "Failed");
        let controller = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true));
        if !finished {
            if controller.is_some_and(|c| c.kind == "DaemonSet") {
                daemon_sets.push(place(pod));
                continue;
            }
            if controller.is_none() {
                unmanaged.push(place(pod));
            }
            let empty_dir = pod
                .spec
                .as_ref()
                .and_then(|s| s.volumes.as_ref())
                .is_some_and(|v| v.iter().any(|v| v.empty_dir.is_some()));
            if empty_dir {
                local.push(place(pod));
            }
        }
        evict.push(place(pod));
    }
    let mut plan = Plan {
        evict,
        ..Plan::default()
    };
    let mut check = |pods: Vec<String>, allowed: bool, warning: &str, refusal: &str| {
        if pods.is_empty() {
            return;
        }
        let list = pods.join(", ");
        if allowed {
            plan.warnings.push(format!("{warning}: {list}"));
        } else {
            plan.blockers.push(format!("{refusal}: {list}"));
        }
    };
    check(
        daemon_sets,
        options.ignore_daemonsets,
        "Warning: ignoring DaemonSet-managed Pods",
        "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
    );
    check(
        unmanaged,
        options.force,
        "Warning: deleting Pods that declare no controller",
        "cannot delete Pods that declare no controller (use --force to override)",
    );
    check(
        local,
        options.delete_emptydir_data,
        "Warning: deleting Pods with local storage",
        "cannot delete Pods with local storage (use --delete-emptydir-data to override)",
    );
    plan
}

/// The Status of a refused request: its message and its causes' messages
/// (a 429 names the budget there).
fn refusal(body: &[u8]) -> String {
    let status: Value = serde_json::from_slice(body).unwrap_or_default();
    let mut message = status["message"].as_str().unwrap_or("").to_string();
    let causes: Vec<&str> = status["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["message"].as_str())
        .collect();
    if !causes.is_empty() {
        message.push_str(&format!(" ({})", causes.join("; ")));
    }
    message
}

/// POST the Eviction; (status code, body).
async fn post_eviction(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<(u16, Vec<u8>), String> {
    let body = json!({
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
    });
    let request = http::Request::post(format!(
        "/api/v1/namespaces/{namespace}/pods/{name}/eviction"
    ))
    .header(http::header::CONTENT_TYPE, "application/json")
    .body(kube::client::Body::from(
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
    .map_err(|e| e.to_string())?;
    let response = cluster
        .client()
        .send(request)
        .await
        .map_err(|e| e.to_string())?;
    let code = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    Ok((code, bytes))
}

/// Wait until the pods cache no longer holds `uid` at `namespace/name`:
/// the watch brings the deletion, nothing polls the API server. False when
/// the deadline came first.
async fn gone(
    store: &Store,
    namespace: &str,
    name: &str,
    uid: &str,
    deadline: Option<Instant>,
) -> bool {
    let mut changes = store.subscribe();
    loop {
        let present = store
            .view()
            .find(namespace, name)
            .is_some_and(|row| row.uid == crate::row::Uid::new(uid));
        if !present {
            return true;
        }
        let changed = match deadline {
            Some(deadline) => {
                tokio::time::timeout_at(deadline, changes.changed())
                    .await
                    .unwrap_or(Ok(()))
                    .is_ok()
                    && Instant::now() < deadline
            }
            None => changes.changed().await.is_ok(),
        };
        if !changed {
            return false;
        }
    }
}

/// Evict one pod and wait until it is gone.
async fn evict(
    cluster: &Cluster,
    store: &Store,
    place: &str,
    uid: &str,
    deadline: Option<Instant>,
    timeout: &str,
    out: &Out,
) -> Result<(), String> {
    let (namespace, name) = place.split_once('/').unwrap_or(("", place));
    say(out, format!("evicting pod {place}")).await;
    let mut told = false;
    loop {
        let (code, body) = post_eviction(cluster, namespace, name).await?;
        match code {
            200..=299 | 404 => break,
            429 => {
                let why = refusal(&body);
                if !told {
                    say(
                        out,
                        format!(
                            "error when evicting pods/\"{name}\" -n \"{namespace}\" (will retry after 5s): {why}"
                        ),
                    )
                    .await;
                    told = true;
                }
                if deadline.is_some_and(|d| Instant::now() + RETRY > d) {
                    if let Some(deadline) = deadline {
                        tokio::time::sleep_until(deadline).await;
                    }
                    return Err(format!(
                        "error when evicting pods/\"{name}\" -n \"{namespace}\": global timeout reached: {timeout} ({why})"
                    ));
                }
                tokio::time::sleep(RETRY).await;
            }
            _ => {
                return Err(format!(
                    "error when evicting pods/\"{name}\" -n \"{namespace}\": {}",
                    refusal(&body)
                ));
            }
        }
    }
    if !gone(store, namespace, name, uid, deadline).await {
        return Err(format!(
            "error when waiting for pod \"{name}\" in namespace \"{namespace}\" to terminate: global timeout reached: {timeout}"
        ));
    }
    say(out, format!("pod/{name} evicted")).await;
    Ok(())
}

/// Drain `node`.
pub async fn run(
    cluster: &Cluster,
    nodes: &KindSpec,
    node: &str,
    options: Options,
    out: &Out,
) -> Result<(), Status> {
    let deadline = options.timeout.map(|t| Instant::now() + t);
    let timeout = options
        .timeout
        .map(|t| format!("{}s", t.as_secs()))
        .unwrap_or_default();
    say(
        out,
        crate::actions::cordon(cluster, nodes, node, true).await?,
    )
    .await;
    let (kind, store, _in_use, _) =
        crate::logs::loaded_pods(cluster, Duration::from_secs(10)).await?;
    let pods: Vec<Pod> = crate::describe::gather::selected(cluster, &kind, None, None)
        .await
        .into_iter()
        .filter(|p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
        .collect();
    let plan = plan(&pods, options);
    if !plan.blockers.is_empty() {
        return Err(Status::failed_precondition(format!(
            "unable to drain node {node:?}: {} (the node stays cordoned)",
            plan.blockers.join("; ")
        )));
    }
    for warning in plan.warnings {
        say(out, warning).await;
    }
    let uid_of = |place: &str| {
        pods.iter()
            .find(|p| self::place(p) == place)
            .and_then(|p| p.metadata.uid.clone())
            .unwrap_or_default()
    };
    let mut evictions: FuturesUnordered<_> = plan
        .evict
        .iter()
        .map(|place| {
            let uid = uid_of(place);
            let timeout = timeout.clone();
            let store = &store;
            async move { evict(cluster, store, place, &uid, deadline, &timeout, out).await }
        })
        .collect();
    let mut errors = Vec::new();
    while let Some(result) = evictions.next().await {
        if let Err(error) = result {
            errors.push(error);
        }
    }
    if !errors.is_empty() {
        return Err(Status::deadline_exceeded(format!(
            "unable to drain node {node:?} due to error: [{}] (the node stays cordoned)",
            errors.join(", ")
        )));
    }
    say(out, format!("node/{node} drained")).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded_pods() -> Vec<Pod> {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/list/pods.json"
        ));
        let list: Value = serde_json::from_str(text).expect("JSON");
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                let mut item = item.clone();
                item["apiVersion"] = "v1".into();
                item["kind"] = "Pod".into();
                serde_json::from_value(item).expect("pod")
            })
            .collect()
    }

    #[test]
    fn kubectls_filters_decide_what_is_evicted() {
        let pods = recorded_pods();
        let node_exporter = pods
            .iter()
            .find(|p| {
                p.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("node-exporter"))
            })
            .cloned()
            .expect("a DaemonSet pod");
        let debug = pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some("debug-shell"))
            .cloned()
            .expect("a pod without a controller");
        let web = pods
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some("web-57bd7f8bd7-hjnwk"))
            .cloned()
            .expect("a ReplicaSet's pod");
        let some = [node_exporter, debug, web];
        let strict = plan(&some, Options::default());
        assert_eq!(strict.blockers.len(), 2, "{strict:?}");
        assert!(strict.blockers[0].starts_with("cannot delete DaemonSet-managed Pods"));
        assert!(strict.blockers[1].starts_with("cannot delete Pods that declare no controller"));
        let lenient = plan(
            &some,
            Options {
                ignore_daemonsets: true,
                force: true,
                ..Options::default()
            },
        );
        assert!(lenient.blockers.is_empty(), "{lenient:?}");
        assert_eq!(
            lenient.evict.len(),
            2,
            "the DaemonSet pod stays: {lenient:?}"
        );
        assert_eq!(lenient.warnings.len(), 2);
    }

    #[test]
    fn a_refusal_names_its_budget() {
        let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Cannot evict pod as it would violate the pod's disruption budget.","reason":"TooManyRequests","details":{"causes":[{"reason":"DisruptionBudget","message":"The disruption budget web needs 3 healthy pods and has 3 currently"}]},"code":429}"#;
        assert_eq!(
            refusal(body),
            "Cannot evict pod as it would violate the pod's disruption budget. (The disruption budget web needs 3 healthy pods and has 3 currently)"
        );
    }
}
