//! `describe`: an object as `kubectl describe` prints it, with its events.
//!
//! Each describer writes lines the way kubectl's do (`k8s.io/kubectl/pkg/
//! describe`): text with tabs between a label and its value, indented two
//! spaces per level, then aligned into columns by
//! [`timoneiro_client::tabwriter`]. The objects
//! come from the daemon's caches, never from a second request to the API
//! server: the events of the object (matched by the involved object's uid),
//! and for controllers the pods and replica sets they own.
//!
//! Kinds without a describer of their own get kubectl's generic one: every
//! field of the object, sorted, with camel-case names split into words.

pub mod gather;
mod network;
mod pod;
mod simple;
pub(crate) mod workloads;

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, LimitRange, Pod, ResourceQuota, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use serde_json::Value;

/// What a describer may read besides the object: the caches' view of the
/// objects around it, at one moment.
#[derive(Debug, Default)]
pub struct Related {
    /// Events whose involved object is this one. `None` when the kind
    /// prints no Events section (secrets) or the events cache is not
    /// available; an empty list prints `Events: <none>`.
    pub events: Option<Vec<Event>>,
    /// The pods of the object's namespace (controllers count theirs, a
    /// claim lists its users).
    pub pods: Vec<Pod>,
    /// The replica sets of the object's namespace (a deployment names its
    /// old and new ones).
    pub replica_sets: Vec<ReplicaSet>,
    /// The services of the object's namespace (an ingress's backends).
    pub services: Vec<Service>,
    /// The EndpointSlices of the object's namespace (a service's and an
    /// ingress backend's endpoints).
    pub endpoint_slices: Vec<EndpointSlice>,
    /// For a namespace: its resource quotas and limit ranges (`None` when
    /// they could not be listed: the section is left out).
    pub resource_quotas: Option<Vec<ResourceQuota>>,
    pub limit_ranges: Option<Vec<LimitRange>>,
    /// For a secret: how many keys its data has (the daemon never holds
    /// the values, only the count from the server's Table).
    pub secret_keys: Option<String>,
}

/// Why an object could not be described.
#[derive(Debug, thiserror::Error)]
pub enum DescribeError {
    /// The cached object does not have the shape of its kind.
    #[error("the cached {kind} does not decode: {source}")]
    Decode {
        kind: &'static str,
        source: serde_json::Error,
    },
}

/// Describe `object`, an object of the kind named by `plural` (and `group`),
/// as `kubectl describe` would at `now`.
pub fn describe(
    group: &str,
    plural: &str,
    object: &Value,
    related: &Related,
    now: Timestamp,
) -> Result<String, DescribeError> {
    let mut w = Writer::new(now);
    match (group, plural) {
        ("", "pods") => pod::describe(&mut w, &typed(object, "v1", "Pod")?, related),
        ("", "configmaps") => {
            simple::config_map(&mut w, &typed(object, "v1", "ConfigMap")?, related)
        }
        ("", "secrets") => simple::secret(&mut w, &typed(object, "v1", "Secret")?, related),
        ("", "serviceaccounts") => {
            simple::service_account(&mut w, &typed(object, "v1", "ServiceAccount")?, related)
        }
        ("", "services") => network::service(&mut w, &typed(object, "v1", "Service")?, related),
        ("networking.k8s.io", "ingresses") => network::ingress(
            &mut w,
            &typed(object, "networking.k8s.io/v1", "Ingress")?,
            related,
        ),
        ("", "namespaces") => {
            simple::namespace(&mut w, &typed(object, "v1", "Namespace")?, related)
        }
        ("", "persistentvolumes") => {
            simple::persistent_volume(&mut w, &typed(object, "v1", "PersistentVolume")?, related)
        }
        ("", "persistentvolumeclaims") => simple::persistent_volume_claim(
            &mut w,
            &typed(object, "v1", "PersistentVolumeClaim")?,
            related,
        ),
        ("apps", "deployments") => {
            workloads::deployment(&mut w, &typed(object, "apps/v1", "Deployment")?, related)
        }
        ("apps", "replicasets") => {
            workloads::replica_set(&mut w, &typed(object, "apps/v1", "ReplicaSet")?, related)
        }
        ("apps", "daemonsets") => {
            workloads::daemon_set(&mut w, &typed(object, "apps/v1", "DaemonSet")?, related)
        }
        ("apps", "statefulsets") => {
            workloads::stateful_set(&mut w, &typed(object, "apps/v1", "StatefulSet")?, related)
        }
        ("batch", "jobs") => workloads::job(&mut w, &typed(object, "batch/v1", "Job")?, related),
        ("batch", "cronjobs") => {
            workloads::cron_job(&mut w, &typed(object, "batch/v1", "CronJob")?, related)
        }
        ("autoscaling", "horizontalpodautoscalers") => simple::horizontal_pod_autoscaler(
            &mut w,
            &typed(object, "autoscaling/v2", "HorizontalPodAutoscaler")?,
            related,
        ),
        _ => simple::generic(&mut w, object, related),
    }
    Ok(w.finish())
}

/// Decode `object` as the typed `T`, giving it the `apiVersion` and `kind`
/// k8s-openapi insists on (a cached object may lack them).
fn typed<T: serde::de::DeserializeOwned>(
    object: &Value,
    api_version: &str,
    kind: &'static str,
) -> Result<T, DescribeError> {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), Value::from(api_version));
        map.insert("kind".into(), Value::from(kind));
    }
    serde_json::from_value(object).map_err(|source| DescribeError::Decode { kind, source })
}

/// kubectl's `PrefixWriter` over a tab writer: each write is indented two
/// spaces per level; `finish` aligns the columns.
pub(crate) struct Writer {
    text: String,
    now: Timestamp,
}

impl Writer {
    fn new(now: Timestamp) -> Self {
        Writer {
            text: String::with_capacity(4096),
            now,
        }
    }

    /// Write `text` at `level` (two spaces each). ESC and CR are made
    /// visible as kubectl's `printers.WriteEscaped` does: text from the
    /// cluster never drives the reader's terminal.
    pub(crate) fn write(&mut self, level: usize, text: &str) {
        for _ in 0..level {
            self.text.push_str("  ");
        }
        if text.contains(['\x1b', '\r']) {
            self.text
                .push_str(&text.replace('\x1b', "^[").replace('\r', "\\r"));
        } else {
            self.text.push_str(text);
        }
    }

    fn finish(self) -> String {
        timoneiro_client::tabwriter::align(&self.text)
    }

    /// How long ago `time` was, as kubectl prints it (`<unknown>` for none).
    pub(crate) fn since(&self, time: Option<&Time>) -> String {
        match time {
            Some(t) => self.since_timestamp(t.0),
            None => "<unknown>".to_string(),
        }
    }

    fn since_micro(&self, time: Option<&MicroTime>) -> String {
        match time {
            Some(t) => self.since_timestamp(t.0),
            None => "<unknown>".to_string(),
        }
    }

    fn since_timestamp(&self, t: Timestamp) -> String {
        let millis = self.now.as_millisecond() - t.as_millisecond();
        // Go truncates a duration's seconds toward zero.
        let seconds = millis / 1000;
        timoneiro_client::render::human_duration(seconds * 1000)
    }
}

/// A time as Go's `time.RFC1123Z` prints it: `Sat, 05 Dec 2026 13:53:00 +0000`.
pub(crate) fn rfc1123z(time: &Time) -> String {
    time.0.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// kubectl's `printLabelsMultiline`: `Title:\tk=v`, one label a line, sorted.
pub(crate) fn labels(w: &mut Writer, title: &str, labels: Option<&BTreeMap<String, String>>) {
    labels_indented(w, "", title, labels);
}

pub(crate) fn labels_indented(
    w: &mut Writer,
    indent: &str,
    title: &str,
    labels: Option<&BTreeMap<String, String>>,
) {
    w.write(0, &format!("{indent}{title}:\t"));
    let Some(labels) = labels.filter(|l| !l.is_empty()) else {
        w.write(0, "<none>\n");
        return;
    };
    for (i, (key, value)) in labels.iter().enumerate() {
        if i != 0 {
            w.write(0, indent);
            w.write(0, "\t");
        }
        w.write(0, &format!("{key}={value}\n"));
    }
}

/// The annotation kubectl never prints.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Longer annotations are cut (kubectl's `maxAnnotationLen`).
const MAX_ANNOTATION_LEN: usize = 140;

/// kubectl's `printAnnotationsMultiline`.
pub(crate) fn annotations(
    w: &mut Writer,
    title: &str,
    annotations: Option<&BTreeMap<String, String>>,
) {
    w.write(0, &format!("{title}:\t"));
    let keys: Vec<(&String, &String)> = annotations
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != LAST_APPLIED)
        .collect();
    if keys.is_empty() {
        w.write(0, "<none>\n");
        return;
    }
    for (i, (key, value)) in keys.into_iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        let value = value.strip_suffix('\n').unwrap_or(value);
        if value.len() + key.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w.write(0, &format!("{key}:\n"));
            for line in value.split('\n') {
                w.write(
                    0,
                    &format!("\t  {}\n", shorten(line, MAX_ANNOTATION_LEN - 2)),
                );
            }
        } else {
            w.write(0, &format!("{key}: {value}\n"));
        }
    }
}

/// Cut `s` to `max` bytes and mark it (on a character boundary).
fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// `Kind/name` of the object's controller, if it has one.
pub(crate) fn controller(meta: &ObjectMeta) -> Option<String> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| format!("{}/{}", r.kind, r.name))
}

/// kubectl's `DescribeEvents`: oldest last-seen first.
pub(crate) fn events(w: &mut Writer, related: &Related) {
    let Some(events) = &related.events else {
        return;
    };
    if events.is_empty() {
        w.write(0, "Events:\t<none>\n");
        return;
    }
    let mut events: Vec<&Event> = events.iter().collect();
    events.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0));
    // kubectl flushes its tab writer here: the table aligns on its own.
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write(1, "----\t------\t----\t----\t-------\n");
    for e in events {
        let first = if e.event_time.is_some() {
            w.since_micro(e.event_time.as_ref())
        } else {
            w.since(e.first_timestamp.as_ref())
        };
        let count = e.count.unwrap_or(0);
        let interval = if let Some(series) = &e.series {
            format!(
                "{} (x{} over {first})",
                w.since_micro(series.last_observed_time.as_ref()),
                series.count.unwrap_or(0)
            )
        } else if count > 1 {
            format!(
                "{} (x{count} over {first})",
                w.since(e.last_timestamp.as_ref())
            )
        } else {
            first
        };
        let mut source = e
            .source
            .as_ref()
            .and_then(|s| s.component.clone())
            .unwrap_or_default();
        if source.is_empty() {
            source = e.reporting_component.clone().unwrap_or_default();
        }
        let message = e.message.as_deref().unwrap_or("").trim();
        let message = match e.involved_object.field_path.as_deref() {
            Some(path) if !path.is_empty() => format!("{path}: {message}"),
            _ => message.to_string(),
        };
        w.write(
            1,
            &format!(
                "{}\t{}\t{interval}\t{source}\t{message}\n",
                e.type_.as_deref().unwrap_or(""),
                e.reason.as_deref().unwrap_or("")
            ),
        );
    }
}

/// `s`, or `<none>` when it is empty.
pub(crate) fn or_none(s: &str) -> &str {
    if s.is_empty() { "<none>" } else { s }
}

#[cfg(test)]
mod golden;
