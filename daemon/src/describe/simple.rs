//! Kinds whose description is their own fields: config maps, secrets,
//! service accounts, namespaces, volumes and claims, autoscalers, and
//! kubectl's generic describer for every kind without one.

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingRules, HorizontalPodAutoscaler, MetricSpec, MetricStatus,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, LimitRange, Namespace, PersistentVolume, PersistentVolumeClaim,
    PersistentVolumeClaimStatus, ResourceQuota, Secret, ServiceAccount, Volume,
};
use serde_json::Value;

use super::{Related, Writer, annotations, events, labels, rfc1123z};

pub(super) fn config_map(w: &mut Writer, map: &ConfigMap, related: &Related) {
    name_and_namespace(w, &map.metadata);
    labels(w, "Labels", map.metadata.labels.as_ref());
    annotations(w, "Annotations", map.metadata.annotations.as_ref());
    w.write(0, "\nData\n====\n");
    for (key, value) in map.data.iter().flatten() {
        w.write(0, &format!("{key}:\n----\n"));
        w.write(0, &format!("{value}\n"));
        w.write(0, "\n");
    }
    w.write(0, "\nBinaryData\n====\n");
    for (key, value) in map.binary_data.iter().flatten() {
        w.write(0, &format!("{key}: {} bytes\n", value.0.len()));
    }
    w.write(0, "\n");
    events(w, related);
}

/// A secret as kubectl prints it, except its Data: the daemon never
/// receives secret values (not even their keys), only the number of keys
/// the server's Table reports.
pub(super) fn secret(w: &mut Writer, secret: &Secret, related: &Related) {
    name_and_namespace(w, &secret.metadata);
    labels(w, "Labels", secret.metadata.labels.as_ref());
    annotations(w, "Annotations", secret.metadata.annotations.as_ref());
    w.write(
        0,
        &format!("\nType:\t{}\n", secret.type_.as_deref().unwrap_or("")),
    );
    w.write(0, "\nData\n====\n");
    let keys = related.secret_keys.as_deref().unwrap_or("?");
    w.write(
        0,
        &format!(
            "{keys} keys (timoneiro never fetches secret values or key names; \
             `kubectl describe secret` lists them)\n"
        ),
    );
}

pub(super) fn service_account(w: &mut Writer, account: &ServiceAccount, related: &Related) {
    name_and_namespace(w, &account.metadata);
    labels(w, "Labels", account.metadata.labels.as_ref());
    annotations(w, "Annotations", account.metadata.annotations.as_ref());
    let names: Vec<&str> = account
        .image_pull_secrets
        .iter()
        .flatten()
        .map(|s| s.name.as_str())
        .collect();
    if names.is_empty() {
        w.write(0, "Image pull secrets:\t<none>\n");
    } else {
        let mut header = "Image pull secrets:";
        for name in names {
            w.write(0, &format!("{header}\t{name}\n"));
            header = "                   ";
        }
    }
    events(w, related);
}

/// A namespace, with its resource quotas and limit ranges when they could
/// be listed (a section is left out, and a note says why, when not).
pub(super) fn namespace(w: &mut Writer, namespace: &Namespace, related: &Related) {
    w.write(
        0,
        &format!(
            "Name:\t{}\n",
            namespace.metadata.name.as_deref().unwrap_or("")
        ),
    );
    labels(w, "Labels", namespace.metadata.labels.as_ref());
    annotations(w, "Annotations", namespace.metadata.annotations.as_ref());
    let status = namespace.status.clone().unwrap_or_default();
    w.write(
        0,
        &format!("Status:\t{}\n", status.phase.as_deref().unwrap_or("")),
    );
    if let Some(conditions) = status.conditions.as_deref().filter(|c| !c.is_empty()) {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n");
        w.write(1, "----\t------\t------------------\t------\t-------\n");
        for c in conditions {
            let at = c
                .last_transition_time
                .as_ref()
                .map(rfc1123z)
                .unwrap_or_default();
            w.write(
                1,
                &format!(
                    "{}\t{}\t{at}\t{}\t{}\n",
                    c.type_,
                    c.status,
                    c.reason.as_deref().unwrap_or(""),
                    c.message.as_deref().unwrap_or("")
                ),
            );
        }
    }
    if let Some(quotas) = &related.resource_quotas {
        w.write(0, "\n");
        resource_quotas(w, quotas);
    }
    if let Some(ranges) = &related.limit_ranges {
        w.write(0, "\n");
        limit_ranges(w, ranges);
    }
}

/// kubectl's `DescribeResourceQuotas`: each quota (by name), its scopes,
/// and used / hard per resource (sorted).
fn resource_quotas(w: &mut Writer, quotas: &[ResourceQuota]) {
    if quotas.is_empty() {
        w.write(0, "No resource quota.\n");
        return;
    }
    let mut quotas: Vec<&ResourceQuota> = quotas.iter().collect();
    quotas.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    w.write(0, "Resource Quotas\n");
    for q in quotas {
        w.write(
            1,
            &format!("Name:\t{}\n", q.metadata.name.as_deref().unwrap_or("")),
        );
        let mut scopes = q
            .spec
            .as_ref()
            .and_then(|s| s.scopes.clone())
            .unwrap_or_default();
        if !scopes.is_empty() {
            scopes.sort();
            w.write(1, &format!("Scopes:\t{}\n", scopes.join(", ")));
            for scope in &scopes {
                if let Some(help) = scope_help(scope) {
                    w.write(1, &format!("* {help}\n"));
                }
            }
        }
        w.write(1, "Resource\tUsed\tHard\n");
        w.write(1, "--------\t---\t---\n");
        let status = q.status.clone().unwrap_or_default();
        let used = status.used.unwrap_or_default();
        for (resource, hard) in status.hard.unwrap_or_default() {
            let used = used
                .get(&resource)
                .map_or("0", |u| u.0.as_str())
                .to_string();
            w.write(1, &format!("{resource}\t{used}\t{}\n", hard.0));
        }
    }
}

fn scope_help(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "Terminating" => {
            "Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system."
        }
        "NotTerminating" => {
            "Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate."
        }
        "BestEffort" => {
            "Matches all pods that do not have resource requirements set. These pods have a best effort quality of service."
        }
        "NotBestEffort" => {
            "Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service."
        }
        _ => return None,
    })
}

/// kubectl's `DescribeLimitRanges` (its resources in name order, where
/// kubectl's follow Go's map order).
fn limit_ranges(w: &mut Writer, ranges: &[LimitRange]) {
    if ranges.is_empty() {
        w.write(0, "No LimitRange resource.\n");
        return;
    }
    w.write(
        0,
        "Resource Limits\n Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n",
    );
    w.write(
        0,
        " ----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n",
    );
    for range in ranges {
        for item in range
            .spec
            .as_ref()
            .map(|s| s.limits.clone())
            .unwrap_or_default()
        {
            let lists = [
                &item.min,
                &item.max,
                &item.default_request,
                &item.default,
                &item.max_limit_request_ratio,
            ];
            let resources: std::collections::BTreeSet<String> = lists
                .iter()
                .flat_map(|l| l.iter().flat_map(|m| m.keys().cloned()))
                .collect();
            for resource in resources {
                let value = |l: &Option<
                    std::collections::BTreeMap<
                        String,
                        k8s_openapi::apimachinery::pkg::api::resource::Quantity,
                    >,
                >| {
                    l.as_ref()
                        .and_then(|m| m.get(&resource))
                        .map_or("-".to_string(), |q| q.0.clone())
                };
                w.write(
                    0,
                    &format!(
                        " {}\t{resource}\t{}\t{}\t{}\t{}\t{}\n",
                        item.type_,
                        value(&item.min),
                        value(&item.max),
                        value(&item.default_request),
                        value(&item.default),
                        value(&item.max_limit_request_ratio)
                    ),
                );
            }
        }
    }
}

pub(super) fn persistent_volume(w: &mut Writer, pv: &PersistentVolume, related: &Related) {
    let meta = &pv.metadata;
    let spec = pv.spec.clone().unwrap_or_default();
    let status = pv.status.clone().unwrap_or_default();
    w.write(
        0,
        &format!("Name:\t{}\n", meta.name.as_deref().unwrap_or("")),
    );
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    w.write(
        0,
        &format!(
            "Finalizers:\t[{}]\n",
            meta.finalizers.clone().unwrap_or_default().join(" ")
        ),
    );
    class_and_status(
        w,
        spec.storage_class_name.as_deref(),
        meta,
        status.phase.as_deref(),
    );
    let claim = spec
        .claim_ref
        .as_ref()
        .map(|c| {
            format!(
                "{}/{}",
                c.namespace.as_deref().unwrap_or(""),
                c.name.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_default();
    w.write(0, &format!("Claim:\t{claim}\n"));
    w.write(
        0,
        &format!(
            "Reclaim Policy:\t{}\n",
            spec.persistent_volume_reclaim_policy
                .as_deref()
                .unwrap_or("")
        ),
    );
    w.write(
        0,
        &format!(
            "Access Modes:\t{}\n",
            access_modes(spec.access_modes.as_deref())
        ),
    );
    if let Some(mode) = &spec.volume_mode {
        w.write(0, &format!("VolumeMode:\t{mode}\n"));
    }
    let capacity = spec
        .capacity
        .as_ref()
        .and_then(|c| c.get("storage"))
        .map_or("0", |q| q.0.as_str());
    w.write(0, &format!("Capacity:\t{capacity}\n"));
    w.write(0, "Node Affinity:\t");
    match spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
    {
        None => w.write(0, "<none>\n"),
        Some(required) => {
            w.write(0, "\n");
            w.write(1, "Required Terms:\t");
            if required.node_selector_terms.is_empty() {
                w.write(0, "<none>\n");
            } else {
                w.write(0, "\n");
                for (i, term) in required.node_selector_terms.iter().enumerate() {
                    w.write(2, &format!("Term {i}:\t"));
                    let exprs = term.match_expressions.as_deref().unwrap_or_default();
                    if exprs.is_empty() {
                        w.write(0, "<none>\n");
                    }
                    for (j, req) in exprs.iter().enumerate() {
                        if j != 0 {
                            w.write(2, "\t");
                        }
                        let mut expr = format!("{} {}", req.key, req.operator.to_lowercase());
                        if let Some(values) = req.values.as_deref().filter(|v| !v.is_empty()) {
                            expr = format!("{expr} [{}]", values.join(", "));
                        }
                        w.write(0, &format!("{expr}\n"));
                    }
                }
            }
        }
    }
    w.write(
        0,
        &format!("Message:\t{}\n", status.message.as_deref().unwrap_or("")),
    );
    w.write(0, "Source:\n");
    let source = serde_json::to_value(&spec).unwrap_or_default();
    volume_source_value(w, &source);
    events(w, related);
}

/// `StorageClass:` (the field, else the beta annotation) and `Status:`
/// (the phase, or how long it has been terminating), as a volume and a claim
/// print them.
fn class_and_status(
    w: &mut Writer,
    class: Option<&str>,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    phase: Option<&str>,
) {
    let class = class
        .map(str::to_string)
        .unwrap_or_else(|| beta_storage_class(meta.annotations.as_ref()).unwrap_or_default());
    w.write(0, &format!("StorageClass:\t{class}\n"));
    match &meta.deletion_timestamp {
        Some(deleted) => w.write(
            0,
            &format!("Status:\tTerminating (lasts {})\n", w.since(Some(deleted))),
        ),
        None => w.write(0, &format!("Status:\t{}\n", phase.unwrap_or(""))),
    }
}

fn beta_storage_class(
    annotations: Option<&std::collections::BTreeMap<String, String>>,
) -> Option<String> {
    annotations?
        .get("volume.beta.kubernetes.io/storage-class")
        .cloned()
}

/// kubectl's `GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order.
fn access_modes(modes: Option<&[String]>) -> String {
    let modes = modes.unwrap_or_default();
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| modes.iter().any(|m| m == mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

pub(super) fn persistent_volume_claim(
    w: &mut Writer,
    pvc: &PersistentVolumeClaim,
    related: &Related,
) {
    let meta = &pvc.metadata;
    let spec = pvc.spec.clone().unwrap_or_default();
    let status = pvc.status.clone().unwrap_or_default();
    name_and_namespace(w, meta);
    class_and_status(
        w,
        spec.storage_class_name.as_deref(),
        meta,
        status.phase.as_deref(),
    );
    let volume = spec.volume_name.clone().unwrap_or_default();
    w.write(0, &format!("Volume:\t{volume}\n"));
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    w.write(
        0,
        &format!(
            "Finalizers:\t[{}]\n",
            meta.finalizers.clone().unwrap_or_default().join(" ")
        ),
    );
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            status
                .capacity
                .as_ref()
                .and_then(|c| c.get("storage"))
                .map_or("0".to_string(), |q| q.0.clone()),
            access_modes(status.access_modes.as_deref()),
        )
    };
    w.write(0, &format!("Capacity:\t{capacity}\n"));
    w.write(0, &format!("Access Modes:\t{modes}\n"));
    if let Some(mode) = &spec.volume_mode {
        w.write(0, &format!("VolumeMode:\t{mode}\n"));
    }
    if let Some(source) = &spec.data_source {
        w.write(0, "DataSource:\n");
        if let Some(group) = &source.api_group {
            w.write(1, &format!("APIGroup:\t{group}\n"));
        }
        w.write(1, &format!("Kind:\t{}\n", source.kind));
        w.write(1, &format!("Name:\t{}\n", source.name));
    }
    used_by(w, pvc, related);
    claim_conditions(w, &status);
    events(w, related);
}

/// "Used By": the pods that mount the claim (or own it).
fn used_by(w: &mut Writer, pvc: &PersistentVolumeClaim, related: &Related) {
    let meta = &pvc.metadata;
    let name = meta.name.as_deref().unwrap_or("");
    let uid = meta.uid.as_deref().unwrap_or("");
    let mut users: Vec<&str> = related
        .pods
        .iter()
        .filter(|pod| {
            let mounts = pod
                .spec
                .iter()
                .flat_map(|s| s.volumes.iter().flatten())
                .any(|v| {
                    v.persistent_volume_claim
                        .as_ref()
                        .is_some_and(|c| c.claim_name == name)
                });
            let owns =
                meta.owner_references.iter().flatten().any(|o| {
                    o.kind == "Pod" && pod.metadata.uid.as_deref() == Some(o.uid.as_str())
                });
            mounts || owns && !uid.is_empty()
        })
        .filter_map(|pod| pod.metadata.name.as_deref())
        .collect();
    users.sort_unstable();
    users.dedup();
    w.write(0, "Used By:\t");
    if users.is_empty() {
        w.write(0, "<none>\n");
    }
    for (i, user) in users.iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        w.write(0, &format!("{user}\n"));
    }
}

/// A claim's conditions, with their probe and transition times.
fn claim_conditions(w: &mut Writer, status: &PersistentVolumeClaimStatus) {
    if let Some(conditions) = status.conditions.as_deref().filter(|c| !c.is_empty()) {
        w.write(0, "Conditions:\n");
        w.write(
            1,
            "Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n",
        );
        w.write(
            1,
            "----\t------\t-----------------\t------------------\t------\t-------\n",
        );
        for c in conditions {
            let probe = c
                .last_probe_time
                .as_ref()
                .map(rfc1123z)
                .unwrap_or_else(zero);
            let at = c
                .last_transition_time
                .as_ref()
                .map(rfc1123z)
                .unwrap_or_else(zero);
            w.write(
                1,
                &format!(
                    "{} \t{} \t{probe} \t{at} \t{} \t{}\n",
                    c.type_,
                    c.status,
                    c.reason.as_deref().unwrap_or(""),
                    c.message.as_deref().unwrap_or("")
                ),
            );
        }
    }
}

fn zero() -> String {
    "Mon, 01 Jan 0001 00:00:00 +0000".to_string()
}

fn name_and_namespace(
    w: &mut Writer,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) {
    w.write(
        0,
        &format!("Name:\t{}\n", meta.name.as_deref().unwrap_or("")),
    );
    w.write(
        0,
        &format!("Namespace:\t{}\n", meta.namespace.as_deref().unwrap_or("")),
    );
}

pub(super) fn horizontal_pod_autoscaler(
    w: &mut Writer,
    hpa: &HorizontalPodAutoscaler,
    related: &Related,
) {
    let meta = &hpa.metadata;
    let spec = hpa.spec.clone();
    let status = hpa.status.clone().unwrap_or_default();
    name_and_namespace(w, meta);
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    let created = meta
        .creation_timestamp
        .as_ref()
        .map(rfc1123z)
        .unwrap_or_else(zero);
    w.write(0, &format!("CreationTimestamp:\t{created}\n"));
    let target = &spec.scale_target_ref;
    w.write(0, &format!("Reference:\t{}/{}\n", target.kind, target.name));
    w.write(0, "Metrics:\t( current / target )\n");
    let current: &[MetricStatus] = status.current_metrics.as_deref().unwrap_or_default();
    for (i, metric) in spec.metrics.iter().flatten().enumerate() {
        hpa_metric(w, metric, current.get(i));
    }
    let min = spec
        .min_replicas
        .map_or("<unset>".to_string(), |m| m.to_string());
    w.write(0, &format!("Min replicas:\t{min}\n"));
    w.write(0, &format!("Max replicas:\t{}\n", spec.max_replicas));
    if let Some(behavior) = &spec.behavior {
        w.write(0, "Behavior:\n");
        scaling_rules(w, "Scale Up", behavior.scale_up.as_ref());
        scaling_rules(w, "Scale Down", behavior.scale_down.as_ref());
    }
    w.write(0, &format!("{} pods:\t", target.kind));
    w.write(
        0,
        &format!(
            "{} current / {} desired\n",
            status.current_replicas.unwrap_or(0),
            status.desired_replicas
        ),
    );
    if let Some(conditions) = status.conditions.as_deref().filter(|c| !c.is_empty()) {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tReason\tMessage\n");
        w.write(1, "----\t------\t------\t-------\n");
        for c in conditions {
            w.write(
                1,
                &format!(
                    "{}\t{}\t{}\t{}\n",
                    c.type_,
                    c.status,
                    c.reason.as_deref().unwrap_or(""),
                    c.message.as_deref().unwrap_or("")
                ),
            );
        }
    }
    events(w, related);
}

/// One metric of an HPA, as kubectl's `describeHorizontalPodAutoscalerV2` prints it.
fn hpa_metric(w: &mut Writer, metric: &MetricSpec, now: Option<&MetricStatus>) {
    let unknown = || "<unknown>".to_string();
    match metric.type_.as_str() {
        "External" => {
            let Some(ext) = &metric.external else {
                return;
            };
            let name = &ext.metric.name;
            if let Some(avg) = &ext.target.average_value {
                let cur = now
                    .and_then(|m| m.external.as_ref())
                    .and_then(|e| e.current.average_value.as_ref())
                    .map_or_else(unknown, |q| q.0.clone());
                w.write(
                    1,
                    &format!("{name:?} (target average value):\t{cur} / {}\n", avg.0),
                );
            } else {
                let cur = now
                    .and_then(|m| m.external.as_ref())
                    .and_then(|e| e.current.value.as_ref())
                    .map_or_else(|| "0".to_string(), |q| q.0.clone());
                let value = ext.target.value.as_ref().map_or("0", |q| q.0.as_str());
                w.write(1, &format!("{name:?} (target value):\t{cur} / {value}\n"));
            }
        }
        "Pods" => {
            let Some(pods) = &metric.pods else { return };
            let cur = now
                .and_then(|m| m.pods.as_ref())
                .and_then(|p| p.current.average_value.as_ref())
                .map_or_else(unknown, |q| q.0.clone());
            let avg = pods
                .target
                .average_value
                .as_ref()
                .map_or("0", |q| q.0.as_str());
            w.write(
                1,
                &format!("{:?} on pods:\t{cur} / {avg}\n", pods.metric.name),
            );
        }
        "Object" => object_metric(w, metric, now),
        "Resource" | "ContainerResource" => resource_metric(w, metric, now),
        other => w.write(1, &format!("<unknown metric type {other:?}>\n")),
    }
}

/// An Object metric: the described object's value against the target.
fn object_metric(w: &mut Writer, metric: &MetricSpec, now: Option<&MetricStatus>) {
    let unknown = || "<unknown>".to_string();
    let Some(object) = &metric.object else {
        return;
    };
    w.write(
        1,
        &format!(
            "\"{}\" on {}/{} ",
            object.metric.name, object.described_object.kind, object.described_object.name
        ),
    );
    let cur_obj = now.and_then(|m| m.object.as_ref());
    if object.target.type_ == "AverageValue" {
        let cur = cur_obj
            .and_then(|o| o.current.average_value.as_ref())
            .map_or_else(unknown, |q| q.0.clone());
        let avg = object
            .target
            .average_value
            .as_ref()
            .map_or("0", |q| q.0.as_str());
        w.write(0, &format!("(target average value):\t{cur} / {avg}\n"));
    } else {
        let cur = cur_obj
            .and_then(|o| o.current.value.as_ref())
            .map_or_else(unknown, |q| q.0.clone());
        let value = object.target.value.as_ref().map_or("0", |q| q.0.as_str());
        w.write(0, &format!("(target value):\t{cur} / {value}\n"));
    }
}

/// A Resource or ContainerResource metric: use against the target, as a
/// value or as a percentage of the request.
fn resource_metric(w: &mut Writer, metric: &MetricSpec, now: Option<&MetricStatus>) {
    let unknown = || "<unknown>".to_string();
    let (name, target, cur, title) = if let Some(r) = &metric.resource {
        (
            &r.name,
            &r.target,
            now.and_then(|m| m.resource.as_ref())
                .map(|c| c.current.clone()),
            format!("resource {} on pods", r.name),
        )
    } else if let Some(r) = &metric.container_resource {
        (
            &r.name,
            &r.target,
            now.and_then(|m| m.container_resource.as_ref())
                .map(|c| c.current.clone()),
            format!(
                "resource {} of container \"{}\" on pods",
                r.name, r.container
            ),
        )
    } else {
        return;
    };
    let _ = name;
    w.write(1, &title);
    if let Some(avg) = &target.average_value {
        let cur = cur
            .and_then(|c| c.average_value)
            .map_or_else(unknown, |q| q.0);
        w.write(0, &format!(":\t{cur} / {}\n", avg.0));
    } else {
        let cur = cur
            .filter(|c| c.average_utilization.is_some())
            .map_or_else(unknown, |c| {
                format!(
                    "{}% ({})",
                    c.average_utilization.unwrap_or(0),
                    c.average_value.map_or("0".to_string(), |q| q.0)
                )
            });
        let target = target
            .average_utilization
            .map_or("<auto>".to_string(), |u| format!("{u}%"));
        w.write(
            1,
            &format!("(as a percentage of request):\t{cur} / {target}\n"),
        );
    }
}

fn scaling_rules(w: &mut Writer, direction: &str, rules: Option<&HPAScalingRules>) {
    let Some(rules) = rules else { return };
    w.write(1, &format!("{direction}:\n"));
    if let Some(window) = rules.stabilization_window_seconds {
        w.write(2, &format!("Stabilization Window: {window} seconds\n"));
    }
    if let Some(policies) = rules.policies.as_deref().filter(|p| !p.is_empty()) {
        w.write(
            2,
            &format!(
                "Select Policy: {}\n",
                rules.select_policy.as_deref().unwrap_or("Max")
            ),
        );
        w.write(2, "Policies:\n");
        for p in policies {
            w.write(
                3,
                &format!(
                    "- Type: {}\tValue: {}\tPeriod: {} seconds\n",
                    p.type_, p.value, p.period_seconds
                ),
            );
        }
    }
}

/// A pod volume's source, as kubectl's `describeVolumes` prints the
/// common ones; anything else by its kind.
pub(super) fn volume_source(w: &mut Writer, volume: &Volume) {
    let value = serde_json::to_value(volume).unwrap_or_default();
    volume_source_value(w, &value);
}

/// The text at `key` of a JSON object ("" when absent).
fn text_at(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// The boolean at `key` of a JSON object (false when absent).
fn flag_at(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn volume_source_value(w: &mut Writer, v: &Value) {
    let s = text_at;
    let b = flag_at;
    if let Some(p) = v.get("hostPath") {
        let kind = p.get("type").and_then(Value::as_str).unwrap_or("<none>");
        w.write(
            2,
            &format!(
                "Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{kind}\n",
                s(p, "path")
            ),
        );
    } else if let Some(e) = v.get("emptyDir") {
        let limit = e
            .get("sizeLimit")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty() && *l != "0")
            .unwrap_or("<unset>");
        w.write(
            2,
            &format!(
                "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{limit}\n",
                s(e, "medium")
            ),
        );
    } else if let Some(sec) = v.get("secret") {
        w.write(
            2,
            &format!(
                "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n",
                s(sec, "secretName"),
                b(sec, "optional")
            ),
        );
    } else if let Some(cm) = v.get("configMap") {
        w.write(
            2,
            &format!(
                "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n",
                s(cm, "name"),
                b(cm, "optional")
            ),
        );
    } else if let Some(nfs) = v.get("nfs") {
        w.write(
            2,
            &format!(
                "Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n    Server:\t{}\n    Path:\t{}\n    ReadOnly:\t{}\n",
                s(nfs, "server"),
                s(nfs, "path"),
                b(nfs, "readOnly")
            ),
        );
    } else if let Some(claim) = v.get("persistentVolumeClaim") {
        w.write(
            2,
            &format!(
                "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
                s(claim, "claimName"),
                b(claim, "readOnly")
            ),
        );
    } else if let Some(d) = v.get("downwardAPI") {
        downward_api(w, d);
    } else if let Some(p) = v.get("projected") {
        projected(w, p);
    } else if let Some(local) = v.get("local") {
        w.write(
            2,
            &format!(
                "Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n    Path:\t{}\n",
                s(local, "path")
            ),
        );
    } else if let Some(csi) = v.get("csi") {
        csi_source(w, csi);
    } else if let Some(image) = v.get("image") {
        w.write(
            2,
            &format!(
                "Type:\tImage (a container image or OCI artifact)\n    Reference:\t{}\n    PullPolicy:\t{}\n",
                s(image, "reference"),
                s(image, "pullPolicy")
            ),
        );
    } else if v.get("ephemeral").is_some() {
        w.write(
            2,
            "Type:\tEphemeralVolume (an inline specification for a volume that gets created and deleted with the pod)\n",
        );
    } else {
        w.write(1, "<unknown>\n");
    }
}

/// A downwardAPI volume: each item's field or resource and its path.
fn downward_api(w: &mut Writer, d: &Value) {
    let s = text_at;
    w.write(
        2,
        "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n",
    );
    for item in d
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let path = s(item, "path");
        if let Some(f) = item.get("fieldRef") {
            w.write(3, &format!("{} -> {path}\n", s(f, "fieldPath")));
        }
        if let Some(r) = item.get("resourceFieldRef") {
            w.write(3, &format!("{} -> {path}\n", s(r, "resource")));
        }
    }
}

/// A projected volume: each source (secret, downward API, config map, token).
fn projected(w: &mut Writer, p: &Value) {
    let s = text_at;
    let b = flag_at;
    w.write(
        2,
        "Type:\tProjected (a volume that contains injected data from multiple sources)\n",
    );
    for source in p
        .get("sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(sec) = source.get("secret") {
            w.write(
                2,
                &format!(
                    "SecretName:\t{}\n    Optional:\t{}\n",
                    s(sec, "name"),
                    b(sec, "optional")
                ),
            );
        } else if source.get("downwardAPI").is_some() {
            w.write(2, "DownwardAPI:\ttrue\n");
        } else if let Some(cm) = source.get("configMap") {
            w.write(
                2,
                &format!(
                    "ConfigMapName:\t{}\n    Optional:\t{}\n",
                    s(cm, "name"),
                    b(cm, "optional")
                ),
            );
        } else if let Some(token) = source.get("serviceAccountToken") {
            let seconds = token
                .get("expirationSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            w.write(2, &format!("TokenExpirationSeconds:\t{seconds}\n"));
        }
    }
}

/// A CSI volume: driver, handle, attributes.
fn csi_source(w: &mut Writer, csi: &Value) {
    let s = text_at;
    let b = flag_at;
    w.write(
        2,
        &format!(
            "Type:\tCSI (a Container Storage Interface (CSI) volume source)\n    Driver:\t{}\n    FSType:\t{}\n",
            s(csi, "driver"),
            s(csi, "fsType")
        ),
    );
    if let Some(handle) = csi.get("volumeHandle").and_then(Value::as_str) {
        w.write(0, &format!("    VolumeHandle:\t{handle}\n"));
    }
    w.write(0, &format!("    ReadOnly:\t{}\n", b(csi, "readOnly")));
    w.write(2, "VolumeAttributes:\t");
    match csi
        .get("volumeAttributes")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    {
        None => w.write(0, "<none>\n"),
        Some(attrs) => {
            let mut keys: Vec<&String> = attrs.keys().collect();
            keys.sort();
            for (i, key) in keys.into_iter().enumerate() {
                if i != 0 {
                    w.write(2, "");
                    w.write(2, "\t");
                }
                let line = format!("{key}={}", attrs[key].as_str().unwrap_or(""));
                w.write(2, &format!("{}\n", super::shorten(&line, 140)));
            }
        }
    }
}

/// kubectl's generic describer: name, namespace, labels, annotations, then
/// every other field, sorted, nested by indentation.
pub(super) fn generic(w: &mut Writer, object: &Value, related: &Related) {
    let meta = object.get("metadata").cloned().unwrap_or_default();
    let text = |key: &str| {
        meta.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    w.write(0, &format!("Name:\t{}\n", text("name")));
    w.write(0, &format!("Namespace:\t{}\n", text("namespace")));
    let map = |key: &str| -> Option<std::collections::BTreeMap<String, String>> {
        meta.get(key).and_then(Value::as_object).map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
    };
    labels(w, "Labels", map("labels").as_ref());
    annotations(w, "Annotations", map("annotations").as_ref());
    if let Some(content) = object.as_object() {
        unstructured(w, 0, content, "");
    }
    events(w, related);
}

const GENERIC_SKIP: [&str; 5] = [
    ".metadata.managedFields",
    ".metadata.name",
    ".metadata.namespace",
    ".metadata.labels",
    ".metadata.annotations",
];

fn unstructured(
    w: &mut Writer,
    level: usize,
    content: &serde_json::Map<String, Value>,
    prefix: &str,
) {
    let mut fields: Vec<&String> = content.keys().collect();
    fields.sort();
    for field in fields {
        let path = format!("{prefix}.{field}");
        if GENERIC_SKIP.contains(&path.as_str()) {
            continue;
        }
        match &content[field] {
            Value::Object(map) => {
                w.write(level, &format!("{}:\n", smart_label(field)));
                unstructured(w, level + 1, map, &path);
            }
            Value::Array(items) => {
                w.write(level, &format!("{}:\n", smart_label(field)));
                for item in items {
                    match item {
                        Value::Object(map) => unstructured(w, level + 1, map, &path),
                        other => w.write(level + 1, &format!("{}\n", go_value(other))),
                    }
                }
            }
            other => w.write(
                level,
                &format!("{}:\t{}\n", smart_label(field), go_value(other)),
            ),
        }
    }
}

/// A JSON scalar as Go's `%v` prints it.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".to_string(),
        other => other.to_string(),
    }
}

/// kubectl's `smartLabelFor`: `creationTimestamp` → `Creation Timestamp`,
/// `apiVersion` → `API Version`.
fn smart_label(field: &str) -> String {
    if field.chars().any(|c| !c.is_alphabetic() && c != '-') {
        return field.to_string();
    }
    // Split camel case the way fatih/camelcase does: a new word at each
    // lower→upper change, and before the last upper of an upper run that
    // is followed by a lower.
    let chars: Vec<char> = field.chars().collect();
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            None => false,
            Some(p) => {
                (p.is_lowercase() && c.is_uppercase())
                    || (p.is_uppercase()
                        && c.is_uppercase()
                        && next.is_some_and(char::is_lowercase))
            }
        };
        if boundary && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    const ACRONYMS: [&str; 4] = ["API", "URL", "UID", "GUID"];
    parts
        .into_iter()
        .map(|part| {
            let upper = part.to_uppercase();
            if ACRONYMS.contains(&upper.as_str()) {
                upper
            } else if part.to_lowercase() == part {
                let mut c = part.chars();
                c.next()
                    .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::smart_label;

    #[test]
    fn smart_labels_split_camel_case_like_kubectl() {
        assert_eq!(smart_label("creationTimestamp"), "Creation Timestamp");
        assert_eq!(smart_label("apiVersion"), "API Version");
        assert_eq!(smart_label("uid"), "UID");
        assert_eq!(smart_label("spec"), "Spec");
        assert_eq!(smart_label("x.y"), "x.y");
    }
}
