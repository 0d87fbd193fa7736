//! `pods/{name}/log`: container logs as the kubelet serves them through the
//! API server. Every running container writes `rate` lines a second from
//! the moment it started (its `state.running.startedAt`); the kubelet keeps
//! the last `KEPT_LINES` of them. Query parameters as the API server takes
//! them: `container`, `follow`, `tailLines`, `sinceSeconds`, `sinceTime`,
//! `previous`, `timestamps`. Errors carry the API server's and kubelet's
//! messages (400 BadRequest), e.g. `a container name must be specified for
//! pod web, choose one of: [app envoy]`.
//!
//! A followed stream ends when the container's instance ends: its pod is
//! deleted or the container restarts, as a real kubelet's stream does.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::resources::Resource;
use crate::server::{failure, quote};
use crate::store::Store;

/// Lines the kubelet keeps per container instance (its files rotate).
pub const KEPT_LINES: u64 = 10_000;

/// How often a followed stream looks for new lines and for the end of its
/// container.
const FOLLOW_TICK: Duration = Duration::from_millis(20);

/// Lines per second every running container writes, changeable at run
/// time (`POST /sim/logs?rate=N`).
#[derive(Debug)]
pub struct Rate(AtomicU64);

impl Rate {
    /// A rate of `per_second` lines.
    pub fn new(per_second: f64) -> Rate {
        Rate(AtomicU64::new(per_second.max(0.0).to_bits()))
    }

    /// Lines a second now.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    /// Change it.
    pub fn set(&self, per_second: f64) {
        self.0
            .store(per_second.max(0.0).to_bits(), Ordering::Relaxed);
    }
}

/// One run of a container: the lines it wrote lie in `[start, end)`.
#[derive(Debug, Clone, PartialEq)]
struct Instance {
    start: Timestamp,
    /// None while it runs.
    end: Option<Timestamp>,
}

/// Why a log cannot be read: a 400 BadRequest with this message.
pub(crate) struct Refusal(String);

impl Refusal {
    pub(crate) fn bad(message: String) -> Refusal {
        Refusal(message)
    }

    pub(crate) fn response(self) -> Response {
        failure(400, "BadRequest", &self.0, None, None)
    }
}

/// The text of line `n` of a container: what a small web service logs,
/// with the line's number so readers can check order and gaps.
pub fn line_text(pod: &str, container: &str, n: u64) -> String {
    const PATHS: [&str; 5] = ["/", "/api/orders", "/api/users", "/healthz", "/metrics"];
    let status = if n.is_multiple_of(17) { 500 } else { 200 };
    let level = if status == 500 { "ERROR" } else { "INFO" };
    format!(
        "{level} {pod}/{container} GET {} {status} {}ms seq={n}",
        PATHS[(n % 5) as usize],
        (n * 7) % 90 + 1
    )
}

/// The kubelet's timestamp: RFC 3339 with nine digits of nanoseconds.
pub fn kubelet_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%NZ").to_string()
}

/// When line `n` of an instance starting at `start` was written.
fn line_time(start: Timestamp, n: u64, rate: f64) -> Timestamp {
    let nanos = (n as f64 / rate * 1e9) as i64;
    start
        .checked_add(SignedDuration::from_nanos(nanos))
        .unwrap_or(start)
}

/// Lines written by `until`, at `rate`: how many exist.
fn lines_by(instance: &Instance, until: Timestamp, rate: f64) -> u64 {
    let until = instance.end.map_or(until, |end| end.min(until));
    let seconds = until.duration_since(instance.start).as_secs_f64();
    if seconds <= 0.0 || rate <= 0.0 {
        0
    } else {
        (seconds * rate).floor() as u64 + 1
    }
}

fn timestamp(value: &Value) -> Option<Timestamp> {
    value.as_str().and_then(|s| s.parse().ok())
}

/// The container to read, checked as the API server checks it.
pub(crate) fn container_of(
    pod: &Value,
    name: &str,
    asked: Option<&str>,
) -> Result<String, Refusal> {
    let names = |key: &str| -> Vec<String> {
        pod["spec"][key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    let (containers, init) = (names("containers"), names("initContainers"));
    match asked.filter(|c| !c.is_empty()) {
        Some(asked) if containers.iter().chain(&init).any(|c| c == asked) => Ok(asked.to_string()),
        Some(asked) => Err(Refusal::bad(format!(
            "container {asked} is not valid for pod {name}"
        ))),
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => {
            let mut message = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !init.is_empty() {
                message.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init.join(" ")
                ));
            }
            Err(Refusal::bad(message))
        }
    }
}

/// The container's instance to read: the current one, or with `previous`
/// the one before its last restart.
fn instance_of(
    pod: &Value,
    pod_name: &str,
    container: &str,
    previous: bool,
) -> Result<Instance, Refusal> {
    let status = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .flat_map(|key| pod["status"][*key].as_array().into_iter().flatten())
        .find(|s| s["name"] == container);
    if previous {
        let last = status.map(|s| &s["lastState"]["terminated"]);
        return match last.and_then(|t| Some((timestamp(&t["startedAt"])?, t))) {
            Some((start, t)) => Ok(Instance {
                start,
                end: Some(timestamp(&t["finishedAt"]).unwrap_or(start)),
            }),
            None => Err(Refusal::bad(format!(
                "previous terminated container {} in pod {} not found",
                quote(container),
                quote(pod_name)
            ))),
        };
    }
    let state = status.map(|s| &s["state"]);
    if let Some(running) = state.map(|s| &s["running"]).filter(|r| r.is_object()) {
        let start = timestamp(&running["startedAt"]).unwrap_or_else(Timestamp::now);
        return Ok(Instance { start, end: None });
    }
    if let Some(done) = state.map(|s| &s["terminated"]).filter(|t| t.is_object()) {
        let start = timestamp(&done["startedAt"]).unwrap_or_else(Timestamp::now);
        let end = timestamp(&done["finishedAt"]).unwrap_or(start);
        return Ok(Instance {
            start,
            end: Some(end),
        });
    }
    let reason = state
        .and_then(|s| s["waiting"]["reason"].as_str())
        .unwrap_or("ContainerCreating");
    Err(Refusal::bad(format!(
        "container {} in pod {} is waiting to start: {reason}",
        quote(container),
        quote(pod_name)
    )))
}

/// What the query asks for.
struct Ask {
    container: Option<String>,
    follow: bool,
    tail: Option<u64>,
    since: Option<Timestamp>,
    previous: bool,
    timestamps: bool,
}

fn flag(params: &HashMap<String, String>, key: &str) -> bool {
    params.get(key).is_some_and(|v| v == "true" || v == "1")
}

fn ask(params: &HashMap<String, String>, now: Timestamp) -> Result<Ask, Refusal> {
    let number = |key: &str| -> Result<Option<i64>, Refusal> {
        params
            .get(key)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| Refusal::bad(format!("{key}: invalid value {}", quote(v))))
            })
            .transpose()
    };
    let since_seconds = number("sinceSeconds")?;
    let since_time = params
        .get("sinceTime")
        .map(|t| {
            t.parse::<Timestamp>()
                .map_err(|_| Refusal::bad(format!("sinceTime: invalid value {}", quote(t))))
        })
        .transpose()?;
    if since_seconds.is_some() && since_time.is_some() {
        return Err(Refusal::bad(
            "at most one of `sinceTime` or `sinceSeconds` may be specified".into(),
        ));
    }
    if since_seconds.is_some_and(|s| s < 1) {
        return Err(Refusal::bad("sinceSeconds: must be greater than 0".into()));
    }
    let tail = number("tailLines")?;
    if tail.is_some_and(|t| t < 0) {
        return Err(Refusal::bad(
            "tailLines: must be greater than or equal to 0".into(),
        ));
    }
    Ok(Ask {
        container: params.get("container").cloned(),
        follow: flag(params, "follow"),
        tail: tail.map(|t| t as u64),
        since: since_time.or_else(|| {
            since_seconds.and_then(|s| now.checked_sub(SignedDuration::from_secs(s)).ok())
        }),
        previous: flag(params, "previous"),
        timestamps: flag(params, "timestamps"),
    })
}

/// Serve `GET …/namespaces/{namespace}/pods/{name}/log`.
pub fn serve(
    store: &Arc<Store>,
    rate: &Arc<Rate>,
    namespace: &str,
    name: &str,
    params: &HashMap<String, String>,
) -> Response {
    let now = Timestamp::now();
    let Some(pods) = Resource::by_plural("pods") else {
        return failure(500, "InternalError", "no pods resource", None, None);
    };
    let key = (namespace.to_string(), name.to_string());
    let Some(obj) = store.get(pods, &key) else {
        let details = format!("{{\"name\":{},\"kind\":\"pods\"}}", quote(name));
        return failure(
            404,
            "NotFound",
            &format!("pods {} not found", quote(name)),
            Some(&details),
            None,
        );
    };
    let pod = obj.value();
    let ask = match ask(params, now) {
        Ok(ask) => ask,
        Err(refusal) => return refusal.response(),
    };
    let container = match container_of(&pod, name, ask.container.as_deref()) {
        Ok(container) => container,
        Err(refusal) => return refusal.response(),
    };
    let instance = match instance_of(&pod, name, &container, ask.previous) {
        Ok(instance) => instance,
        Err(refusal) => return refusal.response(),
    };
    let per_second = rate.get();
    let written = lines_by(&instance, now, per_second);
    let kept_from = written.saturating_sub(KEPT_LINES);
    let mut first = ask.tail.map_or(kept_from, |tail| {
        written.saturating_sub(tail).max(kept_from)
    });
    if let Some(since) = ask.since {
        while first < written && line_time(instance.start, first, per_second) < since {
            first += 1;
        }
    }
    let render = {
        let (pod_name, container, timestamps) =
            (name.to_string(), container.clone(), ask.timestamps);
        move |n: u64, at: Timestamp| {
            let text = line_text(&pod_name, &container, n);
            if timestamps {
                format!("{} {text}\n", kubelet_time(at))
            } else {
                format!("{text}\n")
            }
        }
    };
    let history: String = (first..written)
        .map(|n| render(n, line_time(instance.start, n, per_second)))
        .collect();
    let builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::CACHE_CONTROL, "no-cache, private");
    // Only a running container's log can be followed; any other ends.
    if !ask.follow || ask.previous || instance.end.is_some() {
        return builder
            .body(Body::from(history))
            .unwrap_or_else(|_| Response::new(Body::empty()));
    }
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let (store, rate) = (store.clone(), rate.clone());
    tokio::spawn(async move {
        if tx.send(Ok(Bytes::from(history))).await.is_err() {
            return;
        }
        follow(
            &store, &rate, pods, key, &container, instance, written, render, tx,
        )
        .await;
    });
    builder
        .body(Body::from_stream(ReceiverStream::new(rx)))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Write the container's new lines as time passes, at the rate of the
/// moment, until the pod is gone, the container restarts or the reader
/// leaves.
#[allow(clippy::too_many_arguments)]
async fn follow(
    store: &Store,
    rate: &Rate,
    pods: &'static Resource,
    key: (String, String),
    container: &str,
    instance: Instance,
    mut next: u64,
    render: impl Fn(u64, Timestamp) -> String,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    // New lines are stamped with the time they are written: a rate change
    // moves the schedule, as a busier service would.
    let mut anchor = (Timestamp::now(), next);
    let mut last_rate = f64::NAN;
    let mut ticks = 0u32;
    loop {
        tokio::time::sleep(FOLLOW_TICK).await;
        ticks += 1;
        if ticks.is_multiple_of(10) {
            let same = store.get(pods, &key).is_some_and(|obj| {
                let pod = obj.value();
                pod["metadata"]["deletionTimestamp"].is_null()
                    && instance_of(&pod, &key.1, container, false).ok().as_ref() == Some(&instance)
            });
            if !same {
                return;
            }
        }
        let rate = rate.get();
        if rate <= 0.0 {
            last_rate = rate;
            continue;
        }
        if rate != last_rate {
            anchor = (Timestamp::now(), next);
            last_rate = rate;
        }
        let now = Timestamp::now();
        let due = anchor.1
            + (now.duration_since(anchor.0).as_secs_f64() * rate)
                .floor()
                .max(0.0) as u64;
        if due <= next {
            continue;
        }
        let chunk: String = (next..due)
            .map(|n| {
                let offset = (n - anchor.1) as f64 / rate;
                let at = anchor
                    .0
                    .checked_add(SignedDuration::from_secs_f64(offset))
                    .unwrap_or(now);
                render(n, at)
            })
            .collect();
        next = due;
        if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Value {
        serde_json::json!({
            "metadata": {"name": "api"},
            "spec": {"containers": [{"name": "app"}, {"name": "envoy"}], "initContainers": [{"name": "setup"}]},
            "status": {"containerStatuses": [
                {"name": "app", "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                 "lastState": {"terminated": {"startedAt": "2025-12-31T23:00:00Z", "finishedAt": "2025-12-31T23:59:00Z"}}},
                {"name": "envoy", "state": {"waiting": {"reason": "ImagePullBackOff"}}}
            ]}
        })
    }

    #[test]
    fn containers_are_checked_with_the_api_servers_messages() {
        let pod = pod();
        // staging/src/k8s.io/kubectl and pkg/registry/core/pod: "choose one of".
        assert_eq!(
            container_of(&pod, "api", None).err().map(|r| r.0),
            Some("a container name must be specified for pod api, choose one of: [app envoy] or one of the init containers: [setup]".into())
        );
        assert_eq!(
            container_of(&pod, "api", Some("nope")).err().map(|r| r.0),
            Some("container nope is not valid for pod api".into())
        );
        assert_eq!(
            container_of(&pod, "api", Some("setup")).ok(),
            Some("setup".into())
        );
        assert_eq!(
            instance_of(&pod, "api", "envoy", false).err().map(|r| r.0),
            Some("container \"envoy\" in pod \"api\" is waiting to start: ImagePullBackOff".into())
        );
        assert_eq!(
            instance_of(&pod, "api", "envoy", true).err().map(|r| r.0),
            Some("previous terminated container \"envoy\" in pod \"api\" not found".into())
        );
        let previous = instance_of(&pod, "api", "app", true)
            .ok()
            .expect("previous");
        assert!(previous.end.is_some());
    }

    #[test]
    fn lines_are_counted_from_the_start_at_the_rate() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let running = Instance { start, end: None };
        let later = start + SignedDuration::from_secs(10);
        // Line 0 at the start, then one every half second: 0..=20.
        assert_eq!(lines_by(&running, later, 2.0), 21);
        assert_eq!(
            lines_by(&running, start - SignedDuration::from_secs(1), 2.0),
            0
        );
        assert_eq!(
            kubelet_time(line_time(start, 3, 2.0)),
            "2026-01-01T00:00:01.500000000Z"
        );
    }
}
