//! Controllers: deployments, replica sets, daemon sets, stateful sets, jobs
//! and cron jobs. Their pod counts and replica sets come from the caches.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job, JobTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::pod::template;
use super::{Related, Writer, annotations, controller, events, labels, labels_indented, rfc1123z};

/// A label selector as `labels.Selector.String()` prints it: requirements
/// sorted by key, `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
pub(crate) fn selector_string(selector: Option<&LabelSelector>) -> String {
    let Some(selector) = selector else {
        return String::new();
    };
    let mut requirements: Vec<(String, String)> = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        requirements.push((k.clone(), format!("{k}={v}")));
    }
    for e in selector.match_expressions.iter().flatten() {
        let mut values = e.values.clone().unwrap_or_default();
        values.sort();
        let text = match e.operator.as_str() {
            "In" => format!("{} in ({})", e.key, values.join(",")),
            "NotIn" => format!("{} notin ({})", e.key, values.join(",")),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {other} ({})", e.key, values.join(",")),
        };
        requirements.push((e.key.clone(), text));
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    requirements
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

/// `metav1.FormatLabelSelector`: the selector, or `<none>`.
pub(super) fn format_selector(selector: &LabelSelector) -> String {
    let text = selector_string(Some(selector));
    if text.is_empty() {
        "<none>".to_string()
    } else {
        text
    }
}

fn int_or_string(value: Option<&IntOrString>) -> String {
    match value {
        Some(IntOrString::Int(i)) => i.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "0".to_string(),
    }
}

/// Running / Waiting / Succeeded / Failed counts of the pods `owner` controls.
fn pod_counts(related: &Related, owner: &ObjectMeta) -> String {
    let uid = owner.uid.as_deref().unwrap_or("");
    let (mut running, mut waiting, mut succeeded, mut failed) = (0, 0, 0, 0);
    for pod in &related.pods {
        let owned = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|r| r.controller == Some(true) && r.uid == uid);
        if !owned {
            continue;
        }
        match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
            Some("Running") => running += 1,
            Some("Pending") => waiting += 1,
            Some("Succeeded") => succeeded += 1,
            Some("Failed") => failed += 1,
            _ => {}
        }
    }
    format!("{running} Running / {waiting} Waiting / {succeeded} Succeeded / {failed} Failed")
}

fn name_and_namespace(w: &mut Writer, meta: &ObjectMeta) {
    w.write(
        0,
        &format!("Name:\t{}\n", meta.name.as_deref().unwrap_or("")),
    );
    w.write(
        0,
        &format!("Namespace:\t{}\n", meta.namespace.as_deref().unwrap_or("")),
    );
}

fn created(meta: &ObjectMeta) -> String {
    meta.creation_timestamp
        .as_ref()
        .map(rfc1123z)
        .unwrap_or_else(|| "Mon, 01 Jan 0001 00:00:00 +0000".to_string())
}

pub(super) fn deployment(w: &mut Writer, d: &Deployment, related: &Related) {
    let meta = &d.metadata;
    let spec = d.spec.clone().unwrap_or_default();
    let status = d.status.clone().unwrap_or_default();
    name_and_namespace(w, meta);
    w.write(0, &format!("CreationTimestamp:\t{}\n", created(meta)));
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    w.write(
        0,
        &format!("Selector:\t{}\n", selector_string(Some(&spec.selector))),
    );
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
            spec.replicas.unwrap_or(1),
            status.updated_replicas.unwrap_or(0),
            status.replicas.unwrap_or(0),
            status.available_replicas.unwrap_or(0),
            status.unavailable_replicas.unwrap_or(0)
        ),
    );
    let strategy = spec.strategy.clone().unwrap_or_default();
    w.write(
        0,
        &format!(
            "StrategyType:\t{}\n",
            strategy.type_.as_deref().unwrap_or("")
        ),
    );
    w.write(
        0,
        &format!(
            "MinReadySeconds:\t{}\n",
            spec.min_ready_seconds.unwrap_or(0)
        ),
    );
    if let Some(rolling) = &strategy.rolling_update {
        w.write(
            0,
            &format!(
                "RollingUpdateStrategy:\t{} max unavailable, {} max surge\n",
                int_or_string(rolling.max_unavailable.as_ref()),
                int_or_string(rolling.max_surge.as_ref())
            ),
        );
    }
    template(w, &spec.template);
    controller_conditions(
        w,
        status.conditions.iter().flatten().map(|c| {
            (
                c.type_.as_str(),
                c.status.as_str(),
                c.reason.as_deref().unwrap_or(""),
            )
        }),
    );
    let (old, new) = replica_sets_of(d, related);
    if !old.is_empty() || !new.is_empty() {
        w.write(0, &format!("OldReplicaSets:\t{}\n", replica_set_list(&old)));
        w.write(0, &format!("NewReplicaSet:\t{}\n", replica_set_list(&new)));
    }
    events(w, related);
}

fn controller_conditions<'a>(
    w: &mut Writer,
    conditions: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
) {
    let conditions: Vec<_> = conditions.collect();
    if conditions.is_empty() {
        return;
    }
    w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(1, "----\t------\t------\n");
    for (kind, status, reason) in conditions {
        w.write(1, &format!("{kind} \t{status}\t{reason}\n"));
    }
}

/// The deployment's replica sets: the new one has the deployment's pod
/// template (ignoring `pod-template-hash`), the others are old.
fn replica_sets_of<'a>(
    d: &Deployment,
    related: &'a Related,
) -> (Vec<&'a ReplicaSet>, Vec<&'a ReplicaSet>) {
    let uid = d.metadata.uid.as_deref().unwrap_or("");
    let mut owned: Vec<&ReplicaSet> = related
        .replica_sets
        .iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|r| r.controller == Some(true) && r.uid == uid)
        })
        .collect();
    owned.sort_by_key(|rs| rs.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let want = template_without_hash(d.spec.as_ref().map(|s| &s.template));
    let mut new = Vec::new();
    let mut old = Vec::new();
    for rs in owned {
        if new.is_empty()
            && template_without_hash(rs.spec.as_ref().and_then(|s| s.template.as_ref())) == want
        {
            new.push(rs);
        } else {
            old.push(rs);
        }
    }
    (old, new)
}

fn template_without_hash(
    template: Option<&k8s_openapi::api::core::v1::PodTemplateSpec>,
) -> serde_json::Value {
    let mut value = serde_json::to_value(template).unwrap_or_default();
    if let Some(labels) = value
        .pointer_mut("/metadata/labels")
        .and_then(serde_json::Value::as_object_mut)
    {
        labels.remove("pod-template-hash");
    }
    value
}

fn replica_set_list(sets: &[&ReplicaSet]) -> String {
    if sets.is_empty() {
        return "<none>".to_string();
    }
    sets.iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                rs.metadata.name.as_deref().unwrap_or(""),
                rs.status.as_ref().map_or(0, |s| s.replicas),
                rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn replica_set(w: &mut Writer, rs: &ReplicaSet, related: &Related) {
    let meta = &rs.metadata;
    let spec = rs.spec.clone().unwrap_or_default();
    name_and_namespace(w, meta);
    w.write(
        0,
        &format!("Selector:\t{}\n", format_selector(&spec.selector)),
    );
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    if let Some(owner) = controller(meta) {
        w.write(0, &format!("Controlled By:\t{owner}\n"));
    }
    w.write(
        0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            rs.status.as_ref().map_or(0, |s| s.replicas),
            spec.replicas.unwrap_or(1)
        ),
    );
    w.write(0, "Pods Status:\t");
    w.write(0, &format!("{}\n", pod_counts(related, meta)));
    template(w, &spec.template.clone().unwrap_or_default());
    controller_conditions(
        w,
        rs.status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .map(|c| {
                (
                    c.type_.as_str(),
                    c.status.as_str(),
                    c.reason.as_deref().unwrap_or(""),
                )
            }),
    );
    events(w, related);
}

pub(super) fn daemon_set(w: &mut Writer, ds: &DaemonSet, related: &Related) {
    let meta = &ds.metadata;
    let spec = ds.spec.clone().unwrap_or_default();
    let status = ds.status.clone().unwrap_or_default();
    name_and_namespace(w, meta);
    w.write(
        0,
        &format!("Selector:\t{}\n", selector_string(Some(&spec.selector))),
    );
    let node_selector = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "<none>".to_string());
    w.write(0, &format!("Node-Selector:\t{node_selector}\n"));
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    w.write(
        0,
        &format!(
            "Desired Number of Nodes Scheduled: {}\n",
            status.desired_number_scheduled
        ),
    );
    w.write(
        0,
        &format!(
            "Current Number of Nodes Scheduled: {}\n",
            status.current_number_scheduled
        ),
    );
    w.write(
        0,
        &format!(
            "Number of Nodes Scheduled with Up-to-date Pods: {}\n",
            status.updated_number_scheduled.unwrap_or(0)
        ),
    );
    w.write(
        0,
        &format!(
            "Number of Nodes Scheduled with Available Pods: {}\n",
            status.number_available.unwrap_or(0)
        ),
    );
    w.write(
        0,
        &format!(
            "Number of Nodes Misscheduled: {}\n",
            status.number_misscheduled
        ),
    );
    w.write(0, &format!("Pods Status:\t{}\n", pod_counts(related, meta)));
    template(w, &spec.template);
    events(w, related);
}

pub(super) fn stateful_set(w: &mut Writer, ss: &StatefulSet, related: &Related) {
    let meta = &ss.metadata;
    let spec = ss.spec.clone().unwrap_or_default();
    name_and_namespace(w, meta);
    w.write(0, &format!("CreationTimestamp:\t{}\n", created(meta)));
    w.write(
        0,
        &format!("Selector:\t{}\n", selector_string(Some(&spec.selector))),
    );
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} total\n",
            spec.replicas.unwrap_or(1),
            ss.status.as_ref().map_or(0, |s| s.replicas)
        ),
    );
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    w.write(
        0,
        &format!(
            "Update Strategy:\t{}\n",
            strategy.type_.as_deref().unwrap_or("")
        ),
    );
    if let Some(rolling) = &strategy.rolling_update
        && let Some(partition) = rolling.partition
    {
        w.write(1, &format!("Partition:\t{partition}\n"));
        if let Some(max) = &rolling.max_unavailable {
            w.write(
                1,
                &format!("MaxUnavailable:\t{}\n", int_or_string(Some(max))),
            );
        }
    }
    w.write(0, &format!("Pods Status:\t{}\n", pod_counts(related, meta)));
    template(w, &spec.template);
    let claims = spec.volume_claim_templates.clone().unwrap_or_default();
    if claims.is_empty() {
        w.write(0, "Volume Claims:\t<none>\n");
    } else {
        w.write(0, "Volume Claims:\n");
        for claim in &claims {
            let cmeta = &claim.metadata;
            let cspec = claim.spec.clone().unwrap_or_default();
            w.write(
                1,
                &format!("Name:\t{}\n", cmeta.name.as_deref().unwrap_or("")),
            );
            let class = cspec.storage_class_name.clone().unwrap_or_default();
            w.write(1, &format!("StorageClass:\t{class}\n"));
            labels_indented(w, "  ", "Labels", cmeta.labels.as_ref());
            labels_indented(w, "  ", "Annotations", cmeta.annotations.as_ref());
            let capacity = cspec
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
                .map_or("<default>".to_string(), |q| q.0.clone());
            w.write(1, &format!("Capacity:\t{capacity}\n"));
            w.write(
                1,
                &format!(
                    "Access Modes:\t[{}]\n",
                    cspec.access_modes.unwrap_or_default().join(" ")
                ),
            );
        }
    }
    events(w, related);
}

pub(super) fn job(w: &mut Writer, job: &Job, related: &Related) {
    let meta = &job.metadata;
    let spec = job.spec.clone().unwrap_or_default();
    let status = job.status.clone().unwrap_or_default();
    name_and_namespace(w, meta);
    w.write(
        0,
        &format!("Selector:\t{}\n", selector_string(spec.selector.as_ref())),
    );
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    if let Some(owner) = controller(meta) {
        w.write(0, &format!("Controlled By:\t{owner}\n"));
    }
    if let Some(p) = spec.parallelism {
        w.write(0, &format!("Parallelism:\t{p}\n"));
    }
    match spec.completions {
        Some(c) => w.write(0, &format!("Completions:\t{c}\n")),
        None => w.write(0, "Completions:\t<unset>\n"),
    }
    if let Some(mode) = &spec.completion_mode {
        w.write(0, &format!("Completion Mode:\t{mode}\n"));
    }
    if let Some(suspend) = spec.suspend {
        w.write(0, &format!("Suspend:\t{suspend}\n"));
    }
    if let Some(limit) = spec.backoff_limit {
        w.write(0, &format!("Backoff Limit:\t{limit}\n"));
    }
    if let Some(ttl) = spec.ttl_seconds_after_finished {
        w.write(0, &format!("TTL Seconds After Finished:\t{ttl}\n"));
    }
    if let Some(start) = &status.start_time {
        w.write(0, &format!("Start Time:\t{}\n", rfc1123z(start)));
    }
    if let Some(done) = &status.completion_time {
        w.write(0, &format!("Completed At:\t{}\n", rfc1123z(done)));
    }
    if let (Some(start), Some(done)) = (&status.start_time, &status.completion_time) {
        let millis = done.0.as_millisecond() - start.0.as_millisecond();
        w.write(
            0,
            &format!(
                "Duration:\t{}\n",
                timoneiro_client::render::human_duration(millis / 1000 * 1000)
            ),
        );
    }
    if let Some(deadline) = spec.active_deadline_seconds {
        w.write(0, &format!("Active Deadline Seconds:\t{deadline}s\n"));
    }
    let (active, succeeded, failed) = (
        status.active.unwrap_or(0),
        status.succeeded.unwrap_or(0),
        status.failed.unwrap_or(0),
    );
    match status.ready {
        None => w.write(
            0,
            &format!("Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n"),
        ),
        Some(ready) => w.write(
            0,
            &format!(
                "Pods Statuses:\t{active} Active ({ready} Ready) / {succeeded} Succeeded / {failed} Failed\n"
            ),
        ),
    }
    if spec.completion_mode.as_deref() == Some("Indexed") {
        let indexes = status.completed_indexes.clone().unwrap_or_default();
        w.write(
            0,
            &format!("Completed Indexes:\t{}\n", cap_indexes(&indexes, 50)),
        );
    }
    template(w, &spec.template);
    events(w, related);
}

/// kubectl's `capIndexesListOrNone`.
fn cap_indexes(indexes: &str, soft_limit: usize) -> String {
    if indexes.is_empty() {
        return "<none>".to_string();
    }
    let bytes = indexes.as_bytes();
    let mut ix = soft_limit;
    while ix < bytes.len() && bytes[ix] != b',' {
        ix += 1;
    }
    if ix >= bytes.len() {
        return indexes.to_string();
    }
    format!("{}...", &indexes[..=ix])
}

pub(super) fn cron_job(w: &mut Writer, cj: &CronJob, related: &Related) {
    let meta = &cj.metadata;
    let spec = cj.spec.clone();
    let status = cj.status.clone().unwrap_or_default();
    name_and_namespace(w, meta);
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    w.write(0, &format!("Schedule:\t{}\n", spec.schedule));
    w.write(
        0,
        &format!(
            "Concurrency Policy:\t{}\n",
            spec.concurrency_policy.as_deref().unwrap_or("")
        ),
    );
    let suspend = match spec.suspend {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    w.write(0, &format!("Suspend:\t{suspend}\n"));
    let unset = |v: Option<String>| v.unwrap_or_else(|| "<unset>".to_string());
    w.write(
        0,
        &format!("Time Zone:\t{}\n", unset(spec.time_zone.clone())),
    );
    w.write(
        0,
        &format!(
            "Successful Job History Limit:\t{}\n",
            unset(spec.successful_jobs_history_limit.map(|v| v.to_string()))
        ),
    );
    w.write(
        0,
        &format!(
            "Failed Job History Limit:\t{}\n",
            unset(spec.failed_jobs_history_limit.map(|v| v.to_string()))
        ),
    );
    w.write(
        0,
        &format!(
            "Starting Deadline Seconds:\t{}\n",
            unset(spec.starting_deadline_seconds.map(|v| format!("{v}s")))
        ),
    );
    job_template(w, &spec.job_template);
    w.write(
        0,
        &format!(
            "Last Schedule Time:\t{}\n",
            unset(status.last_schedule_time.as_ref().map(rfc1123z))
        ),
    );
    w.write(0, "Active Jobs:\t");
    let active: Vec<&str> = status
        .active
        .iter()
        .flatten()
        .map(|r| r.name.as_deref().unwrap_or(""))
        .collect();
    if active.is_empty() {
        w.write(0, "<none>\n");
    } else {
        w.write(0, &format!("{}\n", active.join(", ")));
    }
    events(w, related);
}

fn job_template(w: &mut Writer, template_spec: &JobTemplateSpec) {
    let spec = template_spec.spec.clone().unwrap_or_default();
    match &spec.selector {
        Some(selector) => w.write(
            0,
            &format!("Selector:\t{}\n", selector_string(Some(selector))),
        ),
        None => w.write(0, "Selector:\t<unset>\n"),
    }
    match spec.parallelism {
        Some(p) => w.write(0, &format!("Parallelism:\t{p}\n")),
        None => w.write(0, "Parallelism:\t<unset>\n"),
    }
    match spec.completions {
        Some(c) => w.write(0, &format!("Completions:\t{c}\n")),
        None => w.write(0, "Completions:\t<unset>\n"),
    }
    if let Some(deadline) = spec.active_deadline_seconds {
        w.write(0, &format!("Active Deadline Seconds:\t{deadline}s\n"));
    }
    template(w, &spec.template);
}
