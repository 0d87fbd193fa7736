//! Discovery (aggregated and legacy, cut from the recorded documents), the
//! CRDs of installed custom resources, `/version`, and metrics.k8s.io as
//! metrics-server serves it.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::Response;
use serde_json::{Value, json};

use super::Server;
use super::status::{
    aggregated_response, discovery_response, failure, json_response, not_found, quote,
};
use crate::discovery;
use crate::resources::Resource;

fn accept(request: &Request) -> &str {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub(super) async fn version() -> Response {
    json_response(
        &json!({"major": "1", "minor": "36", "gitVersion": "v1.36.2-timoneiro-sim", "platform": "linux/amd64"}),
    )
}

/// `/api`: the core group's versions, or its aggregated document.
pub(super) async fn core_versions(State(server): State<Arc<Server>>, request: Request) -> Response {
    if server.aggregated_discovery && discovery::wants_aggregated(accept(&request)) {
        return aggregated_response(&discovery::aggregated(true, &|r| server.installed(r)));
    }
    discovery_response(
        &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
    )
}

/// `/apis`: every other group, or their aggregated document.
pub(super) async fn groups(State(server): State<Arc<Server>>, request: Request) -> Response {
    let installed = |r: &Resource| server.installed(r);
    if server.aggregated_discovery && discovery::wants_aggregated(accept(&request)) {
        let mut doc = discovery::aggregated(false, &installed);
        if server.metrics
            && let Some(items) = doc["items"].as_array_mut()
        {
            items.push(crate::metrics::aggregated_group());
        }
        return aggregated_response(&doc);
    }
    let mut list = discovery::api_group_list(&installed);
    if server.metrics
        && let Some(groups) = list["groups"].as_array_mut()
    {
        groups.push(crate::metrics::legacy_group());
    }
    discovery_response(&list)
}

/// `/api/VERSION`: the core group's resources.
pub(super) async fn core_resources(
    State(server): State<Arc<Server>>,
    Path(version): Path<String>,
) -> Response {
    resources(&server, "", &version)
}

/// `/apis/GROUP/VERSION`: a group's resources.
pub(super) async fn group_resources(
    State(server): State<Arc<Server>>,
    Path((group, version)): Path<(String, String)>,
) -> Response {
    if server.metrics && group == "metrics.k8s.io" && version == "v1beta1" {
        return discovery_response(&crate::metrics::resource_list());
    }
    resources(&server, &group, &version)
}

fn resources(server: &Server, group: &str, version: &str) -> Response {
    match discovery::api_resource_list(group, version, &|r| server.installed(r)) {
        Some(list) => discovery_response(&list),
        None => not_found(),
    }
}

/// `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/NAME`.
pub(super) async fn crd(State(server): State<Arc<Server>>, Path(name): Path<String>) -> Response {
    server.crd(&name)
}

/// metrics.k8s.io's pods and nodes. A window of a big cluster takes a
/// while to compute: off the runtime's threads, which deliver the watches
/// meanwhile.
pub(super) async fn metrics(
    State(server): State<Arc<Server>>,
    Path(rest): Path<String>,
) -> Response {
    if !server.metrics {
        return not_found();
    }
    let computed = tokio::task::spawn_blocking(move || {
        crate::metrics::respond(
            &server.store,
            &server.metrics_cache,
            &rest,
            jiff::Timestamp::now(),
        )
    })
    .await;
    match computed {
        Ok(Some(list)) => json_response(&list),
        Ok(None) | Err(_) => not_found(),
    }
}

impl Server {
    /// The recorded CRD of an installed custom resource, at the version served.
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
}
