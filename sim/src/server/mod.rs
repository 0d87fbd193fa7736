//! The HTTP side of the simulated API server, one module per concern:
//! the routes and who may use them (here), discovery and CRDs ([`apis`]),
//! reading and writing objects ([`objects`]), LIST with paging ([`list`]),
//! WATCH with bookmarks and 410s ([`watch`]), content negotiation and the
//! protobuf forms ([`encoding`]), paths and continue tokens ([`paths`]),
//! Status bodies and headers ([`status`]), and the `/sim/*` hooks tests
//! steer it with ([`control`]). Bodies follow the recorded fixtures byte for
//! byte in shape: compact JSON ending in a newline, list items without
//! kind/apiVersion, Content-Length for small bodies and chunked transfer for
//! large ones.

mod apis;
mod control;
mod encoding;
mod extract;
mod list;
mod objects;
mod paths;
mod status;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::faults::Faults;
use crate::resources::Resource;
use crate::store::Store;

pub use status::status_json;
pub(crate) use status::{body_response, failure, json_response, quote};

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

impl Server {
    /// A server over `store` as `settings` ask: its token, RBAC, faults,
    /// discovery and protocol versions.
    pub fn new(
        settings: &crate::Settings,
        store: Arc<Store>,
        churn: Arc<crate::churn::Control>,
        namespaces: &[String],
        nodes: usize,
    ) -> Server {
        Server {
            store,
            token: std::sync::RwLock::new(settings.token.clone()),
            forbidden: settings.forbid.clone(),
            watch_forbidden: settings.forbid_watch.clone(),
            bookmark_interval: settings.bookmark_interval,
            churn,
            generator: std::sync::Mutex::new(crate::seed::Generator::new(
                settings.seed.wrapping_add(2),
                nodes,
            )),
            namespaces: namespaces.to_vec(),
            namespace_only: settings.namespace_only.clone(),
            no_protobuf: settings.no_protobuf.clone(),
            allowed_namespaces: if settings.allowed_namespaces.is_empty() {
                namespaces.iter().take(1).cloned().collect()
            } else {
                settings.allowed_namespaces.clone()
            },
            faults: Default::default(),
            crds: Default::default(),
            aggregated_discovery: !settings.legacy_discovery,
            metrics: !settings.no_metrics,
            exec_v4_only: settings.exec_v4_only,
            metrics_cache: Default::default(),
            requests: Default::default(),
            log_rate: Arc::new(crate::logs::Rate::new(settings.log_rate)),
            pod_stop: settings.pod_stop,
            budgets: Default::default(),
        }
    }

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

    /// Whether the request carries the current bearer token or a client
    /// certificate the TLS layer verified.
    fn authorized(&self, request: &Request) -> bool {
        let token = self.token.read().unwrap_or_else(|p| p.into_inner());
        let bearer = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        bearer == Some(token.as_str())
            || request
                .extensions()
                .get::<crate::listen::ClientCertificate>()
                .is_some()
    }
}

/// The API server's routes. Under `/api/VERSION/…` and
/// `/apis/GROUP/VERSION/…`, a path names a resource the way
/// [`paths::parse_path`] reads it (namespaced or not, a name, a
/// subresource); GET reads, other methods write.
pub fn router(server: Arc<Server>) -> Router {
    let api = Router::new()
        .route("/version", get(apis::version))
        .route("/api", get(apis::core_versions))
        .route("/apis", get(apis::groups))
        .route("/api/{version}", get(apis::core_resources))
        .route("/apis/{group}/{version}", get(apis::group_resources))
        .route(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}",
            get(apis::crd),
        )
        .route("/apis/metrics.k8s.io/v1beta1/{*rest}", get(apis::metrics))
        .route(
            "/api/{version}/{*path}",
            get(objects::read).fallback(objects::write),
        )
        .route(
            "/apis/{group}/{version}/{*path}",
            get(objects::read).fallback(objects::write),
        )
        .fallback(async || status::not_found())
        .layer(middleware::from_fn_with_state(server.clone(), authenticate));
    Router::new()
        .route("/healthz", get(healthy))
        .route("/readyz", get(healthy))
        .route("/livez", get(healthy))
        .merge(api)
        .layer(middleware::from_fn_with_state(server.clone(), admit))
        .nest("/sim", control::routes())
        .layer(middleware::from_fn(protobuf_errors))
        .with_state(server)
}

async fn healthy() -> Response {
    body_response(StatusCode::OK, b"ok".to_vec(), true)
}

/// Every request but the hooks is logged (`GET /sim/requests`), and waits
/// while the sim is frozen (`/sim/faults/freeze`).
async fn admit(State(server): State<Arc<Server>>, request: Request, next: Next) -> Response {
    server.log_request(&request);
    server.faults.thaw().await;
    next.run(request).await
}

/// 401 without the bearer token or a client certificate.
async fn authenticate(State(server): State<Arc<Server>>, request: Request, next: Next) -> Response {
    if !server.authorized(&request) {
        return failure(401, "Unauthorized", "Unauthorized", None, None);
    }
    next.run(request).await
}

/// Error bodies are protobuf `Status`es when protobuf was asked for, as the
/// real server answers.
async fn protobuf_errors(request: Request, next: Next) -> Response {
    let protobuf = encoding::prefers_protobuf(request.headers());
    let response = next.run(request).await;
    if protobuf && !response.status().is_success() {
        return status::protobuf_status(response).await;
    }
    response
}
