//! Projections: each kind's object turned into a `Row` with the cells
//! `kubectl get` prints (learned from kubectl's printers, checked against the
//! recorded `kubectl get` output in the fixtures). One projection per kind.

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

use crate::row::{Cell, RowParts};

pub use self::autoscaling::horizontalpodautoscaler;
pub use self::core::{configmap, namespace, secret_metadata, service, serviceaccount};
pub use self::dynamic::{dynamic, printer_cell};
pub use self::event::event;
pub use self::network::ingress;
pub use self::node::node;
pub use self::pod::pod;
pub use self::storage::{persistentvolume, persistentvolumeclaim};
pub use self::workloads::{cronjob, daemonset, deployment, job, replicaset, statefulset};

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
