//! Pods: READY, STATUS (kubectl's reason logic), RESTARTS, AGE; wide IP,
//! NODE, NOMINATED NODE, READINESS GATES.

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};

use super::{age, millis, parts};
use crate::descriptor::{Descriptor, Namespaced, col, wide};
use crate::row::{Cell, RowParts};

/// kubectl's reason for pods on an unreachable node.
const NODE_UNREACHABLE_REASON: &str = "NodeLost";

/// Project a pod as `kubectl get pods` prints it.
pub fn pod(pod: &Pod) -> RowParts {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let init_containers: &[Container] = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();

    let mut restarts: i64 = 0;
    let mut sidecar_restarts: i64 = 0;
    let mut last_restart: i64 = 0;
    let mut last_sidecar_restart: i64 = 0;
    let mut ready = 0;
    let mut total = spec.map_or(0, |s| s.containers.len());

    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let status_reason = status.and_then(|s| s.reason.clone()).unwrap_or_default();
    let mut reason = if status_reason.is_empty() {
        phase
    } else {
        status_reason.clone()
    };

    if conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".to_string();
    }

    let is_sidecar = |name: &str| {
        init_containers
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };
    total += init_containers
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .count();

    let mut initializing = false;
    let init_statuses: &[ContainerStatus] = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    for (index, container) in init_statuses.iter().enumerate() {
        restarts += i64::from(container.restart_count);
        let last_terminated = last_termination(container);
        last_restart = last_restart.max(last_terminated);
        let sidecar = is_sidecar(&container.name);
        if sidecar {
            sidecar_restarts += i64::from(container.restart_count);
            last_sidecar_restart = last_sidecar_restart.max(last_terminated);
        }
        let state = container.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar && container.started == Some(true) {
            if container.ready {
                ready += 1;
            }
            continue;
        }
        if let Some(terminated) = terminated {
            reason = match terminated.reason.as_deref() {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ => match terminated.signal {
                    Some(signal) if signal != 0 => format!("Init:Signal:{signal}"),
                    _ => format!("Init:ExitCode:{}", terminated.exit_code),
                },
            };
        } else if let Some(r) = waiting
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{index}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions
        .iter()
        .any(|c| c.type_ == "Initialized" && c.status == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        let statuses: &[ContainerStatus] = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default();
        for container in statuses.iter().rev() {
            restarts += i64::from(container.restart_count);
            last_restart = last_restart.max(last_termination(container));
            let state = container.state.as_ref();
            let waiting_reason = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(r) = waiting_reason.filter(|r| !r.is_empty()) {
                reason = r.to_string();
            } else if let Some(terminated) = terminated {
                reason = match terminated.reason.as_deref() {
                    Some(r) if !r.is_empty() => r.to_string(),
                    _ => match terminated.signal {
                        Some(signal) if signal != 0 => format!("Signal:{signal}"),
                        _ => format!("ExitCode:{}", terminated.exit_code),
                    },
                };
            } else if container.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
    }

    let deleting = pod.metadata.deletion_timestamp.is_some();
    let terminal = matches!(
        status.and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    );
    if deleting && status_reason == NODE_UNREACHABLE_REASON {
        reason = "Unknown".to_string();
    } else if deleting && !terminal {
        reason = "Terminating".to_string();
    }

    let restarts_cell = if restarts != 0 && last_restart != 0 {
        Cell::text_since(restarts.to_string(), last_restart)
    } else {
        Cell::text(restarts.to_string())
    };

    let ip = status
        .and_then(|s| s.pod_ips.as_ref())
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.clone())
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| "<none>".to_string());
    let node = spec
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "<none>".to_string());
    let nominated = status
        .and_then(|s| s.nominated_node_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "<none>".to_string());
    let gates = spec
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or_default();
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_count = gates
            .iter()
            .filter(|gate| {
                conditions
                    .iter()
                    .find(|c| c.type_ == gate.condition_type)
                    .is_some_and(|c| c.status == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };

    parts(
        &pod.metadata,
        vec![
            Cell::text(format!("{ready}/{total}")),
            Cell::text(reason),
            restarts_cell,
            age(&pod.metadata),
            Cell::text(ip),
            Cell::text(node),
            Cell::text(nominated),
            Cell::text(readiness_gates),
        ],
    )
}

/// When the container's previous run ended (0 if it never restarted).
fn last_termination(container: &ContainerStatus) -> i64 {
    container
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map_or(0, millis)
}

pub static PODS: Descriptor = Descriptor {
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &["po"],
    tier: 1,
    name_first: true,
    columns: &[
        col("READY"),
        col("STATUS"),
        col("RESTARTS"),
        col("AGE"),
        wide("IP"),
        wide("NODE"),
        wide("NOMINATED NODE"),
        wide("READINESS GATES"),
    ],
    row_limit: None,
    cache: &Namespaced::<Pod>::new(pod),
};
