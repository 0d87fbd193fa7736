//! `kubectl port-forward` through the daemon. A target resolves once, from
//! the cache, to a pod and its ports (kubectl's rules: a service or a
//! workload picks one of its running pods, a service port becomes its
//! target port, a port name becomes the container port of that name); then
//! each local connection is one stream, tunnelled through the API server's
//! portforward WebSocket with the context's client.

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::Api;
use timoneiro_proto::v1;
use timoneiro_proto::v1::forward_input::Input;
use timoneiro_proto::v1::forward_output::Output;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tonic::{Status, Streaming};

use crate::cluster::Cluster;
use crate::selector::Selector;

/// Bytes one message carries at most.
const CHUNK: usize = 64 * 1024;

/// The workload kinds whose pods a forward may pick from.
const WORKLOADS: [(&str, &str); 4] = [
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
];

/// What a target is, once its kind is known.
enum Target {
    Pod(String),
    Service(Box<Service>),
    /// A workload: its name (`deployment/web`) and pod selector.
    Workload(String, String),
}

async fn cached<T: serde::de::DeserializeOwned>(
    cluster: &Cluster,
    kind: &crate::catalog::Kind,
    namespace: &str,
    name: &str,
) -> Result<T, Status> {
    let store = cluster.open(kind).await;
    let _in_use = store.begin_use();
    crate::describe::gather::wait_loaded(&store, crate::logs::LOAD_WAIT).await;
    let object = crate::server::cached_object(&store, namespace, name)?;
    serde_json::from_value(object)
        .map_err(|e| Status::internal(format!("the cached object does not decode: {e}")))
}

async fn target(cluster: &Cluster, namespace: &str, text: &str) -> Result<Target, Status> {
    let Some((kind, name)) = text.split_once('/') else {
        return Ok(Target::Pod(text.to_string()));
    };
    let kind = cluster
        .resolve(kind)
        .await
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let spec = kind.spec().clone();
    match (spec.group.as_str(), spec.plural.as_str()) {
        ("", "pods") => Ok(Target::Pod(name.to_string())),
        ("", "services") => Ok(Target::Service(Box::new(
            cached(cluster, &kind, namespace, name).await?,
        ))),
        place if WORKLOADS.contains(&place) => {
            let object: serde_json::Value = cached(cluster, &kind, namespace, name).await?;
            let selector = object
                .pointer("/spec/selector")
                .cloned()
                .and_then(|s| serde_json::from_value::<LabelSelector>(s).ok());
            Ok(Target::Workload(
                format!("{}/{name}", spec.singular),
                crate::describe::workloads::selector_string(selector.as_ref()),
            ))
        }
        _ => Err(Status::invalid_argument(format!(
            "port-forward: {} have no pods; give a pod, a service, or a deployment, replicaset, statefulset or daemonset",
            spec.plural
        ))),
    }
}

fn running(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

fn ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// The pod to forward to among a selector's: a running one, ready ones
/// first, then the oldest (as kubectl's pod choice prefers long-lived
/// pods), then by name.
fn pick(mut pods: Vec<Pod>) -> Option<Pod> {
    pods.retain(running);
    pods.sort_by(|a, b| {
        ready(b)
            .cmp(&ready(a))
            .then_with(|| {
                a.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0)
                    .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0))
            })
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
    pods.into_iter().next()
}

async fn selected_pod(
    cluster: &Cluster,
    namespace: &str,
    selector: &str,
    what: &str,
) -> Result<Pod, Status> {
    if selector.is_empty() {
        return Err(Status::failed_precondition(format!(
            "{what} has no pod selector"
        )));
    }
    let parsed = Selector::parse(selector)
        .map_err(|e| Status::failed_precondition(format!("{what}'s selector: {e}")))?;
    let kind = cluster
        .resolve("pods")
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
    let pods: Vec<Pod> =
        crate::describe::gather::selected(cluster, &kind, Some(namespace), Some(parsed)).await;
    pick(pods).ok_or_else(|| {
        Status::failed_precondition(format!(
            "no running pod for {what} (selector {selector}) in namespace {namespace}"
        ))
    })
}

/// The port named `name` among the pod's containers.
fn named_port(pod: &Pod, name: &str) -> Result<u32, Status> {
    pod.spec
        .iter()
        .flat_map(|s| &s.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| p.name.as_deref() == Some(name))
        .and_then(|p| u32::try_from(p.container_port).ok())
        .ok_or_else(|| {
            Status::invalid_argument(format!(
                "Pod '{}' does not have a named port '{name}'",
                pod.metadata.name.as_deref().unwrap_or("")
            ))
        })
}

/// A port number, or the pod's port of that name.
fn pod_port(pod: &Pod, port: &str) -> Result<u32, Status> {
    match port.parse::<u32>() {
        Ok(number) if (1..=65535).contains(&number) => Ok(number),
        Ok(_) => Err(Status::invalid_argument(format!(
            "port {port} is out of range 1-65535"
        ))),
        Err(_) => named_port(pod, port),
    }
}

/// A service port (by number or name) turned into the pod's port, as
/// kubectl's translateServicePortToTargetPort does.
fn service_port(service: &Service, pod: &Pod, port: &str) -> Result<u32, Status> {
    let name = service.metadata.name.as_deref().unwrap_or("");
    let found = service
        .spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .find(|p| port.parse::<i32>().ok() == Some(p.port) || p.name.as_deref() == Some(port));
    let Some(found) = found else {
        return Err(Status::invalid_argument(format!(
            "Service {name} does not have a service port {port}"
        )));
    };
    match &found.target_port {
        Some(IntOrString::String(target)) => named_port(pod, target),
        Some(IntOrString::Int(target)) if *target > 0 => Ok(*target as u32),
        _ => Ok(found.port as u32),
    }
}

/// Resolve a `port-forward` (or `exec`) target to a pod and its ports.
pub async fn resolve(
    cluster: &Cluster,
    request: v1::ResolveForwardRequest,
) -> Result<v1::ResolveForwardResponse, Status> {
    let namespace = if request.namespace.is_empty() {
        cluster.context.namespace.clone()
    } else {
        request.namespace.clone()
    };
    let target = target(cluster, &namespace, &request.target).await?;
    let (pod, service) = match target {
        Target::Pod(name) => {
            let pod = crate::exec::cached_pod(cluster, &namespace, &name).await?;
            if !running(&pod) {
                let phase = pod
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_default();
                return Err(Status::failed_precondition(format!(
                    "unable to forward port because pod is not running. Current status={phase}"
                )));
            }
            (pod, None)
        }
        Target::Service(service) => {
            let selector = service
                .spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .map(|s| {
                    s.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            let what = format!("service/{}", service.metadata.name.as_deref().unwrap_or(""));
            (
                selected_pod(cluster, &namespace, &selector, &what).await?,
                Some(service),
            )
        }
        Target::Workload(what, selector) => (
            selected_pod(cluster, &namespace, &selector, &what).await?,
            None,
        ),
    };
    let pod_ports = request
        .ports
        .iter()
        .map(|port| match &service {
            Some(service) => service_port(service, &pod, port),
            None => pod_port(&pod, port),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(v1::ResolveForwardResponse {
        namespace,
        pod: pod.metadata.name.clone().unwrap_or_default(),
        pod_ports,
    })
}

/// Tunnel one connection: `start` was the stream's first message.
pub async fn tunnel(
    cluster: &Cluster,
    start: v1::ForwardStart,
    mut inputs: Streaming<v1::ForwardInput>,
    out: mpsc::Sender<Result<v1::ForwardOutput, Status>>,
) -> Result<(), Status> {
    let port = u16::try_from(start.port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Status::invalid_argument(format!("port {} is out of range", start.port)))?;
    let namespace = if start.namespace.is_empty() {
        cluster.context.namespace.clone()
    } else {
        start.namespace.clone()
    };
    let api: Api<Pod> = Api::namespaced(cluster.client().clone(), &namespace);
    let mut forwarder = api
        .portforward(&start.pod, &[port])
        .await
        .map_err(crate::actions::api_error)?;
    let stream = forwarder
        .take_stream(port)
        .ok_or_else(|| Status::internal("the port's stream is missing"))?;
    let refused = forwarder.take_error(port);
    let (mut reader, mut writer) = tokio::io::split(stream);
    let send = |output: Output| {
        let out = out.clone();
        async move {
            out.send(Ok(v1::ForwardOutput {
                output: Some(output),
            }))
            .await
            .is_ok()
        }
    };
    let from_pod = async {
        let mut buffer = vec![0; CHUNK];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if !send(Output::Data(buffer[..n].to_vec())).await {
                        return;
                    }
                }
            }
        }
    };
    let to_pod = async {
        loop {
            match inputs.message().await {
                Ok(Some(v1::ForwardInput {
                    input: Some(Input::Data(bytes)),
                })) => {
                    if writer.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Ok(Some(_)) => {}
                // The local side closed: so does the pod's.
                Ok(None) | Err(_) => {
                    let _ = writer.shutdown().await;
                    return;
                }
            }
        }
    };
    let error = async {
        match refused {
            Some(error) => error.await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(from_pod, to_pod, error);
    let (mut sending, mut watching) = (true, true);
    loop {
        tokio::select! {
            biased;
            message = &mut error, if watching => match message {
                Some(message) => {
                    send(Output::Error(message)).await;
                    break;
                }
                // The forwarder ended without an error: drain the data.
                None => watching = false,
            },
            () = &mut from_pod => {
                // kube hands the port's error over before it closes the
                // stream: an error that ended it is there by now.
                if watching
                    && let Some(Some(message)) = futures::FutureExt::now_or_never(&mut error)
                {
                    send(Output::Error(message)).await;
                }
                break;
            }
            () = &mut to_pod, if sending => sending = false,
        }
    }
    forwarder.abort();
    Ok(())
}
