//! The `/sim/*` hooks tests use to steer the sim: churn, pods, CRDs,
//! budgets, log rate, token rotation, injected faults, and what was asked.
//! They need no token and are neither logged nor frozen.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::Server;
use super::extract::{JsonBody, Params};
use super::status::{failure, json_response};
use crate::faults::{Gone, Outage};
use crate::resources::Resource;

/// Every hook, under `/sim`.
pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/compact", post(compact))
        .route("/churn", post(churn))
        .route("/pods", post(create_pod))
        .route("/crds", post(install_crd))
        .route("/faults/drop-watches", post(drop_watches))
        .route("/faults/end-watches", post(end_watches))
        .route("/faults/outage", post(outage))
        .route("/faults/restart", post(restart))
        .route("/faults/short-watches", post(short_watches))
        .route("/faults/freeze", post(freeze))
        .route("/faults/gone", post(gone))
        .route("/pdbs", post(budgets))
        .route("/logs", post(log_rate))
        .route("/token", post(token))
        .route("/requests", get(requests))
        .route("/info", get(info))
        .fallback(unknown)
}

fn bad_request(usage: &str) -> Response {
    failure(400, "BadRequest", usage, None, None)
}

async fn compact(State(server): State<Arc<Server>>) -> Response {
    server.store.compact();
    json_response(&json!({"compacted": server.store.compacted()}))
}

async fn churn(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    let Some(rate) = params.get("rate").and_then(|r| r.parse::<u32>().ok()) else {
        return bad_request("POST /sim/churn?rate=N (operations per second, 0 pauses)");
    };
    server.churn.set_rate(rate);
    json_response(
        &json!({"churnRate": rate, "resourceVersion": server.store.resource_version().to_string()}),
    )
}

/// A fresh pod in `namespace` (the first one by default). A body is a JSON
/// merge patch (RFC 7386) over it: whatever a namespace user could write,
/// hostile text included.
async fn create_pod(
    State(server): State<Arc<Server>>,
    Params(params): Params,
    JsonBody(body): JsonBody,
) -> Response {
    let namespace = params
        .get("namespace")
        .cloned()
        .or_else(|| server.namespaces.first().cloned())
        .unwrap_or_default();
    let mut pod = server
        .generator
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .fresh_pod(&namespace);
    if let Some(patch) = &body {
        crate::write::merge_patch(&mut pod, patch);
    }
    let Some(pods) = Resource::by_plural("pods") else {
        return failure(500, "InternalError", "no pods resource", None, None);
    };
    match server.store.create(pods, pod) {
        Ok(obj) => json_response(
            &json!({"namespace": obj.key.0, "name": obj.key.1, "resourceVersion": obj.rv.to_string()}),
        ),
        Err(error) => failure(409, "AlreadyExists", &error.to_string(), None, None),
    }
}

async fn install_crd(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    let name = params.get("name").map(String::as_str).unwrap_or("");
    let version = params.get("version").map(String::as_str);
    if server.install_crd(name, version) {
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

async fn drop_watches(State(server): State<Arc<Server>>) -> Response {
    json_response(&json!({"watches": server.faults.drop_watches(true)}))
}

async fn end_watches(State(server): State<Arc<Server>>) -> Response {
    json_response(&json!({"watches": server.faults.drop_watches(false)}))
}

async fn outage(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    down(&server, &params, false)
}

async fn restart(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    down(&server, &params, true)
}

/// The API server unreachable for `seconds` (a restart also forgets its watches).
fn down(server: &Server, params: &HashMap<String, String>, restart: bool) -> Response {
    let Some(seconds) = seconds_param(params, 600.0) else {
        return bad_request(
            "POST /sim/faults/outage?seconds=N or /sim/faults/restart?seconds=N (0 to 600)",
        );
    };
    server.faults.outage(Outage {
        down: Duration::from_secs_f64(seconds),
        restart,
    });
    json_response(&json!({"down": seconds, "restart": restart}))
}

async fn short_watches(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    let Some(seconds) = seconds_param(&params, 3600.0) else {
        return bad_request("POST /sim/faults/short-watches?seconds=N (0 to 3600)");
    };
    server
        .faults
        .short_watches(Duration::from_secs_f64(seconds));
    json_response(&json!({"shortWatches": seconds}))
}

async fn freeze(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    let Some(seconds) = seconds_param(&params, 3600.0) else {
        return bad_request("POST /sim/faults/freeze?seconds=N (0 to 3600)");
    };
    server.faults.freeze(Duration::from_secs_f64(seconds));
    json_response(&json!({"frozen": seconds}))
}

async fn gone(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    let form = params.get("form").and_then(|f| Gone::parse(f));
    let count = params
        .get("count")
        .map_or(Some(1), |c| c.parse::<u32>().ok());
    match (form, count) {
        (Some(form @ (Gone::WatchEvent | Gone::WatchHttp)), _) => {
            server
                .faults
                .set_watch_gone_over_http(form == Gone::WatchHttp);
            server.store.compact();
            json_response(
                &json!({"form": form.name(), "compacted": server.store.compacted().to_string()}),
            )
        }
        (Some(form), Some(count)) => {
            server.faults.arm(form, count);
            json_response(&json!({"form": form.name(), "count": count}))
        }
        _ => bad_request(
            "POST /sim/faults/gone?form=watch-event|watch-http, or form=list|continue&count=N",
        ),
    }
}

/// A PodDisruptionBudget evictions honour (`maxUnavailable=-1` removes it).
async fn budgets(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    let param = |key: &str| params.get(key).cloned().unwrap_or_default();
    let number = |key: &str| params.get(key).and_then(|v| v.parse::<i64>().ok());
    let selector: BTreeMap<String, String> = param("selector")
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if param("namespace").is_empty() || param("name").is_empty() || selector.is_empty() {
        return bad_request(
            "POST /sim/pdbs?namespace=NS&name=N&selector=k=v[,k=v]&minAvailable=N|maxUnavailable=N (maxUnavailable=-1 removes it)",
        );
    }
    let mut budgets = server.budgets.lock().unwrap_or_else(|p| p.into_inner());
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

async fn log_rate(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    match params.get("rate").and_then(|r| r.parse::<f64>().ok()) {
        Some(rate) if (0.0..=1_000_000.0).contains(&rate) => {
            server.log_rate.set(rate);
            json_response(&json!({"logRate": rate}))
        }
        _ => bad_request(
            "POST /sim/logs?rate=N (lines a second of every running container, 0 to 1000000)",
        ),
    }
}

async fn token(State(server): State<Arc<Server>>, Params(params): Params) -> Response {
    let Some(value) = params.get("value").filter(|v| !v.is_empty()) else {
        return bad_request("POST /sim/token?value=NEW rotates the bearer token");
    };
    *server.token.write().unwrap_or_else(|p| p.into_inner()) = value.clone();
    json_response(&json!({"rotated": true}))
}

async fn requests(State(server): State<Arc<Server>>) -> Response {
    let log = server.requests.lock().unwrap_or_else(|p| p.into_inner());
    json_response(&json!({"requests": log.iter().collect::<Vec<_>>()}))
}

async fn info(State(server): State<Arc<Server>>) -> Response {
    let counts: serde_json::Map<String, Value> = crate::resources::RESOURCES
        .iter()
        .filter(|r| server.installed(r))
        .map(|r| (r.plural.to_string(), json!(server.store.count(r))))
        .collect();
    json_response(&json!({
        "resourceVersion": server.store.resource_version().to_string(),
        "compacted": server.store.compacted().to_string(),
        "churnRate": server.churn.rate.load(Ordering::SeqCst),
        "faultsFired": server.faults.fired(),
        "bookmarks": server.faults.bookmarks_sent(),
        "openWatches": server.faults.open_watches(),
        "objects": counts,
    }))
}

async fn unknown() -> Response {
    failure(
        404,
        "NotFound",
        "control hooks: POST /sim/compact, POST /sim/churn?rate=N, POST /sim/pods?namespace=NS [merge-patch body], POST /sim/crds?name=widgets, POST /sim/token?value=NEW, POST /sim/pdbs?…, POST /sim/logs?rate=N, POST /sim/faults/{drop-watches,end-watches,outage?seconds=N,restart?seconds=N,freeze?seconds=N,short-watches?seconds=N,gone?form=F&count=N}, GET /sim/info, GET /sim/requests",
        None,
        None,
    )
}

/// The `seconds` parameter of a fault hook, from 0 to `most`.
fn seconds_param(params: &HashMap<String, String>, most: f64) -> Option<f64> {
    params
        .get("seconds")
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| (0.0..=most).contains(s))
}
