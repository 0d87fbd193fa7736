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
    let Columns {
        ready,
        total,
        reason,
        restarts,
    } = columns(pod);
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let or_none = |value: Option<String>| {
        value
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "<none>".to_string())
    };
    let ip = status
        .and_then(|s| s.pod_ips.as_ref())
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.clone());
    parts(
        &pod.metadata,
        vec![
            Cell::text(format!("{ready}/{total}")),
            Cell::text(reason),
            restarts.cell(),
            age(&pod.metadata),
            Cell::text(or_none(ip)),
            Cell::text(or_none(spec.and_then(|s| s.node_name.clone()))),
            Cell::text(or_none(status.and_then(|s| s.nominated_node_name.clone()))),
            Cell::text(readiness_gates(pod)),
        ],
    )
}

/// READY, STATUS and RESTARTS, as kubectl's `printPod` computes them.
struct Columns {
    ready: usize,
    total: usize,
    reason: String,
    restarts: Restarts,
}

/// Restarts counted, and when the last one ended.
#[derive(Debug, Default, Clone, Copy)]
struct Restarts {
    count: i64,
    last: i64,
}

impl Restarts {
    fn add(&mut self, container: &ContainerStatus) {
        self.count += i64::from(container.restart_count);
        self.last = self.last.max(last_termination(container));
    }

    /// "3", or "3 (5m ago)" when the last restart's end is known.
    fn cell(self) -> Cell {
        if self.count != 0 && self.last != 0 {
            Cell::text_since(self.count.to_string(), self.last)
        } else {
            Cell::text(self.count.to_string())
        }
    }
}

/// What the init containers say: their restarts (all, and sidecars'
/// alone), sidecars ready, and the STATUS while one still blocks the pod.
#[derive(Default)]
struct Init {
    restarts: Restarts,
    sidecar_restarts: Restarts,
    ready: usize,
    blocking: Option<String>,
}

fn columns(pod: &Pod) -> Columns {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let init_containers: &[Container] = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let condition_true = |type_: &str| {
        conditions
            .iter()
            .any(|c| c.type_ == type_ && c.status == "True")
    };
    let sidecars = init_containers
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    let total = spec.map_or(0, |s| s.containers.len()) + sidecars.clone().count();

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

    let init = init_containers_status(
        status
            .and_then(|s| s.init_container_statuses.as_deref())
            .unwrap_or_default(),
        |name| sidecars.clone().any(|c| c.name == name),
        init_containers.len(),
    );
    let mut ready = init.ready;
    let mut restarts = init.restarts;
    let initializing = init.blocking.is_some();
    if let Some(blocking) = init.blocking {
        reason = blocking;
    }
    if !initializing || condition_true("Initialized") {
        restarts = init.sidecar_restarts;
        let statuses = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default();
        let (running_ready, has_running) = containers_status(statuses, &mut reason, &mut restarts);
        ready += running_ready;
        if reason == "Completed" && has_running {
            reason = if condition_true("Ready") {
                "Running"
            } else {
                "NotReady"
            }
            .to_string();
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
    Columns {
        ready,
        total,
        reason,
        restarts,
    }
}

/// The init containers in order, up to the first that blocks the pod
/// (kubectl's `Init:REASON`, `Init:Signal:N`, `Init:ExitCode:N`, `Init:I/N`).
fn init_containers_status(
    statuses: &[ContainerStatus],
    is_sidecar: impl Fn(&str) -> bool,
    count: usize,
) -> Init {
    let mut init = Init::default();
    for (index, container) in statuses.iter().enumerate() {
        init.restarts.add(container);
        let sidecar = is_sidecar(&container.name);
        if sidecar {
            init.sidecar_restarts.add(container);
        }
        let state = container.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar && container.started == Some(true) {
            if container.ready {
                init.ready += 1;
            }
            continue;
        }
        init.blocking = Some(if let Some(terminated) = terminated {
            match terminated.reason.as_deref() {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ => match terminated.signal {
                    Some(signal) if signal != 0 => format!("Init:Signal:{signal}"),
                    _ => format!("Init:ExitCode:{}", terminated.exit_code),
                },
            }
        } else if let Some(r) = waiting
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            format!("Init:{r}")
        } else {
            format!("Init:{index}/{count}")
        });
        break;
    }
    init
}

/// The regular containers, last to first as kubectl walks them: the first
/// container waiting or terminated names the STATUS. Returns how many are
/// ready and running, and whether any is.
fn containers_status(
    statuses: &[ContainerStatus],
    reason: &mut String,
    restarts: &mut Restarts,
) -> (usize, bool) {
    let mut ready = 0;
    let mut has_running = false;
    for container in statuses.iter().rev() {
        restarts.add(container);
        let state = container.state.as_ref();
        let waiting_reason = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref());
        let terminated = state.and_then(|s| s.terminated.as_ref());
        if let Some(r) = waiting_reason.filter(|r| !r.is_empty()) {
            *reason = r.to_string();
        } else if let Some(terminated) = terminated {
            *reason = match terminated.reason.as_deref() {
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
    (ready, has_running)
}

/// READINESS GATES: how many of the pod's gates have their condition True.
fn readiness_gates(pod: &Pod) -> String {
    let gates = pod
        .spec
        .as_ref()
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or_default();
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let conditions = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
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
