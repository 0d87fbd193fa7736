//! HorizontalPodAutoscalers (autoscaling/v2).

use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget, MetricValueStatus,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::{age, parts};
use crate::catalog::ON_DEMAND_TIER;
use crate::descriptor::{Descriptor, Namespaced, col};
use crate::row::{Cell, RowParts};

/// REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE.
pub fn horizontalpodautoscaler(h: &HorizontalPodAutoscaler) -> RowParts {
    let spec = &h.spec;
    let reference = format!(
        "{}/{}",
        spec.scale_target_ref.kind, spec.scale_target_ref.name
    );
    let statuses = h
        .status
        .as_ref()
        .and_then(|s| s.current_metrics.as_deref())
        .unwrap_or_default();
    let targets = metrics(spec.metrics.as_deref().unwrap_or_default(), statuses);
    let min = spec
        .min_replicas
        .map_or_else(|| "<unset>".to_string(), |m| m.to_string());
    parts(
        &h.metadata,
        vec![
            Cell::text(reference),
            Cell::text(targets),
            Cell::text(min),
            Cell::text(spec.max_replicas.to_string()),
            Cell::text(
                h.status
                    .as_ref()
                    .and_then(|s| s.current_replicas)
                    .unwrap_or(0)
                    .to_string(),
            ),
            age(&h.metadata),
        ],
    )
}

fn quantity(q: Option<&Quantity>) -> Option<String> {
    q.map(|q| q.0.clone())
}

const UNKNOWN: &str = "<unknown>";

/// kubectl's TARGETS: "current/target" per metric, the first two, then
/// "+ N more...". The status of metric i is the i-th current metric.
fn metrics(specs: &[MetricSpec], statuses: &[MetricStatus]) -> String {
    if specs.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 2;
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| metric(spec, statuses.get(i)))
        .collect();
    if list.len() > MAX {
        format!("{} + {} more...", list[..MAX].join(", "), list.len() - MAX)
    } else {
        list.join(", ")
    }
}

fn metric(spec: &MetricSpec, status: Option<&MetricStatus>) -> String {
    let or_unknown = |value: Option<String>| value.unwrap_or_else(|| UNKNOWN.to_string());
    match spec.type_.as_str() {
        "External" => match &spec.external {
            Some(external) => against_target(
                &external.target,
                status.and_then(|s| s.external.as_ref()).map(|e| &e.current),
            ),
            None => "<unknown type>".into(),
        },
        "Pods" => {
            let Some(pods) = &spec.pods else {
                return "<unknown type>".into();
            };
            let current = status
                .and_then(|s| s.pods.as_ref())
                .and_then(|p| quantity(p.current.average_value.as_ref()));
            format!(
                "{}/{}",
                or_unknown(current),
                quantity(pods.target.average_value.as_ref()).unwrap_or_default()
            )
        }
        "Object" => match &spec.object {
            Some(object) => against_target(
                &object.target,
                status.and_then(|s| s.object.as_ref()).map(|o| &o.current),
            ),
            None => "<unknown type>".into(),
        },
        "Resource" | "ContainerResource" => {
            let (name, target, current) = if spec.type_ == "Resource" {
                let Some(resource) = &spec.resource else {
                    return "<unknown type>".into();
                };
                (
                    resource.name.clone(),
                    &resource.target,
                    status
                        .and_then(|s| s.resource.as_ref())
                        .map(|r| r.current.clone()),
                )
            } else {
                let Some(resource) = &spec.container_resource else {
                    return "<unknown type>".into();
                };
                (
                    resource.name.clone(),
                    &resource.target,
                    status
                        .and_then(|s| s.container_resource.as_ref())
                        .map(|r| r.current.clone()),
                )
            };
            match &target.average_value {
                Some(avg) => format!(
                    "{name}: {}/{}",
                    or_unknown(current.and_then(|c| quantity(c.average_value.as_ref()))),
                    avg.0
                ),
                None => {
                    let current = current
                        .and_then(|c| c.average_utilization)
                        .map(|u| format!("{u}%"));
                    let target = target
                        .average_utilization
                        .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                    format!("{name}: {}/{target}", or_unknown(current))
                }
            }
        }
        _ => "<unknown type>".to_string(),
    }
}

/// External and Object metrics: "current/target (avg)" for an average
/// value target, else "current/target" by value.
fn against_target(target: &MetricTarget, current: Option<&MetricValueStatus>) -> String {
    let or_unknown = |value: Option<String>| value.unwrap_or_else(|| UNKNOWN.to_string());
    match &target.average_value {
        Some(avg) => format!(
            "{}/{} (avg)",
            or_unknown(current.and_then(|c| quantity(c.average_value.as_ref()))),
            avg.0
        ),
        None => format!(
            "{}/{}",
            or_unknown(current.and_then(|c| quantity(c.value.as_ref()))),
            quantity(target.value.as_ref()).unwrap_or_default()
        ),
    }
}

pub static HORIZONTALPODAUTOSCALERS: Descriptor = Descriptor {
    plural: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    kind: "HorizontalPodAutoscaler",
    group: "autoscaling",
    version: "v2",
    namespaced: true,
    short_names: &["hpa"],
    tier: ON_DEMAND_TIER,
    name_first: true,
    columns: &[
        col("REFERENCE"),
        col("TARGETS"),
        col("MINPODS"),
        col("MAXPODS"),
        col("REPLICAS"),
        col("AGE"),
    ],
    row_limit: None,
    cache: &Namespaced::<HorizontalPodAutoscaler>::new(horizontalpodautoscaler),
};
