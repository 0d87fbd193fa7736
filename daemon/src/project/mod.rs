//! Projections: each kind's object turned into a `Row` with the cells
//! `kubectl get` prints (learned from kubectl's printers, checked against the
//! recorded `kubectl get` output in the fixtures). One projection per kind,
//! and beside it the kind's [`Descriptor`]: a built-in kind is its
//! descriptor, its projection and its entry in [`BUILTIN`].

mod autoscaling;
mod core;
mod dynamic;
mod event;
mod network;
mod node;
mod pod;
mod storage;
mod workloads;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};

use crate::descriptor::Descriptor;
use crate::row::{Cell, RowParts};

pub use self::autoscaling::horizontalpodautoscaler;
pub use self::core::{configmap, namespace, secret, service, serviceaccount};
pub use self::dynamic::{dynamic, printer_cell, table_row};
pub use self::event::event;
pub use self::network::ingress;
pub use self::node::node;
pub use self::pod::pod;
pub use self::storage::{persistentvolume, persistentvolumeclaim};
pub use self::workloads::{cronjob, daemonset, deployment, job, replicaset, statefulset};

/// Every built-in kind, in tier order (the order kinds start and are listed in).
pub static BUILTIN: [&Descriptor; 18] = [
    &pod::PODS,
    &workloads::DEPLOYMENTS,
    &core::SERVICES,
    &core::NAMESPACES,
    &workloads::STATEFULSETS,
    &workloads::DAEMONSETS,
    &workloads::REPLICASETS,
    &workloads::JOBS,
    &workloads::CRONJOBS,
    &core::CONFIGMAPS,
    &core::SECRETS,
    &storage::PERSISTENTVOLUMECLAIMS,
    &storage::PERSISTENTVOLUMES,
    &network::INGRESSES,
    &node::NODES,
    &event::EVENTS,
    &core::SERVICEACCOUNTS,
    &autoscaling::HORIZONTALPODAUTOSCALERS,
];

/// Fields no projection reads, left out when objects are decoded from
/// protobuf (`kpb::Pruning`; the cache keeps the object's bytes for `Get`,
/// so nothing else needs them). Protobuf names, `message.field`. Mostly
/// pods and pod templates, where they are most of the object: volumes,
/// probes, env, resources, scheduling constraints.
///
/// A projection that starts reading one of these must take it off the
/// list: `tests/tests/it/protobuf.rs` checks that every recorded `.pb` list
/// projects to the rows of its `.json`. ObjectMeta is not pruned here
/// (secrets keep their decoded metadata, without some annotations, not
/// bytes); pods prune theirs too ([`POD_METADATA_UNREAD`]).
pub const UNREAD: &[&str] = &[
    "k8s.io.api.core.v1.PodSpec.volumes",
    "k8s.io.api.core.v1.PodSpec.affinity",
    "k8s.io.api.core.v1.PodSpec.tolerations",
    "k8s.io.api.core.v1.PodSpec.security_context",
    "k8s.io.api.core.v1.PodSpec.topology_spread_constraints",
    "k8s.io.api.core.v1.PodSpec.dns_config",
    "k8s.io.api.core.v1.PodSpec.host_aliases",
    "k8s.io.api.core.v1.PodSpec.image_pull_secrets",
    "k8s.io.api.core.v1.PodSpec.ephemeral_containers",
    "k8s.io.api.core.v1.PodSpec.overhead",
    "k8s.io.api.core.v1.PodSpec.resource_claims",
    "k8s.io.api.core.v1.PodSpec.scheduling_gates",
    "k8s.io.api.core.v1.PodSpec.resources",
    "k8s.io.api.core.v1.PodSpec.restart_policy",
    "k8s.io.api.core.v1.PodSpec.termination_grace_period_seconds",
    "k8s.io.api.core.v1.PodSpec.active_deadline_seconds",
    "k8s.io.api.core.v1.PodSpec.dns_policy",
    "k8s.io.api.core.v1.PodSpec.service_account_name",
    "k8s.io.api.core.v1.PodSpec.service_account",
    "k8s.io.api.core.v1.PodSpec.host_network",
    "k8s.io.api.core.v1.PodSpec.host_pid",
    "k8s.io.api.core.v1.PodSpec.host_ipc",
    "k8s.io.api.core.v1.PodSpec.hostname",
    "k8s.io.api.core.v1.PodSpec.subdomain",
    "k8s.io.api.core.v1.PodSpec.scheduler_name",
    "k8s.io.api.core.v1.PodSpec.automount_service_account_token",
    "k8s.io.api.core.v1.PodSpec.priority_class_name",
    "k8s.io.api.core.v1.PodSpec.priority",
    "k8s.io.api.core.v1.PodSpec.share_process_namespace",
    "k8s.io.api.core.v1.PodSpec.runtime_class_name",
    "k8s.io.api.core.v1.PodSpec.enable_service_links",
    "k8s.io.api.core.v1.PodSpec.preemption_policy",
    "k8s.io.api.core.v1.PodSpec.set_hostname_as_fqdn",
    "k8s.io.api.core.v1.PodSpec.os",
    "k8s.io.api.core.v1.PodSpec.host_users",
    "k8s.io.api.core.v1.PodSpec.hostname_override",
    "k8s.io.api.core.v1.PodSpec.workload_ref",
    "k8s.io.api.core.v1.Container.command",
    "k8s.io.api.core.v1.Container.args",
    "k8s.io.api.core.v1.Container.working_dir",
    "k8s.io.api.core.v1.Container.ports",
    "k8s.io.api.core.v1.Container.env",
    "k8s.io.api.core.v1.Container.env_from",
    "k8s.io.api.core.v1.Container.resources",
    "k8s.io.api.core.v1.Container.volume_mounts",
    "k8s.io.api.core.v1.Container.volume_devices",
    "k8s.io.api.core.v1.Container.liveness_probe",
    "k8s.io.api.core.v1.Container.readiness_probe",
    "k8s.io.api.core.v1.Container.startup_probe",
    "k8s.io.api.core.v1.Container.lifecycle",
    "k8s.io.api.core.v1.Container.security_context",
    "k8s.io.api.core.v1.Container.resize_policy",
    "k8s.io.api.core.v1.Container.restart_policy_rules",
    "k8s.io.api.core.v1.Container.termination_message_path",
    "k8s.io.api.core.v1.Container.termination_message_policy",
    "k8s.io.api.core.v1.Container.image_pull_policy",
    "k8s.io.api.core.v1.Container.stdin",
    "k8s.io.api.core.v1.Container.stdin_once",
    "k8s.io.api.core.v1.Container.tty",
    "k8s.io.api.core.v1.PodStatus.message",
    "k8s.io.api.core.v1.PodStatus.host_ip",
    "k8s.io.api.core.v1.PodStatus.host_ips",
    "k8s.io.api.core.v1.PodStatus.pod_ip",
    "k8s.io.api.core.v1.PodStatus.start_time",
    "k8s.io.api.core.v1.PodStatus.qos_class",
    "k8s.io.api.core.v1.PodStatus.ephemeral_container_statuses",
    "k8s.io.api.core.v1.PodStatus.resize",
    "k8s.io.api.core.v1.PodStatus.resource_claim_statuses",
    "k8s.io.api.core.v1.PodStatus.extended_resource_claim_status",
    "k8s.io.api.core.v1.PodStatus.allocated_resources",
    "k8s.io.api.core.v1.PodStatus.resources",
    "k8s.io.api.core.v1.PodStatus.observed_generation",
    "k8s.io.api.core.v1.PodCondition.message",
    "k8s.io.api.core.v1.PodCondition.last_probe_time",
    "k8s.io.api.core.v1.PodCondition.last_transition_time",
    "k8s.io.api.core.v1.ContainerStatus.image",
    "k8s.io.api.core.v1.ContainerStatus.image_id",
    "k8s.io.api.core.v1.ContainerStatus.container_id",
    "k8s.io.api.core.v1.ContainerStatus.allocated_resources",
    "k8s.io.api.core.v1.ContainerStatus.allocated_resources_status",
    "k8s.io.api.core.v1.ContainerStatus.resources",
    "k8s.io.api.core.v1.ContainerStatus.volume_mounts",
    "k8s.io.api.core.v1.ContainerStatus.user",
    "k8s.io.api.core.v1.ContainerStatus.stop_signal",
    "k8s.io.api.core.v1.ContainerStateRunning.started_at",
    "k8s.io.api.core.v1.ContainerStateWaiting.message",
    "k8s.io.api.core.v1.ContainerStateTerminated.message",
    "k8s.io.api.core.v1.ContainerStateTerminated.started_at",
    "k8s.io.api.core.v1.ContainerStateTerminated.container_id",
];

/// Pods' metadata the pod projection and the informer do not read (they
/// read name, namespace, uid, resourceVersion, creation and deletion
/// timestamps and labels), left out of pods on top of [`UNREAD`]. Pods
/// only: secrets keep their decoded metadata. The annotations alone are
/// often kilobytes (`kubectl.kubernetes.io/last-applied-configuration`).
pub const POD_METADATA_UNREAD: &[&str] = &[
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.generate_name",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.self_link",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.generation",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.deletion_grace_period_seconds",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.annotations",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.owner_references",
    "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.finalizers",
];

/// Unix milliseconds of a Kubernetes time.
pub(crate) fn millis(time: &Time) -> i64 {
    time.0.as_millisecond()
}

/// The parts every row shares, from object metadata, with the given cells.
pub(crate) fn parts(meta: &ObjectMeta, cells: Vec<Cell>) -> RowParts {
    RowParts {
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        created_ms: meta.creation_timestamp.as_ref().map_or(0, millis),
        cells,
        labels: meta
            .labels
            .as_ref()
            .map(|labels| labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        object: Vec::new(),
    }
}

/// The AGE cell of an object.
pub(crate) fn age(meta: &ObjectMeta) -> Cell {
    Cell::age(meta.creation_timestamp.as_ref().map(millis))
}

/// kubectl's `labels.FormatLabels`: sorted `k=v` joined by commas, `<none>` if empty.
pub(crate) fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    match labels {
        Some(labels) if !labels.is_empty() => labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        _ => "<none>".to_string(),
    }
}

/// kubectl's `metav1.FormatLabelSelector`: requirements sorted by key,
/// `<none>` for a nil or empty selector.
pub(crate) fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    let Some(selector) = selector else {
        return "<none>".to_string();
    };
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(labels) = &selector.match_labels {
        for (k, v) in labels {
            requirements.push((k.clone(), format!("{k}={v}")));
        }
    }
    for expr in selector.match_expressions.iter().flatten() {
        let mut values = expr.values.clone().unwrap_or_default();
        values.sort();
        let text = match expr.operator.as_str() {
            "In" => format!("{} in ({})", expr.key, values.join(",")),
            "NotIn" => format!("{} notin ({})", expr.key, values.join(",")),
            "Exists" => expr.key.clone(),
            "DoesNotExist" => format!("!{}", expr.key),
            _ => return "<error>".to_string(),
        };
        requirements.push((expr.key.clone(), text));
    }
    if requirements.is_empty() {
        return "<none>".to_string();
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    requirements
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(",")
}

/// The wide CONTAINERS and IMAGES cells of a pod template.
pub(crate) fn containers_and_images(
    spec: Option<&k8s_openapi::api::core::v1::PodSpec>,
) -> [Cell; 2] {
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or_default())
        .collect();
    [Cell::text(names.join(",")), Cell::text(images.join(","))]
}
