//! Workload kinds: deployments, statefulsets, daemonsets, replicasets, jobs
//! and cronjobs.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::{age, containers_and_images, format_label_selector, format_labels, millis, parts};
use crate::descriptor::{Descriptor, Namespaced, col, wide};
use crate::row::{Cell, RowParts};

fn template_spec(
    template: Option<&PodTemplateSpec>,
) -> Option<&k8s_openapi::api::core::v1::PodSpec> {
    template.and_then(|t| t.spec.as_ref())
}

fn count(n: Option<i32>) -> Cell {
    Cell::text(n.unwrap_or(0).to_string())
}

/// READY UP-TO-DATE AVAILABLE AGE; wide CONTAINERS IMAGES SELECTOR.
pub fn deployment(d: &Deployment) -> RowParts {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    let desired = spec.and_then(|s| s.replicas).unwrap_or(0);
    let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
    let [containers, images] = containers_and_images(template_spec(spec.map(|s| &s.template)));
    parts(
        &d.metadata,
        vec![
            Cell::text(format!("{ready}/{desired}")),
            count(status.and_then(|s| s.updated_replicas)),
            count(status.and_then(|s| s.available_replicas)),
            age(&d.metadata),
            containers,
            images,
            Cell::text(format_label_selector(spec.map(|s| &s.selector))),
        ],
    )
}

/// READY AGE; wide CONTAINERS IMAGES.
pub fn statefulset(s: &StatefulSet) -> RowParts {
    let spec = s.spec.as_ref();
    let desired = spec.and_then(|s| s.replicas).unwrap_or(0);
    let ready = s
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    let [containers, images] = containers_and_images(template_spec(spec.map(|s| &s.template)));
    parts(
        &s.metadata,
        vec![
            Cell::text(format!("{ready}/{desired}")),
            age(&s.metadata),
            containers,
            images,
        ],
    )
}

/// DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE; wide CONTAINERS IMAGES SELECTOR.
pub fn daemonset(d: &DaemonSet) -> RowParts {
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    let template = template_spec(spec.map(|s| &s.template));
    let [containers, images] = containers_and_images(template);
    parts(
        &d.metadata,
        vec![
            Cell::text(status.map_or(0, |s| s.desired_number_scheduled).to_string()),
            Cell::text(status.map_or(0, |s| s.current_number_scheduled).to_string()),
            Cell::text(status.map_or(0, |s| s.number_ready).to_string()),
            count(status.and_then(|s| s.updated_number_scheduled)),
            count(status.and_then(|s| s.number_available)),
            Cell::text(format_labels(
                template.and_then(|t| t.node_selector.as_ref()),
            )),
            age(&d.metadata),
            containers,
            images,
            Cell::text(format_label_selector(spec.map(|s| &s.selector))),
        ],
    )
}

/// DESIRED CURRENT READY AGE; wide CONTAINERS IMAGES SELECTOR.
pub fn replicaset(r: &ReplicaSet) -> RowParts {
    let spec = r.spec.as_ref();
    let status = r.status.as_ref();
    let [containers, images] =
        containers_and_images(template_spec(spec.and_then(|s| s.template.as_ref())));
    parts(
        &r.metadata,
        vec![
            count(spec.and_then(|s| s.replicas)),
            Cell::text(status.map_or(0, |s| s.replicas).to_string()),
            count(status.and_then(|s| s.ready_replicas)),
            age(&r.metadata),
            containers,
            images,
            Cell::text(format_label_selector(spec.map(|s| &s.selector))),
        ],
    )
}

/// STATUS COMPLETIONS DURATION AGE; wide CONTAINERS IMAGES SELECTOR.
pub fn job(j: &Job) -> RowParts {
    let spec = j.spec.as_ref();
    let status = j.status.as_ref();
    let succeeded = status.and_then(|s| s.succeeded).unwrap_or(0);
    let completions = match spec.and_then(|s| s.completions) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match spec.and_then(|s| s.parallelism).unwrap_or(0) {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = status.and_then(|s| s.start_time.as_ref()).map(millis);
    let completion = status.and_then(|s| s.completion_time.as_ref()).map(millis);
    let duration = match (start, completion) {
        (None, _) => Cell::text(""),
        (Some(start), None) => Cell::age(Some(start)),
        (Some(start), Some(end)) => {
            Cell::text(timoneiro_client::render::human_duration(end - start))
        }
    };
    let has = |type_: &str| {
        status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
    };
    let state = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if j.metadata.deletion_timestamp.is_some() {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let [containers, images] = containers_and_images(template_spec(spec.map(|s| &s.template)));
    parts(
        &j.metadata,
        vec![
            Cell::text(state),
            Cell::text(completions),
            duration,
            age(&j.metadata),
            containers,
            images,
            Cell::text(format_label_selector(
                spec.and_then(|s| s.selector.as_ref()),
            )),
        ],
    )
}

/// SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE; wide CONTAINERS IMAGES SELECTOR.
pub fn cronjob(c: &CronJob) -> RowParts {
    let spec = &c.spec;
    let status = c.status.as_ref();
    let suspend = match spec.suspend {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let last_schedule = match status.and_then(|s| s.last_schedule_time.as_ref()) {
        Some(time) => Cell::age(Some(millis(time))),
        None => Cell::text("<none>"),
    };
    let job_spec = spec.job_template.spec.as_ref();
    let [containers, images] = containers_and_images(template_spec(job_spec.map(|j| &j.template)));
    parts(
        &c.metadata,
        vec![
            Cell::text(spec.schedule.clone()),
            Cell::text(
                spec.time_zone
                    .clone()
                    .unwrap_or_else(|| "<none>".to_string()),
            ),
            Cell::text(suspend),
            Cell::text(
                status
                    .and_then(|s| s.active.as_ref())
                    .map_or(0, Vec::len)
                    .to_string(),
            ),
            last_schedule,
            age(&c.metadata),
            containers,
            images,
            Cell::text(format_label_selector(
                job_spec.and_then(|j| j.selector.as_ref()),
            )),
        ],
    )
}

pub static DEPLOYMENTS: Descriptor = Descriptor {
    plural: "deployments",
    singular: "deployment",
    kind: "Deployment",
    group: "apps",
    version: "v1",
    namespaced: true,
    short_names: &["deploy"],
    tier: 2,
    name_first: true,
    columns: &[
        col("READY"),
        col("UP-TO-DATE"),
        col("AVAILABLE"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
    row_limit: None,
    cache: &Namespaced::<Deployment>::new(deployment),
};

pub static STATEFULSETS: Descriptor = Descriptor {
    plural: "statefulsets",
    singular: "statefulset",
    kind: "StatefulSet",
    group: "apps",
    version: "v1",
    namespaced: true,
    short_names: &["sts"],
    tier: 2,
    name_first: true,
    columns: &[col("READY"), col("AGE"), wide("CONTAINERS"), wide("IMAGES")],
    row_limit: None,
    cache: &Namespaced::<StatefulSet>::new(statefulset),
};

pub static DAEMONSETS: Descriptor = Descriptor {
    plural: "daemonsets",
    singular: "daemonset",
    kind: "DaemonSet",
    group: "apps",
    version: "v1",
    namespaced: true,
    short_names: &["ds"],
    tier: 2,
    name_first: true,
    columns: &[
        col("DESIRED"),
        col("CURRENT"),
        col("READY"),
        col("UP-TO-DATE"),
        col("AVAILABLE"),
        col("NODE SELECTOR"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
    row_limit: None,
    cache: &Namespaced::<DaemonSet>::new(daemonset),
};

pub static REPLICASETS: Descriptor = Descriptor {
    plural: "replicasets",
    singular: "replicaset",
    kind: "ReplicaSet",
    group: "apps",
    version: "v1",
    namespaced: true,
    short_names: &["rs"],
    tier: 3,
    name_first: true,
    columns: &[
        col("DESIRED"),
        col("CURRENT"),
        col("READY"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
    row_limit: None,
    cache: &Namespaced::<ReplicaSet>::new(replicaset),
};

pub static JOBS: Descriptor = Descriptor {
    plural: "jobs",
    singular: "job",
    kind: "Job",
    group: "batch",
    version: "v1",
    namespaced: true,
    short_names: &[],
    tier: 3,
    name_first: true,
    columns: &[
        col("STATUS"),
        col("COMPLETIONS"),
        col("DURATION"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
    row_limit: None,
    cache: &Namespaced::<Job>::new(job),
};

pub static CRONJOBS: Descriptor = Descriptor {
    plural: "cronjobs",
    singular: "cronjob",
    kind: "CronJob",
    group: "batch",
    version: "v1",
    namespaced: true,
    short_names: &["cj"],
    tier: 3,
    name_first: true,
    columns: &[
        col("SCHEDULE"),
        col("TIMEZONE"),
        col("SUSPEND"),
        col("ACTIVE"),
        col("LAST SCHEDULE"),
        col("AGE"),
        wide("CONTAINERS"),
        wide("IMAGES"),
        wide("SELECTOR"),
    ],
    row_limit: None,
    cache: &Namespaced::<CronJob>::new(cronjob),
};
