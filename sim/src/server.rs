//! The HTTP side of the simulated API server: discovery stubs, LIST (with
//! limit/continue paging and remainingItemCount), WATCH (ADDED/MODIFIED/
//! DELETED, BOOKMARK, 410 Gone as an in-stream ERROR event), single-object
//! GET, metadata-only answers (`as=PartialObjectMetadata[List]`), bearer
//! token authentication, per-resource Forbidden, and /sim/* control hooks
//! for tests. Bodies follow the recorded fixtures byte for byte in shape:
//! compact JSON ending in a newline, list items without kind/apiVersion,
//! Content-Length for small bodies and chunked transfer for large ones.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use timoneiro_kpb as kpb;

use crate::discovery;
use crate::faults::{Faults, Gone, Outage};
use crate::gopb;
use crate::resources::Resource;
use crate::store::{Change, Obj, Snapshot, Store};

/// The Go types of a list's metadata and of an error.
const LIST_META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta";
const STATUS: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.Status";

/// Bodies up to this size get Content-Length; larger ones are chunked (Go's net/http buffer).
const CONTENT_LENGTH_LIMIT: usize = 2048;

/// Shared state of the HTTP handlers.
#[derive(Debug)]
pub struct Server {
    /// The objects.
    pub store: Arc<Store>,
    /// The bearer token clients must send (`POST /sim/token?value=T` rotates it).
    pub token: std::sync::RwLock<String>,
    /// Resources answered with 403 Forbidden.
    pub forbidden: Vec<String>,
    /// Resources whose watch is 403 Forbidden (their list is allowed).
    pub watch_forbidden: Vec<String>,
    /// How often watches get a BOOKMARK when they allow them.
    pub bookmark_interval: Duration,
    /// Churn rate (0 = paused), changeable through /sim/churn.
    pub churn: Arc<crate::churn::Control>,
    /// Makes the pods `POST /sim/pods` creates.
    pub generator: std::sync::Mutex<crate::seed::Generator>,
    /// Namespaces pods are created in.
    pub namespaces: Vec<String>,
    /// Resources listable only in `allowed_namespaces`, not cluster-wide.
    pub namespace_only: Vec<String>,
    /// Resources served without protobuf.
    pub no_protobuf: Vec<String>,
    /// Namespaces where `namespace_only` resources may be listed.
    pub allowed_namespaces: Vec<String>,
    /// Injected faults (`/sim/faults/*`).
    pub faults: Arc<Faults>,
    /// Custom resources whose CRD is installed (plural names).
    pub crds: std::sync::Mutex<std::collections::BTreeMap<&'static str, &'static str>>,
    /// Whether `/api` and `/apis` answer aggregated discovery when asked.
    pub aggregated_discovery: bool,
    /// Whether metrics.k8s.io is served (as metrics-server would).
    pub metrics: bool,
    /// pods/exec speaks v4 only.
    pub exec_v4_only: bool,
    /// The current window's metrics.
    pub metrics_cache: crate::metrics::Cache,
    /// The last requests, for tests: what was asked, and how.
    pub requests: std::sync::Mutex<std::collections::VecDeque<Value>>,
    /// Log lines a second of every running container (`POST /sim/logs?rate=N`).
    pub log_rate: Arc<crate::logs::Rate>,
    /// How long a deleted pod's containers take to stop (at most its grace period).
    pub pod_stop: Duration,
    /// PodDisruptionBudgets evictions honour (`POST /sim/pdbs`).
    pub budgets: std::sync::Mutex<Vec<crate::controller::Budget>>,
}

/// Requests the log keeps.
const REQUEST_LOG: usize = 10_000;

/// The user the sim's token authenticates as (named in Forbidden messages).
pub const SIM_USER: &str = "timoneiro-sim-user";

fn audit_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (nanos >> 64) as u32,
        (nanos >> 48) as u16,
        (nanos >> 36) as u16 & 0xfff,
        (nanos >> 24) as u16 & 0xfff,
        nanos as u64 & 0xffff_ffff_ffff
    )
}

fn headers(
    builder: axum::http::response::Builder,
    authenticated: bool,
) -> axum::http::response::Builder {
    let builder = builder
        .header("Audit-Id", audit_id())
        .header(header::CACHE_CONTROL, "no-cache, private")
        .header(header::CONTENT_TYPE, "application/json");
    if authenticated {
        builder
            .header(
                "X-Kubernetes-Pf-Flowschema-Uid",
                "cc078bb2-f94f-4e1a-bc45-1d8da21f19fc",
            )
            .header(
                "X-Kubernetes-Pf-Prioritylevel-Uid",
                "18656fa5-5329-49ee-bf7b-75f23265c52d",
            )
    } else {
        builder
    }
}

/// A complete body: Content-Length when small, chunked when large.
pub(crate) fn body_response(status: StatusCode, body: Vec<u8>, authenticated: bool) -> Response {
    let builder = headers(Response::builder().status(status), authenticated);
    let body = if body.len() <= CONTENT_LENGTH_LIMIT {
        Body::from(body)
    } else {
        let bytes = Bytes::from(body);
        let chunks: Vec<Result<Bytes, std::convert::Infallible>> = (0..bytes.len())
            .step_by(64 * 1024)
            .map(|i| Ok(bytes.slice(i..(i + 64 * 1024).min(bytes.len()))))
            .collect();
        Body::from_stream(futures::stream::iter(chunks))
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

pub(crate) fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A `kind: Status` failure body, fields in the API server's order.
pub fn status_json(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<&str>,
    continue_token: Option<&str>,
) -> String {
    let metadata = match continue_token {
        Some(token) => format!("{{\"continue\":{}}}", quote(token)),
        None => "{}".to_string(),
    };
    let details = details
        .map(|d| format!(",\"details\":{d}"))
        .unwrap_or_default();
    format!(
        "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{metadata},\"status\":\"Failure\",\"message\":{},\"reason\":\"{reason}\"{details},\"code\":{code}}}",
        quote(message)
    )
}

pub(crate) fn failure(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<&str>,
    continue_token: Option<&str>,
) -> Response {
    let mut body = status_json(code, reason, message, details, continue_token).into_bytes();
    body.push(b'\n');
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    body_response(status, body, code != 401)
}

/// A discovery document in the real server's key order.
fn discovery_response(value: &Value) -> Response {
    body_response(StatusCode::OK, discovery::to_body(value), true)
}

/// An aggregated discovery document, with the content type the real server sends.
fn aggregated_response(value: &Value) -> Response {
    let mut response = discovery_response(value);
    if let Ok(content_type) = discovery::AGGREGATED_CONTENT_TYPE.parse() {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
        .headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    response
}

pub(crate) fn json_response(value: &Value) -> Response {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    body_response(StatusCode::OK, body, true)
}

/// What a request asks for, parsed from the path.
#[derive(Debug)]
struct Target {
    resource: &'static Resource,
    namespace: Option<String>,
    name: Option<String>,
    /// `log`, `scale`, `status`…
    subresource: Option<String>,
}

fn parse_path(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (namespace, plural, name, subresource) = match rest {
        [plural] => (None, *plural, None, None),
        ["namespaces", name] if group.is_empty() => (None, "namespaces", Some(*name), None),
        ["namespaces", ns, plural] => (Some(*ns), *plural, None, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name), None),
        ["namespaces", ns, plural, name, sub] => (Some(*ns), *plural, Some(*name), Some(*sub)),
        [plural, name] => (None, *plural, Some(*name), None),
        [plural, name, sub] => (None, *plural, Some(*name), Some(*sub)),
        _ => return None,
    };
    let resource = Resource::find(group, version, plural)?;
    if namespace.is_some() && !resource.namespaced {
        return None;
    }
    Some(Target {
        resource,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
        subresource: subresource.map(str::to_string),
    })
}

/// The continue token's content, as the real server encodes it.
/// Fields in the server's order (v, rv, start), which `json!` would sort.
fn encode_continue(rv: i64, start: &str) -> String {
    let token = format!(
        "{{\"v\":\"meta.k8s.io/v1\",\"rv\":{rv},\"start\":{}}}",
        quote(&format!("{start}\u{0}"))
    );
    URL_SAFE_NO_PAD.encode(token)
}

fn decode_continue(token: &str) -> Option<(i64, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let rv = value["rv"].as_i64()?;
    let start = value["start"]
        .as_str()?
        .trim_end_matches('\u{0}')
        .to_string();
    Some((rv, start))
}

/// The key a continue token resumes after: "/name" within a namespace, "ns/name" across them.
fn start_key(obj: &Obj, namespaced_list: bool) -> String {
    if namespaced_list || obj.key.0.is_empty() {
        format!("/{}", obj.key.1)
    } else {
        format!("{}/{}", obj.key.0, obj.key.1)
    }
}

/// The (namespace, name) a token's start names. Namespaces cannot contain
/// '/', so the first '/' separates them; positions compare as tuples, which
/// is the store's order ("data-x/a" < "data/z" as strings, not as keys).
fn start_position(start: &str, namespace: Option<&str>) -> (String, String) {
    match namespace {
        Some(ns) => (ns.to_string(), start.trim_start_matches('/').to_string()),
        None => match start.split_once('/') {
            Some((ns, name)) => (ns.to_string(), name.to_string()),
            None => (String::new(), start.to_string()),
        },
    }
}

/// The media types of an Accept header, in order, without parameters.
fn accepted(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .collect()
}

/// Protobuf is the client's first choice.
fn prefers_protobuf(headers: &HeaderMap) -> bool {
    accepted(headers)
        .first()
        .is_some_and(|t| t == kpb::MEDIA_TYPE)
}

/// JSON (or anything) is acceptable.
fn accepts_json(headers: &HeaderMap) -> bool {
    accepted(headers)
        .iter()
        .any(|t| t == "application/json" || t == "*/*" || t == "application/*")
}

/// A protobuf body.
fn protobuf_response(body: Vec<u8>) -> Response {
    let mut response = body_response(StatusCode::OK, body, true);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(kpb::MEDIA_TYPE),
    );
    response
}

/// An object's envelope: `k8s\0` + Unknown{TypeMeta, the object's message}.
fn protobuf_object(resource: &Resource, obj: &Obj, metadata: bool) -> Option<Vec<u8>> {
    let raw = obj.protobuf(resource, metadata)?;
    let api_version = resource.api_version();
    let (api_version, kind) = if metadata {
        ("meta.k8s.io/v1", "PartialObjectMetadata")
    } else {
        (api_version.as_str(), resource.kind)
    };
    Some(
        kpb::Envelope {
            api_version,
            kind,
            raw: &raw,
        }
        .to_bytes(),
    )
}

/// A page of a list in protobuf.
fn protobuf_list(
    resource: &Resource,
    page: &[Arc<Obj>],
    meta: &str,
    api_version: &str,
    kind: &str,
    metadata: bool,
) -> Option<Vec<u8>> {
    let meta: Value = serde_json::from_str(meta).ok()?;
    let meta = gopb::encode(LIST_META, &meta).ok()?;
    let items = page
        .iter()
        .map(|obj| obj.protobuf(resource, metadata))
        .collect::<Option<Vec<Bytes>>>()?;
    Some(kpb::list_body(
        api_version,
        kind,
        &meta,
        items.iter().map(|b| b.as_ref()),
    ))
}

/// A JSON watch line (`{"type":…,"object":…}`) as a protobuf frame: used for
/// bookmarks and ERROR events, which the sim writes as JSON.
fn protobuf_frame(line: &[u8]) -> Bytes {
    let event: Value = serde_json::from_slice(line).unwrap_or_default();
    let object = &event["object"];
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let kind = object["kind"].as_str().unwrap_or("Status");
    let raw = gopb::message_name(api_version, kind)
        .and_then(|ty| gopb::encode(ty, object).ok())
        .unwrap_or_default();
    let envelope = kpb::Envelope {
        api_version,
        kind,
        raw: &raw,
    }
    .to_bytes();
    Bytes::from(
        kpb::WatchEvent {
            kind: event["type"].as_str().unwrap_or("ERROR"),
            object: &envelope,
        }
        .to_frame(),
    )
}

/// An error response's JSON `Status` as protobuf (errors/*.pb).
async fn protobuf_status(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(status) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let raw = gopb::encode(STATUS, &status).unwrap_or_default();
    let body = kpb::Envelope {
        api_version: "v1",
        kind: "Status",
        raw: &raw,
    }
    .to_bytes();
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(kpb::MEDIA_TYPE),
    );
    parts
        .headers
        .insert(header::CONTENT_LENGTH, body.len().into());
    Response::from_parts(parts, Body::from(body))
}

fn metadata_only(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.contains("as=PartialObjectMetadata"))
    })
}

/// An object as it travels in a watch event or a GET: with kind and apiVersion first.
fn full_object(resource: &Resource, obj: &Obj, metadata: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(obj.item.len() + 64);
    if metadata {
        out.extend_from_slice(
            b"{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":",
        );
        out.extend_from_slice(&obj.meta);
        out.push(b'}');
    } else {
        out.extend_from_slice(
            format!(
                "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",",
                resource.kind,
                resource.api_version()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&obj.item[1..]);
    }
    out
}

fn event_line(kind: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// A BOOKMARK as the Go server writes one: the empty object of the kind
/// with only `metadata.resourceVersion` (and the initial-events-end
/// annotation) set. Its protobuf (`protobuf_frame`) then carries every
/// non-pointer field empty, a workload's `spec.template.metadata` included;
/// its JSON is what Go's JSON of that empty object is.
fn bookmark(resource: &Resource, rv: u64, metadata: bool, initial_end: bool) -> Bytes {
    let (api_version, kind) = if metadata {
        ("meta.k8s.io/v1".to_string(), "PartialObjectMetadata")
    } else {
        (resource.api_version(), resource.kind)
    };
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    let go_json = gopb::message_name(&api_version, kind).and_then(|name| {
        let raw = gopb::encode(name, &json!({ "metadata": meta })).ok()?;
        let envelope = kpb::Envelope {
            api_version: &api_version,
            kind,
            raw: &raw,
        };
        kpb::json::object_json(&envelope.to_bytes()).ok()
    });
    let object = go_json.unwrap_or_else(|| {
        // A custom resource: no Go type, only what its JSON carries.
        serde_json::to_vec(&json!({ "kind": kind, "apiVersion": api_version, "metadata": meta }))
            .unwrap_or_default()
    });
    event_line("BOOKMARK", &object)
}

impl Server {
    /// Whether a resource is served now (custom resources once installed).
    pub fn installed(&self, resource: &Resource) -> bool {
        !resource.crd
            || self
                .crds
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(resource.plural)
                == Some(&resource.version)
    }

    /// Install a custom resource's CRD and give every namespace its
    /// recorded objects. False if the sim knows no such custom resource.
    ///
    /// With `version`, the CRD serves that version only, as after an
    /// upgrade that drops the old one: the old version's path is 404, and
    /// discovery names the new one, whose objects are made afresh.
    pub fn install_crd(&self, plural: &str, version: Option<&str>) -> bool {
        let Some(resource) = crate::resources::RESOURCES
            .iter()
            .find(|r| r.crd && r.plural == plural && version.is_none_or(|v| r.version == v))
        else {
            return false;
        };
        if self
            .crds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(resource.plural, resource.version)
            == Some(resource.version)
        {
            return true;
        }
        let mut generator = self.generator.lock().unwrap_or_else(|p| p.into_inner());
        let api_version = format!("{}/{}", resource.group, resource.version);
        for namespace in &self.namespaces {
            for mut object in generator.custom_objects(resource.plural, namespace) {
                object["apiVersion"] = Value::String(api_version.clone());
                if let Err(error) = self.store.create(resource, object) {
                    tracing::warn!(%error, "cannot create a custom object");
                }
            }
        }
        true
    }

    fn log_request(&self, request: &Request) {
        let accept = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let entry = json!({
            "method": request.method().as_str(),
            "uri": request.uri().to_string(),
            "accept": accept,
        });
        let mut log = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() == REQUEST_LOG {
            log.pop_front();
        }
        log.push_back(entry);
    }

    fn discovery(&self, path: &str, accept: &str) -> Option<Response> {
        let installed = |r: &Resource| self.installed(r);
        let aggregated = self.aggregated_discovery && discovery::wants_aggregated(accept);
        let value = match path {
            "/api" if aggregated => {
                return Some(aggregated_response(&discovery::aggregated(
                    true, &installed,
                )));
            }
            "/apis" if aggregated => {
                let mut doc = discovery::aggregated(false, &installed);
                if self.metrics
                    && let Some(items) = doc["items"].as_array_mut()
                {
                    items.push(crate::metrics::aggregated_group());
                }
                return Some(aggregated_response(&doc));
            }
            "/api" => {
                json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
            }
            "/apis" => {
                let mut list = discovery::api_group_list(&installed);
                if self.metrics
                    && let Some(groups) = list["groups"].as_array_mut()
                {
                    groups.push(crate::metrics::legacy_group());
                }
                list
            }
            "/apis/metrics.k8s.io/v1beta1" if self.metrics => crate::metrics::resource_list(),
            _ => {
                let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
                let (group, version) = match segments.as_slice() {
                    ["api", version] => ("", *version),
                    ["apis", group, version] => (*group, *version),
                    [
                        "apis",
                        "apiextensions.k8s.io",
                        "v1",
                        "customresourcedefinitions",
                        name,
                    ] => {
                        return Some(self.crd(name));
                    }
                    _ => return None,
                };
                discovery::api_resource_list(group, version, &installed)?
            }
        };
        Some(discovery_response(&value))
    }

    fn crd(&self, name: &str) -> Response {
        let installed = crate::resources::CRDS.iter().find_map(|(plural, text)| {
            crate::resources::RESOURCES
                .iter()
                .find(|r| {
                    r.plural == *plural
                        && format!("{}.{}", r.plural, r.group) == name
                        && self.installed(r)
                })
                .map(|r| (r.version, text))
        });
        match installed {
            Some((served, text)) => {
                let mut value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                // Upgraded to another version: the recorded one, renamed.
                if let Some(versions) = value["spec"]["versions"].as_array_mut()
                    && !versions.iter().any(|v| v["name"] == served)
                    && let Some(first) = versions.first_mut()
                {
                    first["name"] = Value::String(served.to_string());
                }
                json_response(&value)
            }
            None => failure(
                404,
                "NotFound",
                &format!(
                    "customresourcedefinitions.apiextensions.k8s.io {} not found",
                    quote(name)
                ),
                Some(&format!(
                    "{{\"name\":{},\"group\":\"apiextensions.k8s.io\",\"kind\":\"customresourcedefinitions\"}}",
                    quote(name)
                )),
                None,
            ),
        }
    }

    /// Handle any request. Error bodies are protobuf `Status`es when
    /// protobuf was asked for, as the real server answers.
    pub async fn handle(self: Arc<Self>, request: Request) -> Response {
        let protobuf = prefers_protobuf(request.headers());
        let response = self.respond(request).await;
        if protobuf && !response.status().is_success() {
            return protobuf_status(response).await;
        }
        response
    }

    async fn respond(self: Arc<Self>, request: Request) -> Response {
        let path = request.uri().path().to_string();
        let params: HashMap<String, String> =
            Query::<HashMap<String, String>>::try_from_uri(request.uri())
                .map(|q| q.0)
                .unwrap_or_default();
        if let Some(control) = path.strip_prefix("/sim/") {
            let method = request.method().clone();
            let body = match axum::body::to_bytes(request.into_body(), 1024 * 1024).await {
                Ok(body) if body.is_empty() => None,
                Ok(body) => match serde_json::from_slice::<Value>(&body) {
                    Ok(value) => Some(value),
                    Err(error) => {
                        return failure(400, "BadRequest", &format!("body: {error}"), None, None);
                    }
                },
                Err(error) => {
                    return failure(400, "BadRequest", &format!("body: {error}"), None, None);
                }
            };
            return self.control(&method, control, &params, body);
        }
        self.log_request(&request);
        // A frozen sim answers nothing until it thaws (`/sim/faults/freeze`).
        self.faults.thaw().await;
        if path == "/healthz" || path == "/readyz" || path == "/livez" {
            return body_response(StatusCode::OK, b"ok".to_vec(), true);
        }
        let authorized = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.strip_prefix("Bearer ")
                    == Some(
                        self.token
                            .read()
                            .unwrap_or_else(|p| p.into_inner())
                            .as_str(),
                    )
            });
        let authorized = authorized
            || request
                .extensions()
                .get::<crate::listen::ClientCertificate>()
                .is_some();
        if !authorized {
            return failure(401, "Unauthorized", "Unauthorized", None, None);
        }
        if request.method() != Method::GET {
            return self.write(request, &path, &params).await;
        }
        if path == "/version" {
            return json_response(
                &json!({"major": "1", "minor": "36", "gitVersion": "v1.36.2-timoneiro-sim", "platform": "linux/amd64"}),
            );
        }
        let accept = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if let Some(response) = self.discovery(&path, &accept) {
            return response;
        }
        // A metrics window of a big cluster takes a while to compute: off the
        // runtime's threads, which deliver the watches meanwhile.
        if self.metrics
            && let Some(rest) = path.strip_prefix("/apis/metrics.k8s.io/v1beta1/")
            && let Some(list) = {
                let server = self.clone();
                let rest = rest.to_string();
                tokio::task::spawn_blocking(move || {
                    crate::metrics::respond(
                        &server.store,
                        &server.metrics_cache,
                        &rest,
                        jiff::Timestamp::now(),
                    )
                })
                .await
                .ok()
                .flatten()
            }
        {
            return json_response(&list);
        }
        let Some(target) = parse_path(&path).filter(|t| self.installed(t.resource)) else {
            return failure(
                404,
                "NotFound",
                "the server could not find the requested resource",
                Some("{}"),
                None,
            );
        };
        let namespace_denied = self
            .namespace_only
            .iter()
            .any(|f| f == target.resource.plural)
            && target
                .namespace
                .as_ref()
                .is_none_or(|ns| !self.allowed_namespaces.contains(ns));
        let watch = params.get("watch").is_some_and(|w| w == "true" || w == "1");
        let forbidden = |list: &[String]| list.iter().any(|f| f == target.resource.plural);
        if namespace_denied
            || forbidden(&self.forbidden)
            || (watch && forbidden(&self.watch_forbidden))
        {
            let scope = match &target.namespace {
                Some(ns) => format!("in the namespace {}", quote(ns)),
                None => "at the cluster scope".to_string(),
            };
            let verb = if watch { "watch" } else { "list" };
            let message = format!(
                "{} is forbidden: User {} cannot {verb} resource {} in API group {} {scope}",
                target.resource.plural,
                quote(SIM_USER),
                quote(target.resource.plural),
                quote(target.resource.group)
            );
            let details = format!("{{\"kind\":{}}}", quote(target.resource.plural));
            return failure(403, "Forbidden", &message, Some(&details), None);
        }
        for unsupported in ["labelSelector", "fieldSelector"] {
            if params.get(unsupported).is_some_and(|v| !v.is_empty()) {
                return failure(
                    400,
                    "BadRequest",
                    &format!("timoneiro-sim does not implement {unsupported}"),
                    None,
                    None,
                );
            }
        }
        if let (Some(name), Some(sub)) = (&target.name, &target.subresource) {
            let namespace = target.namespace.as_deref().unwrap_or("");
            return match (target.resource.plural, sub.as_str()) {
                ("pods", "exec") => {
                    let protocols: &[&'static str] = if self.exec_v4_only {
                        &[crate::wsstream::V4]
                    } else {
                        &[crate::wsstream::V5, crate::wsstream::V4]
                    };
                    crate::streaming::exec(&self.store, request, namespace, name, protocols)
                }
                ("pods", "portforward") => {
                    crate::streaming::portforward(&self.store, request, namespace, name)
                }
                ("pods", "log") => {
                    crate::logs::serve(&self.store, &self.log_rate, namespace, name, &params)
                }
                (_, "scale") => crate::write::get_scale(&self, target.resource, namespace, name),
                _ => failure(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                    Some("{}"),
                    None,
                ),
            };
        }
        let metadata = metadata_only(request.headers());
        let table = crate::table::wanted(request.headers());
        let protobuf = prefers_protobuf(request.headers());
        if table && !crate::table::SERVED.contains(&target.resource.plural) {
            return failure(
                406,
                "NotAcceptable",
                &format!(
                    "timoneiro-sim prints Tables of {} only",
                    crate::table::SERVED.join(", ")
                ),
                None,
                None,
            );
        }
        if table && protobuf && !accepts_json(request.headers()) {
            // The real server has no protobuf Table.
            return failure(
                406,
                "NotAcceptable",
                "only the following media types are accepted: application/json, application/yaml",
                None,
                None,
            );
        }
        let no_protobuf =
            target.resource.crd || self.no_protobuf.iter().any(|r| r == target.resource.plural);
        if protobuf && !accepts_json(request.headers()) && no_protobuf {
            // Custom resources have no protobuf (errors/widgets-protobuf-only.pb).
            return failure(
                406,
                "NotAcceptable",
                "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
                None,
                None,
            );
        }
        let protobuf = protobuf && !no_protobuf;
        if let Some(name) = &target.name {
            let key = (target.namespace.clone().unwrap_or_default(), name.clone());
            return match self.store.get(target.resource, &key) {
                Some(obj) => {
                    if protobuf
                        && let Some(envelope) = protobuf_object(target.resource, &obj, metadata)
                    {
                        return protobuf_response(envelope);
                    }
                    let mut body = full_object(target.resource, &obj, metadata);
                    body.push(b'\n');
                    body_response(StatusCode::OK, body, true)
                }
                None => {
                    let details = format!(
                        "{{\"name\":{},\"kind\":{}}}",
                        quote(name),
                        quote(target.resource.plural)
                    );
                    failure(
                        404,
                        "NotFound",
                        &format!("{} {} not found", target.resource.plural, quote(name)),
                        Some(&details),
                        None,
                    )
                }
            };
        }
        let form = Form {
            metadata,
            table,
            protobuf: protobuf && !table,
        };
        if params.get("watch").is_some_and(|w| w == "true" || w == "1") {
            return self.watch(target, &params, form);
        }
        self.list(target, &params, form)
    }

    /// A write: create, replace, patch, delete, scale (`crate::write`).
    async fn write(
        self: &Arc<Self>,
        request: Request,
        path: &str,
        params: &HashMap<String, String>,
    ) -> Response {
        let Some(target) = parse_path(path).filter(|t| self.installed(t.resource)) else {
            return failure(
                404,
                "NotFound",
                "the server could not find the requested resource",
                Some("{}"),
                None,
            );
        };
        if forbidden_write(&self.forbidden, target.resource.plural) {
            let message = format!(
                "{} is forbidden: User {} cannot {} resource {} in API group {}",
                target.resource.plural,
                quote(SIM_USER),
                request.method().as_str().to_lowercase(),
                quote(target.resource.plural),
                quote(target.resource.group)
            );
            return failure(403, "Forbidden", &message, None, None);
        }
        let method = request.method().clone();
        let headers = request.headers().clone();
        let body = match axum::body::to_bytes(request.into_body(), 3 * 1024 * 1024).await {
            Ok(body) => body,
            Err(error) => return failure(400, "BadRequest", &format!("body: {error}"), None, None),
        };
        let place = crate::write::Place {
            resource: target.resource,
            namespace: target.namespace.as_deref(),
            name: target.name.as_deref(),
            subresource: target.subresource.as_deref(),
        };
        crate::write::handle(self, &method, place, params, &headers, &body)
    }

    fn control(
        &self,
        method: &Method,
        what: &str,
        params: &HashMap<String, String>,
        body: Option<Value>,
    ) -> Response {
        match (method.as_str(), what) {
            ("POST", "compact") => {
                self.store.compact();
                json_response(&json!({"compacted": self.store.compacted()}))
            }
            ("POST", "churn") => match params.get("rate").and_then(|r| r.parse::<u32>().ok()) {
                Some(rate) => {
                    self.churn.set_rate(rate);
                    json_response(
                        &json!({"churnRate": rate, "resourceVersion": self.store.resource_version().to_string()}),
                    )
                }
                None => failure(
                    400,
                    "BadRequest",
                    "POST /sim/churn?rate=N (operations per second, 0 pauses)",
                    None,
                    None,
                ),
            },
            ("POST", "pods") => {
                let namespace = params
                    .get("namespace")
                    .cloned()
                    .or_else(|| self.namespaces.first().cloned())
                    .unwrap_or_default();
                let mut pod = self
                    .generator
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .fresh_pod(&namespace);
                // A body is a JSON merge patch (RFC 7386) over the fresh pod:
                // whatever a namespace user could write, hostile text included.
                if let Some(patch) = &body {
                    merge_patch(&mut pod, patch);
                }
                let Some(pods) = Resource::by_plural("pods") else {
                    return failure(500, "InternalError", "no pods resource", None, None);
                };
                match self.store.create(pods, pod) {
                    Ok(obj) => json_response(
                        &json!({"namespace": obj.key.0, "name": obj.key.1, "resourceVersion": obj.rv.to_string()}),
                    ),
                    Err(error) => failure(409, "AlreadyExists", &error.to_string(), None, None),
                }
            }
            ("POST", "crds") => {
                let name = params.get("name").map(String::as_str).unwrap_or("");
                let version = params.get("version").map(String::as_str);
                if self.install_crd(name, version) {
                    json_response(&json!({"installed": name, "version": version}))
                } else {
                    failure(
                        404,
                        "NotFound",
                        "POST /sim/crds?name=widgets[&version=v1|v2] installs a CRD the sim knows (at that version)",
                        None,
                        None,
                    )
                }
            }
            ("POST", "faults/drop-watches" | "faults/end-watches") => {
                let watches = self.faults.drop_watches(what.ends_with("drop-watches"));
                json_response(&json!({"watches": watches}))
            }
            ("POST", "faults/outage" | "faults/restart") => match seconds_param(params, 600.0) {
                Some(seconds) => {
                    let outage = Outage {
                        down: Duration::from_secs_f64(seconds),
                        restart: what.ends_with("restart"),
                    };
                    self.faults.outage(outage);
                    json_response(&json!({"down": seconds, "restart": outage.restart}))
                }
                None => failure(
                    400,
                    "BadRequest",
                    "POST /sim/faults/outage?seconds=N or /sim/faults/restart?seconds=N (0 to 600)",
                    None,
                    None,
                ),
            },
            ("POST", "faults/short-watches" | "faults/freeze") => {
                match seconds_param(params, 3600.0) {
                    Some(seconds) if what.ends_with("freeze") => {
                        self.faults.freeze(Duration::from_secs_f64(seconds));
                        json_response(&json!({"frozen": seconds}))
                    }
                    Some(seconds) => {
                        self.faults.short_watches(Duration::from_secs_f64(seconds));
                        json_response(&json!({"shortWatches": seconds}))
                    }
                    None => failure(
                        400,
                        "BadRequest",
                        &format!("POST /sim/{what}?seconds=N (0 to 3600)"),
                        None,
                        None,
                    ),
                }
            }
            ("POST", "faults/gone") => {
                let form = params.get("form").and_then(|f| Gone::parse(f));
                let count = params
                    .get("count")
                    .map_or(Some(1), |c| c.parse::<u32>().ok());
                match (form, count) {
                    (Some(form @ (Gone::WatchEvent | Gone::WatchHttp)), _) => {
                        self.faults
                            .set_watch_gone_over_http(form == Gone::WatchHttp);
                        self.store.compact();
                        json_response(
                            &json!({"form": form.name(), "compacted": self.store.compacted().to_string()}),
                        )
                    }
                    (Some(form), Some(count)) => {
                        self.faults.arm(form, count);
                        json_response(&json!({"form": form.name(), "count": count}))
                    }
                    _ => failure(
                        400,
                        "BadRequest",
                        "POST /sim/faults/gone?form=watch-event|watch-http, or form=list|continue&count=N",
                        None,
                        None,
                    ),
                }
            }
            ("POST", "pdbs") => {
                let param = |key: &str| params.get(key).cloned().unwrap_or_default();
                let number = |key: &str| params.get(key).and_then(|v| v.parse::<i64>().ok());
                let selector: std::collections::BTreeMap<String, String> = param("selector")
                    .split(',')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                if param("namespace").is_empty() || param("name").is_empty() || selector.is_empty()
                {
                    return failure(
                        400,
                        "BadRequest",
                        "POST /sim/pdbs?namespace=NS&name=N&selector=k=v[,k=v]&minAvailable=N|maxUnavailable=N (maxUnavailable=-1 removes it)",
                        None,
                        None,
                    );
                }
                let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
                budgets.retain(|b| !(b.namespace == param("namespace") && b.name == param("name")));
                if number("maxUnavailable") != Some(-1) {
                    budgets.push(crate::controller::Budget {
                        namespace: param("namespace"),
                        name: param("name"),
                        selector,
                        min_available: number("minAvailable"),
                        max_unavailable: number("maxUnavailable"),
                    });
                }
                json_response(&json!({"budgets": budgets.len()}))
            }
            ("POST", "logs") => match params.get("rate").and_then(|r| r.parse::<f64>().ok()) {
                Some(rate) if (0.0..=1_000_000.0).contains(&rate) => {
                    self.log_rate.set(rate);
                    json_response(&json!({"logRate": rate}))
                }
                _ => failure(
                    400,
                    "BadRequest",
                    "POST /sim/logs?rate=N (lines a second of every running container, 0 to 1000000)",
                    None,
                    None,
                ),
            },
            ("POST", "token") => match params.get("value").filter(|v| !v.is_empty()) {
                Some(value) => {
                    *self.token.write().unwrap_or_else(|p| p.into_inner()) = value.clone();
                    json_response(&json!({"rotated": true}))
                }
                None => failure(
                    400,
                    "BadRequest",
                    "POST /sim/token?value=NEW rotates the bearer token",
                    None,
                    None,
                ),
            },
            ("GET", "requests") => {
                let log = self.requests.lock().unwrap_or_else(|p| p.into_inner());
                json_response(&json!({"requests": log.iter().collect::<Vec<_>>()}))
            }
            ("GET", "info") => {
                let counts: serde_json::Map<String, Value> = crate::resources::RESOURCES
                    .iter()
                    .filter(|r| self.installed(r))
                    .map(|r| (r.plural.to_string(), json!(self.store.count(r))))
                    .collect();
                json_response(&json!({
                    "resourceVersion": self.store.resource_version().to_string(),
                    "compacted": self.store.compacted().to_string(),
                    "churnRate": self.churn.rate.load(Ordering::SeqCst),
                    "faultsFired": self.faults.fired(),
                    "bookmarks": self.faults.bookmarks_sent(),
                    "objects": counts,
                }))
            }
            _ => failure(
                404,
                "NotFound",
                "control hooks: POST /sim/compact, POST /sim/churn?rate=N, POST /sim/pods?namespace=NS [merge-patch body], POST /sim/crds?name=widgets, POST /sim/token?value=NEW, POST /sim/faults/{drop-watches,end-watches,outage?seconds=N,restart?seconds=N,freeze?seconds=N,short-watches?seconds=N,gone?form=F&count=N}, GET /sim/info, GET /sim/requests",
                None,
                None,
            ),
        }
    }

    fn list(&self, target: Target, params: &HashMap<String, String>, form: Form) -> Response {
        let Form {
            metadata,
            table,
            protobuf,
        } = form;
        let resource = target.resource;
        let namespace = target.namespace.as_deref();
        let limit = params
            .get("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| *l > 0);
        let snapshot: Arc<Snapshot>;
        let mut start_after: Option<String> = None;
        if let Some(token) = params.get("continue").filter(|t| !t.is_empty()) {
            let decoded = decode_continue(token).filter(|_| !self.faults.take(Gone::Continue));
            if decoded.is_none()
                && let Some((_, start)) = decode_continue(token)
            {
                return expired_continue(&start);
            }
            let Some((rv, start)) = decoded else {
                return failure(
                    400,
                    "BadRequest",
                    "invalid continue token: continue key is not valid",
                    None,
                    None,
                );
            };
            match u64::try_from(rv)
                .ok()
                .and_then(|rv| self.store.find_snapshot(resource, namespace, rv))
            {
                Some(found) => snapshot = found,
                None => return expired_continue(&start),
            }
            start_after = Some(start);
        } else {
            if self.faults.take(Gone::List) {
                return list_too_old();
            }
            if let Some(rv) = params
                .get("resourceVersion")
                .and_then(|rv| rv.parse::<u64>().ok())
                && rv != 0
                && rv < self.store.compacted()
                && params
                    .get("resourceVersionMatch")
                    .is_some_and(|m| m == "Exact" || m == "NotOlderThan")
            {
                return list_too_old();
            }
            snapshot = match limit {
                Some(_) => self.store.snapshot(resource, namespace),
                None => {
                    let (rv, items) = self.store.list(resource, namespace);
                    Arc::new(Snapshot::new(rv, items))
                }
            };
        }
        let namespaced_list = namespace.is_some();
        let begin = match &start_after {
            Some(start) => {
                let position = start_position(start, namespace);
                snapshot.items.partition_point(|obj| obj.key <= position)
            }
            None => 0,
        };
        let end = limit.map_or(snapshot.items.len(), |l| {
            (begin + l).min(snapshot.items.len())
        });
        let page = &snapshot.items[begin..end];
        let remaining = snapshot.items.len() - end;
        let mut meta = format!("{{\"resourceVersion\":\"{}\"", snapshot.rv);
        if remaining > 0
            && let Some(last) = page.last()
        {
            meta.push_str(&format!(
                ",\"continue\":\"{}\",\"remainingItemCount\":{remaining}",
                encode_continue(snapshot.rv as i64, &start_key(last, namespaced_list))
            ));
        }
        meta.push('}');
        if table {
            let include_object = params.get("includeObject").is_none_or(|v| v != "None");
            let body = crate::table::list(resource.plural, &meta, page, include_object);
            return body_response(StatusCode::OK, body, true);
        }
        let (kind, api_version) = if metadata {
            (
                "PartialObjectMetadataList".to_string(),
                "meta.k8s.io/v1".to_string(),
            )
        } else {
            (format!("{}List", resource.kind), resource.api_version())
        };
        if protobuf
            && let Some(body) = protobuf_list(resource, page, &meta, &api_version, &kind, metadata)
        {
            return protobuf_response(body);
        }
        let mut body =
            Vec::with_capacity(page.iter().map(|o| o.item.len() + 1).sum::<usize>() + 128);
        body.extend_from_slice(format!("{{\"kind\":\"{kind}\",\"apiVersion\":\"{api_version}\",\"metadata\":{meta},\"items\":[").as_bytes());
        for (i, obj) in page.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            if metadata {
                body.extend_from_slice(&full_object(resource, obj, true));
            } else {
                body.extend_from_slice(&obj.item);
            }
        }
        body.extend_from_slice(b"]}\n");
        body_response(StatusCode::OK, body, true)
    }

    fn watch(&self, target: Target, params: &HashMap<String, String>, form: Form) -> Response {
        let Form {
            metadata,
            table,
            protobuf,
        } = form;
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(256);
        let store = self.store.clone();
        let live = store.subscribe();
        let from = params
            .get("resourceVersion")
            .and_then(|rv| rv.parse::<u64>().ok())
            .filter(|rv| *rv != 0);
        if from.is_some_and(|rv| rv < store.compacted()) && self.faults.watch_gone_over_http() {
            self.faults.record(Gone::WatchHttp.name());
            return failure(
                410,
                "Expired",
                &too_old(from.unwrap_or(0), store.compacted() + 1),
                None,
                None,
            );
        }
        let faults = self.faults.clone();
        let dropper = self.faults.watch_dropper();
        let initial_events = params.get("sendInitialEvents").is_some_and(|v| v == "true");
        let bookmarks = params
            .get("allowWatchBookmarks")
            .is_some_and(|v| v == "true");
        let timeout = params
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .map_or(Duration::from_secs(1800), Duration::from_secs);
        let timeout = if self.faults.watches_are_short() {
            Duration::ZERO
        } else {
            timeout
        };
        let interval = self.bookmark_interval;
        tokio::spawn(async move {
            let watch = Watch {
                resource: target.resource,
                namespace: target.namespace,
                metadata,
                protobuf,
                table: table.then(|| std::sync::atomic::AtomicBool::new(false)),
                tx,
                dropper,
                faults,
            };
            let _ = tokio::time::timeout(
                timeout,
                watch.run(store, live, from, initial_events, bookmarks, interval),
            )
            .await;
        });
        let mut builder = headers(Response::builder().status(StatusCode::OK), true);
        if protobuf && let Some(headers) = builder.headers_mut() {
            headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(kpb::WATCH_MEDIA_TYPE),
            );
        }
        // While the sim is frozen the body says nothing, and does not end.
        let (held, tail) = (self.faults.clone(), self.faults.clone());
        let body = futures::StreamExt::then(ReceiverStream::new(rx), move |chunk| {
            let faults = held.clone();
            async move {
                faults.thaw().await;
                chunk
            }
        });
        let body = futures::StreamExt::chain(
            body,
            futures::StreamExt::filter_map(
                futures::stream::once(async move { tail.thaw().await }),
                |()| std::future::ready(None),
            ),
        );
        builder
            .body(Body::from_stream(body))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

fn forbidden_write(forbidden: &[String], plural: &str) -> bool {
    forbidden.iter().any(|f| f == plural)
}

fn too_old(from: u64, oldest: u64) -> String {
    format!("too old resource version: {from} ({oldest})")
}

/// HTTP 410 for a list from a compacted resourceVersion (errors/list-too-old-rv.json).
fn list_too_old() -> Response {
    failure(
        410,
        "Expired",
        "The resourceVersion for the provided list is too old.",
        None,
        None,
    )
}

/// HTTP 410 for an expired continue token, carrying a fresh one (errors/expired-continue.json).
fn expired_continue(start: &str) -> Response {
    let fresh = encode_continue(-1, start.trim_start_matches('/'));
    failure(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        None,
        Some(&fresh),
    )
}

/// What form a list or watch answers in.
#[derive(Debug, Clone, Copy)]
struct Form {
    /// PartialObjectMetadata (`as=PartialObjectMetadataList`).
    metadata: bool,
    /// The server's Table (`as=Table`, JSON only).
    table: bool,
    /// Protobuf rather than JSON.
    protobuf: bool,
}

/// One open watch.
struct Watch {
    resource: &'static Resource,
    namespace: Option<String>,
    metadata: bool,
    /// Frames of `WatchEvent` messages rather than JSON lines.
    protobuf: bool,
    /// Events are Tables of one row (`crate::table`); set once the column
    /// definitions went out with the first.
    table: Option<std::sync::atomic::AtomicBool>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    /// Fires when a test cuts every watch (`/sim/faults/drop-watches`).
    dropper: broadcast::Receiver<bool>,
    /// Counts the 410 events sent.
    faults: Arc<Faults>,
}

/// The client went away.
struct ClientGone;

impl Watch {
    async fn send(&self, bytes: Bytes) -> Result<(), ClientGone> {
        let bytes = if self.protobuf {
            protobuf_frame(&bytes)
        } else {
            bytes
        };
        self.tx.send(Ok(bytes)).await.map_err(|_| ClientGone)
    }

    /// One ERROR event carrying 410 Expired, as 1.36 answers a watch from a too-old resourceVersion.
    async fn gone(&self, from: u64, oldest: u64) -> Result<(), ClientGone> {
        self.faults.record(Gone::WatchEvent.name());
        let status = status_json(410, "Expired", &too_old(from, oldest), None, None);
        self.send(event_line("ERROR", status.as_bytes())).await
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        match &self.table {
            Some(_) => event_line(
                "BOOKMARK",
                &crate::table::bookmark(self.resource.plural, rv, initial_end),
            ),
            None => bookmark(self.resource, rv, self.metadata, initial_end),
        }
    }

    fn wants(&self, change: &Change) -> bool {
        change.resource.plural == self.resource.plural
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == change.obj.key.0)
    }

    async fn send_change(&self, change: &Change) -> Result<(), ClientGone> {
        if self.protobuf
            && let Some(envelope) = protobuf_object(self.resource, &change.obj, self.metadata)
        {
            let frame = kpb::WatchEvent {
                kind: change.kind.as_str(),
                object: &envelope,
            }
            .to_frame();
            return self
                .tx
                .send(Ok(Bytes::from(frame)))
                .await
                .map_err(|_| ClientGone);
        }
        let object = match &self.table {
            Some(columns_sent) => {
                let first = !columns_sent.swap(true, std::sync::atomic::Ordering::Relaxed);
                crate::table::event(self.resource.plural, &change.obj, first)
            }
            None => full_object(self.resource, &change.obj, self.metadata),
        };
        self.send(event_line(change.kind.as_str(), &object)).await
    }

    async fn run(
        mut self,
        store: Arc<Store>,
        mut live: broadcast::Receiver<Arc<Change>>,
        from: Option<u64>,
        initial_events: bool,
        bookmarks: bool,
        interval: Duration,
    ) -> Result<(), ClientGone> {
        let mut last = 0;
        if initial_events || from.is_none() {
            let (rv, items) = store.list(self.resource, self.namespace.as_deref());
            for obj in items {
                self.send_change(&Change {
                    resource: self.resource,
                    kind: crate::store::EventType::Added,
                    rv: obj.rv,
                    obj,
                })
                .await?;
            }
            if initial_events {
                self.send(self.bookmark(rv, true)).await?;
            }
            last = rv;
        } else if let Some(from) = from {
            match store.changes_since(self.resource, from) {
                Err(_) => return self.gone(from, store.compacted() + 1).await,
                Ok(changes) => {
                    last = from;
                    for change in changes.iter().filter(|c| self.wants(c)) {
                        self.send_change(change).await?;
                    }
                    last = changes.last().map_or(last, |c| c.rv.max(last));
                }
            }
        }
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(change) => {
                        if change.rv > last && self.wants(&change) {
                            self.send_change(&change).await?;
                        }
                        last = last.max(change.rv);
                    }
                    // Too slow to keep up: end the watch; the client resumes from its last resourceVersion.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                _ = ticker.tick(), if bookmarks => {
                    // Everything up to `rv` was broadcast before we read it, so after draining
                    // the queue the bookmark promises nothing we have not sent.
                    let rv = store.resource_version();
                    loop {
                        match live.try_recv() {
                            Ok(change) => {
                                if change.rv > last && self.wants(&change) {
                                    self.send_change(&change).await?;
                                }
                                last = last.max(change.rv);
                            }
                            Err(broadcast::error::TryRecvError::Empty) => break,
                            Err(_) => return Ok(()),
                        }
                    }
                    last = last.max(rv);
                    self.send(self.bookmark(last, false)).await?;
                    self.faults.bookmark_sent();
                }
                Ok(abort) = self.dropper.recv() => {
                    if abort {
                        // An error in the body makes the server abort the connection mid-stream.
                        let _ = self.tx.send(Err(std::io::Error::other("watch dropped by /sim/faults/drop-watches"))).await;
                    }
                    return Ok(());
                }
                _ = self.tx.closed() => return Err(ClientGone),
            }
        }
    }
}

/// The `seconds` parameter of a fault hook, from 0 to `most`.
fn seconds_param(params: &HashMap<String, String>, most: f64) -> Option<f64> {
    params
        .get("seconds")
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| (0.0..=most).contains(s))
}

/// Apply a JSON merge patch (RFC 7386): objects merge key by key, `null`
/// removes a key, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(fields) = target {
        for (key, change) in changes {
            if change.is_null() {
                fields.remove(key);
            } else {
                merge_patch(fields.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_like_the_real_server() {
        // The recorded page 1 token decodes to rv 27401 and start "/cache-1".
        let recorded =
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6Mjc0MDEsInN0YXJ0IjoiL2NhY2hlLTFcdTAwMDAifQ";
        assert_eq!(
            decode_continue(recorded),
            Some((27401, "/cache-1".to_string()))
        );
        assert_eq!(
            decode_continue(&encode_continue(27401, "/cache-1")),
            Some((27401, "/cache-1".to_string()))
        );
        assert_eq!(decode_continue("not base64 json"), None);
    }

    #[test]
    fn continue_positions_follow_the_store_order() {
        // As strings "data-x/a" < "data/z", but the store orders ("data", "z") first.
        assert_eq!(
            start_position("data/z", None),
            ("data".to_string(), "z".to_string())
        );
        assert!(start_position("data/z", None) < ("data-x".to_string(), "a".to_string()));
        assert_eq!(
            start_position("/web", Some("shop")),
            ("shop".to_string(), "web".to_string())
        );
        assert_eq!(
            start_position("/node-1", None),
            (String::new(), "node-1".to_string())
        );
    }

    #[test]
    fn paths_resolve_to_resources() {
        let t = parse_path("/api/v1/namespaces/shop/pods").expect("pods");
        assert_eq!(
            (t.resource.plural, t.namespace.as_deref(), t.name.as_deref()),
            ("pods", Some("shop"), None)
        );
        let t = parse_path("/apis/apps/v1/deployments").expect("deployments");
        assert_eq!(
            (t.resource.plural, t.namespace, t.name),
            ("deployments", None, None)
        );
        let t = parse_path("/api/v1/namespaces/shop").expect("namespace get");
        assert_eq!(
            (t.resource.plural, t.name.as_deref()),
            ("namespaces", Some("shop"))
        );
        assert!(parse_path("/api/v1/namespaces/shop/namespaces").is_none());
        assert!(parse_path("/apis/example.org/v1/widgets").is_none());
        // Custom resources parse; whether they are served depends on their CRD.
        let t = parse_path("/apis/example.com/v1/widgets").expect("widgets");
        assert!(t.resource.crd);
    }
}
