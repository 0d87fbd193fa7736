//! Container logs: one pod's, or every pod of a workload or a label
//! selector, read from the API server (`pods/{name}/log`) with the
//! context's client and merged into one stream of batches.
//!
//! Which pods: a pod by name, or the pods the cache holds for a workload's
//! selector or the user's. With `follow`, a workload's or selector's pods
//! are followed stern-style: the pods cache is watched, a pod that appears
//! (or a container that restarts) joins the stream as soon as its container
//! has started, a deleted pod leaves it, and there is no limit on how many
//! are followed at once (kubectl stops at 5). Lines of all containers are
//! interleaved in the order they arrive.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::AsyncBufReadExt as _;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, LogParams};
use timoneiro_proto::v1;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tonic::Status;

use crate::catalog::Kind;
use crate::cluster::Cluster;
use crate::selector::Selector;
use crate::status::SyncState;

/// The most lines one answer carries.
const BATCH_LINES: usize = 1000;
/// The most container streams one request keeps open.
pub const MAX_STREAMS: usize = 1000;
/// How long to wait for the pods cache to load before answering.
pub(crate) const LOAD_WAIT: Duration = Duration::from_secs(10);
/// How often a followed selector's pods are looked at again, at most.
const RESCAN_EVERY: Duration = Duration::from_millis(250);
/// The annotation naming a pod's default container (kubectl's).
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// What feeds the merged stream.
#[derive(Debug)]
enum Event {
    Line(v1::LogLine),
    Notice(String),
    /// A read that failed and ends the request (a named pod's, as kubectl).
    Failed(Status),
    Ended(StreamKey),
}

/// One container instance: pod uid, container, restart count.
type StreamKey = (String, String, i32);

/// The pods a request reads.
#[derive(Debug, Clone)]
pub(crate) enum Pods {
    /// One pod by name.
    Named(String),
    /// Whatever the selector matches, now and (following) later.
    Selected { selector: Selector, what: String },
}

/// Which containers of a pod.
#[derive(Debug, Clone)]
enum Containers {
    One(String),
    All,
    Default,
}

/// The workload kinds whose pods `logs KIND/NAME` reads.
const WORKLOADS: [(&str, &str); 5] = [
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
];

async fn resolve_pods(
    cluster: &Cluster,
    namespace: &str,
    request: &v1::LogsRequest,
) -> Result<Pods, Status> {
    if !request.label_selector.is_empty() {
        if !request.target.is_empty() {
            return Err(Status::invalid_argument(
                "logs: give a pod, KIND/NAME or -l SELECTOR, not both a name and a selector",
            ));
        }
        let selector = Selector::parse(&request.label_selector)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        return Ok(Pods::Selected {
            selector,
            what: format!("pods matching {}", request.label_selector),
        });
    }
    let Some((kind, name)) = request.target.split_once('/') else {
        if request.target.is_empty() {
            return Err(Status::invalid_argument(
                "logs: name a pod, KIND/NAME (e.g. deploy/web) or -l SELECTOR",
            ));
        }
        return Ok(Pods::Named(request.target.clone()));
    };
    let resolved = cluster
        .resolve(kind)
        .await
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let spec = resolved.spec();
    if spec.group.is_empty() && spec.plural == "pods" {
        return Ok(Pods::Named(name.to_string()));
    }
    if !WORKLOADS.contains(&(spec.group.as_str(), spec.plural.as_str())) {
        return Err(Status::invalid_argument(format!(
            "logs: {} have no pods of their own; give a pod, a deployment, replicaset, statefulset, daemonset or job, or -l SELECTOR",
            spec.plural
        )));
    }
    let store = cluster.open(&resolved).await;
    let _in_use = store.begin_use();
    crate::describe::gather::wait_loaded(&store, LOAD_WAIT).await;
    let object = crate::server::cached_object(&store, namespace, name)?;
    let selector = object
        .pointer("/spec/selector")
        .cloned()
        .and_then(|s| serde_json::from_value::<LabelSelector>(s).ok());
    let selector = crate::describe::workloads::selector_string(selector.as_ref());
    if selector.is_empty() {
        return Err(Status::failed_precondition(format!(
            "{}/{name} has no pod selector",
            spec.singular
        )));
    }
    let selector = Selector::parse(&selector).map_err(|e| {
        Status::failed_precondition(format!("{}/{name}'s selector: {e}", spec.singular))
    })?;
    Ok(Pods::Selected {
        selector,
        what: format!("{}/{name}", spec.singular),
    })
}

/// The pods of `pods` in the cache now.
pub(crate) async fn current_pods(
    cluster: &Cluster,
    kind: &Kind,
    namespace: &str,
    pods: &Pods,
) -> Result<Vec<Pod>, Status> {
    match pods {
        Pods::Named(name) => {
            let store = cluster.open(kind).await;
            let _in_use = store.begin_use();
            let object = crate::server::cached_object(&store, namespace, name)?;
            let mut object = object;
            if let Some(map) = object.as_object_mut() {
                map.insert("apiVersion".into(), "v1".into());
                map.insert("kind".into(), "Pod".into());
            }
            let pod = serde_json::from_value::<Pod>(object)
                .map_err(|e| Status::internal(format!("the cached pod does not decode: {e}")))?;
            Ok(vec![pod])
        }
        Pods::Selected { selector, .. } => Ok(crate::describe::gather::selected(
            cluster,
            kind,
            Some(namespace),
            Some(selector.clone()),
        )
        .await),
    }
}

fn container_names(pod: &Pod) -> (Vec<String>, Vec<String>) {
    let spec = pod.spec.as_ref();
    let names = |list: Option<&Vec<k8s_openapi::api::core::v1::Container>>| {
        list.into_iter()
            .flatten()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    (
        names(spec.map(|s| &s.containers)),
        names(spec.and_then(|s| s.init_containers.as_ref())),
    )
}

/// The containers of `pod` to read, and what kubectl would say about the
/// choice (`Defaulted container "app" out of: app, envoy`).
fn choose(pod: &Pod, containers: &Containers, named: bool) -> (Vec<String>, Option<String>) {
    let (regular, init) = container_names(pod);
    match containers {
        Containers::One(name) => {
            // One named pod: let the API server judge the name. Of many
            // pods, those without the container are left out.
            if named || regular.iter().chain(&init).any(|c| c == name) {
                (vec![name.clone()], None)
            } else {
                (Vec::new(), None)
            }
        }
        Containers::All => (init.into_iter().chain(regular).collect(), None),
        Containers::Default => {
            let annotated = pod
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DEFAULT_CONTAINER))
                .filter(|c| regular.contains(c))
                .cloned();
            let Some(chosen) = annotated.or_else(|| regular.first().cloned()) else {
                return (Vec::new(), None);
            };
            let note = (named && regular.len() + init.len() > 1).then(|| {
                let all: Vec<String> = regular
                    .iter()
                    .cloned()
                    .chain(init.iter().map(|c| format!("{c} (init)")))
                    .collect();
                format!("Defaulted container {chosen:?} out of: {}", all.join(", "))
            });
            (vec![chosen], note)
        }
    }
}

/// The pods cache, kept in use while the guard lives, once loaded (or
/// after `wait`): its kind, store, guard and sync status.
pub(crate) async fn loaded_pods(
    cluster: &Cluster,
    wait: Duration,
) -> Result<
    (
        Kind,
        std::sync::Arc<crate::store::Store>,
        crate::store::StoreUse,
        crate::status::SyncStatus,
    ),
    Status,
> {
    let kind = cluster
        .resolve("pods")
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
    let store = cluster.open(&kind).await;
    let in_use = store.begin_use();
    let loaded = crate::describe::gather::wait_loaded(&store, wait).await;
    Ok((kind, store, in_use, loaded))
}

/// The container kubectl picks when none is named, and what kubectl says
/// about the choice when the pod has others.
pub(crate) fn default_container(pod: &Pod) -> (Option<String>, Option<String>) {
    let (chosen, note) = choose(pod, &Containers::Default, true);
    (chosen.into_iter().next(), note)
}

/// The restart count of a container, and whether it has started (so its
/// log can be read).
fn instance(pod: &Pod, container: &str) -> (i32, bool) {
    let status = pod.status.as_ref().and_then(|s| {
        s.container_statuses
            .iter()
            .flatten()
            .chain(s.init_container_statuses.iter().flatten())
            .find(|c| c.name == container)
    });
    match status {
        Some(status) => {
            let state = status.state.as_ref();
            let started = state.is_some_and(|s| s.running.is_some() || s.terminated.is_some());
            (status.restart_count, started)
        }
        None => (0, false),
    }
}

fn pod_name(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap_or_default()
}

fn pod_uid(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

/// The API server's words for a failed log read.
pub(crate) fn message(error: kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message,
        other => other.to_string(),
    }
}

/// One container instance's log to read.
struct Reader {
    api: Api<Pod>,
    namespace: String,
    pod: String,
    container: String,
    params: LogParams,
    key: StreamKey,
    /// Whether a failed read fails the request.
    fatal: bool,
}

/// Read one container's log line by line into `events`.
async fn read(reader: Reader, events: mpsc::Sender<Event>) {
    let Reader {
        api,
        namespace,
        pod,
        container,
        params,
        key,
        fatal,
    } = reader;
    match api.log_stream(&pod, &params).await {
        Err(error) if fatal => {
            let _ = events
                .send(Event::Failed(crate::actions::api_error(error)))
                .await;
        }
        Err(error) => {
            let _ = events
                .send(Event::Notice(format!(
                    "{pod}/{container}: {}",
                    message(error)
                )))
                .await;
        }
        Ok(reader) => {
            let mut reader = std::pin::pin!(reader);
            let mut buffer = Vec::new();
            loop {
                buffer.clear();
                match reader.read_until(b'\n', &mut buffer).await {
                    Ok(0) => break,
                    Ok(_) => {
                        if buffer.last() == Some(&b'\n') {
                            buffer.pop();
                        }
                        let line = v1::LogLine {
                            namespace: namespace.clone(),
                            pod: pod.clone(),
                            container: container.clone(),
                            text: String::from_utf8_lossy(&buffer).into_owned(),
                        };
                        if events.send(Event::Line(line)).await.is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        let _ = events
                            .send(Event::Notice(format!("{pod}/{container}: {error}")))
                            .await;
                        break;
                    }
                }
            }
        }
    }
    let _ = events.send(Event::Ended(key)).await;
}

/// The open container streams of a request.
struct Streams {
    api: Api<Pod>,
    namespace: String,
    events: mpsc::Sender<Event>,
    open: HashMap<StreamKey, AbortHandle>,
    /// Instances already read (not read again when they end).
    seen: HashSet<StreamKey>,
    /// Pod names by uid, for the notices.
    names: HashMap<String, String>,
    /// Whether a failed read fails the request (not when following a selector).
    fatal: bool,
}

impl Streams {
    fn start(
        &mut self,
        pod: &Pod,
        container: &str,
        restarts: i32,
        mut params: LogParams,
    ) -> Option<String> {
        params.container = Some(container.to_string());
        let key = (pod_uid(pod), container.to_string(), restarts);
        if !self.seen.insert(key.clone()) {
            return None;
        }
        if self.open.len() >= MAX_STREAMS {
            return Some(format!(
                "{}/{container} left out: {MAX_STREAMS} containers are followed already",
                pod_name(pod)
            ));
        }
        self.names.insert(pod_uid(pod), pod_name(pod));
        let task = tokio::spawn(read(
            Reader {
                api: self.api.clone(),
                namespace: self.namespace.clone(),
                pod: pod_name(pod),
                container: container.to_string(),
                params,
                key: key.clone(),
                fatal: self.fatal,
            },
            self.events.clone(),
        ));
        self.open.insert(key, task.abort_handle());
        None
    }

    /// Pods read so far that are no longer in `uids` leave: their streams
    /// stop (if still open) and each container is named once, as stern does.
    fn leave(&mut self, uids: &HashSet<String>) -> Vec<String> {
        let gone: Vec<String> = self
            .names
            .keys()
            .filter(|uid| !uids.contains(*uid))
            .cloned()
            .collect();
        let mut notices = Vec::new();
        for uid in gone {
            let name = self.names.remove(&uid).unwrap_or_default();
            let mut containers: Vec<String> = self
                .seen
                .iter()
                .filter(|key| key.0 == uid)
                .map(|key| key.1.clone())
                .collect();
            containers.sort();
            containers.dedup();
            self.open.retain(|key, handle| {
                let keep = key.0 != uid;
                if !keep {
                    handle.abort();
                }
                keep
            });
            notices.extend(containers.iter().map(|c| format!("- {name}/{c}")));
        }
        notices
    }
}

impl Drop for Streams {
    fn drop(&mut self) {
        for handle in self.open.values() {
            handle.abort();
        }
    }
}

fn base_params(request: &v1::LogsRequest) -> Result<LogParams, Status> {
    if request.since_seconds != 0 && !request.since_time.is_empty() {
        return Err(Status::invalid_argument(
            "logs: --since and --since-time cannot both be given",
        ));
    }
    let since_time = if request.since_time.is_empty() {
        None
    } else {
        Some(request.since_time.parse::<jiff::Timestamp>().map_err(|e| {
            Status::invalid_argument(format!(
                "logs: --since-time {:?} is not an RFC 3339 time: {e}",
                request.since_time
            ))
        })?)
    };
    Ok(LogParams {
        follow: request.follow,
        previous: request.previous,
        timestamps: request.timestamps,
        tail_lines: (request.tail_lines >= 0).then_some(request.tail_lines),
        since_seconds: (request.since_seconds > 0).then_some(request.since_seconds),
        since_time,
        ..LogParams::default()
    })
}

/// Stream the logs `request` asks for into `out` until they end or the
/// client goes away.
pub async fn run(
    cluster: &Cluster,
    request: v1::LogsRequest,
    out: mpsc::Sender<Result<v1::LogsResponse, Status>>,
) -> Result<(), Status> {
    let namespace = if request.namespace.is_empty() {
        cluster.context.namespace.clone()
    } else {
        request.namespace.clone()
    };
    let params = base_params(&request)?;
    let containers = Containers::asked(&request);
    let (pods_kind, pods_store, _in_use, loaded) = loaded_pods(cluster, LOAD_WAIT).await?;
    if matches!(loaded.state, SyncState::Error) {
        return Err(Status::unavailable(format!(
            "the pods cache is not available: {}",
            loaded.message
        )));
    }
    let target = resolve_pods(cluster, &namespace, &request).await?;
    let named = matches!(target, Pods::Named(_));
    // A named pod is read once per container, as kubectl does; a selector
    // or workload is followed, pods joining and leaving.
    let stern = request.follow && !named;
    let (events_tx, mut events) = mpsc::channel::<Event>(4096);
    let mut streams = Streams {
        api: Api::namespaced(cluster.client().clone(), &namespace),
        namespace: namespace.clone(),
        events: events_tx,
        open: HashMap::new(),
        seen: HashSet::new(),
        names: HashMap::new(),
        fatal: !stern,
    };
    let mut notices = Vec::new();
    let pods = current_pods(cluster, &pods_kind, &namespace, &target).await?;
    if pods.is_empty()
        && let Pods::Selected { what, .. } = &target
    {
        if !stern {
            // kubectl's words (and no error) for a selector matching nothing.
            tell(
                &out,
                vec![format!("No resources found in {namespace} namespace.")],
            )
            .await;
            return Ok(());
        }
        notices.push(format!("no pods yet for {what}: waiting for them"));
    }
    notices.extend(start_first(
        &mut streams,
        &pods,
        &containers,
        named,
        stern,
        &params,
    ));
    if !tell(&out, notices).await {
        return Ok(());
    }
    if streams.open.is_empty() && !stern {
        return Ok(());
    }
    // Instances that join later are read from their start.
    let joining = LogParams {
        follow: true,
        tail_lines: None,
        since_seconds: None,
        since_time: None,
        previous: false,
        ..params.clone()
    };
    let mut changes = pods_store.subscribe();
    let mut dirty = false;
    let mut rescan = tokio::time::interval(RESCAN_EVERY);
    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { return Ok(()) };
                if let Flow::Stop(end) = pass_on(event, &mut events, &mut streams, &out, stern).await {
                    return end;
                }
            }
            changed = changes.changed(), if stern => {
                if changed.is_err() {
                    return Ok(());
                }
                dirty = true;
            }
            _ = rescan.tick(), if stern && dirty => {
                dirty = false;
                let pods = current_pods(cluster, &pods_kind, &namespace, &target).await?;
                let notices = rejoin(&mut streams, &pods, &containers, &joining);
                if !tell(&out, notices).await {
                    return Ok(());
                }
            }
            _ = out.closed() => return Ok(()),
        }
    }
}

/// The first streams: each chosen container of `pods` (a named pod's
/// notices say which container was defaulted). Following a selector, a
/// container that has not started joins once it has; read now, it says why
/// it cannot be read.
fn start_first(
    streams: &mut Streams,
    pods: &[Pod],
    containers: &Containers,
    named: bool,
    stern: bool,
    params: &LogParams,
) -> Vec<String> {
    let mut notices = Vec::new();
    for pod in pods {
        let (chosen, note) = choose(pod, containers, named);
        notices.extend(note);
        for container in chosen {
            let (restarts, started) = instance(pod, &container);
            if stern && !started {
                continue;
            }
            notices.extend(streams.start(pod, &container, restarts, params.clone()));
        }
    }
    notices
}

impl Containers {
    /// The containers a request asks for: all, one by name, or the default.
    fn asked(request: &v1::LogsRequest) -> Containers {
        if request.all_containers {
            Containers::All
        } else if !request.container.is_empty() {
            Containers::One(request.container.clone())
        } else {
            Containers::Default
        }
    }
}

/// What the stream loop does next.
enum Flow {
    /// Keep streaming.
    Go,
    /// End the stream, with this result.
    Stop(Result<(), Status>),
}

/// Send notices (none: nothing is sent); false when the client is gone.
async fn tell(out: &mpsc::Sender<Result<v1::LogsResponse, Status>>, notices: Vec<String>) -> bool {
    notices.is_empty()
        || out
            .send(Ok(v1::LogsResponse {
                lines: Vec::new(),
                notices,
            }))
            .await
            .is_ok()
}

/// Pass `first` and whatever else is waiting (up to a batch) to the client
/// as one answer.
async fn pass_on(
    first: Event,
    events: &mut mpsc::Receiver<Event>,
    streams: &mut Streams,
    out: &mpsc::Sender<Result<v1::LogsResponse, Status>>,
    stern: bool,
) -> Flow {
    let mut response = v1::LogsResponse::default();
    let mut next = Some(first);
    while let Some(event) = next.take() {
        match event {
            Event::Line(line) => response.lines.push(line),
            Event::Notice(notice) => response.notices.push(notice),
            Event::Failed(status) => {
                // What was read before the failure is shown first.
                if !response.lines.is_empty() || !response.notices.is_empty() {
                    let _ = out.send(Ok(response)).await;
                }
                return Flow::Stop(Err(status));
            }
            Event::Ended(key) => {
                streams.open.remove(&key);
            }
        }
        if response.lines.len() < BATCH_LINES {
            next = events.try_recv().ok();
        }
    }
    if (!response.lines.is_empty() || !response.notices.is_empty())
        && out.send(Ok(response)).await.is_err()
    {
        return Flow::Stop(Ok(()));
    }
    if streams.open.is_empty() && !stern && events.is_empty() {
        return Flow::Stop(Ok(()));
    }
    Flow::Go
}

/// Following a selector: stop reading pods that left, start reading the
/// containers that joined (read from their start). The notices say who.
fn rejoin(
    streams: &mut Streams,
    pods: &[Pod],
    containers: &Containers,
    joining: &LogParams,
) -> Vec<String> {
    let uids: HashSet<String> = pods.iter().map(pod_uid).collect();
    let mut notices = streams.leave(&uids);
    for pod in pods {
        // A pod on its way out is not joined.
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let (chosen, _) = choose(pod, containers, false);
        for container in chosen {
            let (restarts, started) = instance(pod, &container);
            let key = (pod_uid(pod), container.clone(), restarts);
            if !started || streams.seen.contains(&key) {
                continue;
            }
            match streams.start(pod, &container, restarts, joining.clone()) {
                Some(refused) => notices.push(refused),
                None => notices.push(format!("+ {}/{container}", pod_name(pod))),
            }
        }
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded_pod(name: &str) -> Pod {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/list/pods.json"
        ));
        let list: serde_json::Value = serde_json::from_str(text).expect("JSON");
        let mut item = list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["metadata"]["name"] == name))
            .cloned()
            .expect("recorded pod");
        item["apiVersion"] = "v1".into();
        item["kind"] = "Pod".into();
        serde_json::from_value(item).expect("pod")
    }

    #[test]
    fn the_default_container_is_the_first_and_kubectl_says_so() {
        // kubectl logs: `Defaulted container "app" out of: app, envoy, metrics`.
        let multi = recorded_pod("multi");
        let (chosen, note) = choose(&multi, &Containers::Default, true);
        assert_eq!(chosen, vec!["app".to_string()]);
        assert_eq!(
            note.as_deref(),
            Some("Defaulted container \"app\" out of: app, envoy, metrics")
        );
        let sidecar = recorded_pod("with-sidecar");
        let (all, _) = choose(&sidecar, &Containers::All, true);
        assert_eq!(all, vec!["log-shipper".to_string(), "app".to_string()]);
        let (one, _) = choose(&sidecar, &Containers::One("nope".into()), false);
        assert!(one.is_empty(), "of many pods, one without it is left out");
    }

    #[test]
    fn waiting_containers_have_not_started_and_restarts_count() {
        let crashy = recorded_pod("crashy");
        let (restarts, started) = instance(&crashy, "app");
        assert!(!started);
        assert!(restarts > 0);
        let web = recorded_pod("web-57bd7f8bd7-hjnwk");
        assert!(instance(&web, "nginx").1);
    }
}
