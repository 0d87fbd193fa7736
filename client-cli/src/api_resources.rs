//! `timoneiro api-resources`: every kind the daemon knows, as kubectl's
//! `api-resources` lists them, plus Timoneiro's tier and cache state.

use serde_json::json;
use timoneiro_proto::v1::{ApiResource, ApiResourcesRequest};

use crate::args::{ApiResources, ApiResourcesFormat, Global};
use crate::connection::connect;
use crate::from_status;
use crate::output::Out;
use crate::status::state_name;

fn qualified(resource: &ApiResource) -> String {
    let kind = resource.kind.clone().unwrap_or_default();
    if kind.group.is_empty() {
        kind.plural
    } else {
        format!("{}.{}", kind.plural, kind.group)
    }
}

/// Run `api-resources`.
pub async fn run(global: &Global, args: ApiResources) -> anyhow::Result<()> {
    let mut connection = connect(global).await?;
    let response = connection
        .client
        .api_resources(ApiResourcesRequest {
            context: args.context.name.clone(),
            refresh: args.refresh,
        })
        .await
        .map_err(from_status)?
        .into_inner();
    let mut out = Out::new();
    match args.output {
        Some(ApiResourcesFormat::Name) => {
            for resource in &response.resources {
                out.line(&qualified(resource))?;
            }
        }
        Some(ApiResourcesFormat::Json) => {
            let resources: Vec<_> = response
                .resources
                .iter()
                .map(|r| {
                    let kind = r.kind.clone().unwrap_or_default();
                    let status = r.status.clone().unwrap_or_default();
                    json!({
                        "name": kind.plural,
                        "singularName": kind.singular,
                        "shortNames": kind.short_names,
                        "group": kind.group,
                        "version": kind.version,
                        "namespaced": kind.namespaced,
                        "kind": kind.kind,
                        "tier": kind.tier,
                        "state": state_name(&status),
                        "objects": status.objects,
                    })
                })
                .collect();
            let value = json!({
                "context": response.context,
                "discovery": response.discovery,
                "discoveryError": response.discovery_error,
                "resources": resources,
            });
            out.line(&serde_json::to_string(&value)?)?;
        }
        None => {
            let mut grid: Vec<Vec<String>> = Vec::new();
            if !args.no_headers {
                grid.push(
                    [
                        "NAME",
                        "SHORTNAMES",
                        "APIVERSION",
                        "NAMESPACED",
                        "KIND",
                        "TIER",
                        "STATE",
                    ]
                    .map(String::from)
                    .to_vec(),
                );
            }
            for resource in &response.resources {
                let kind = resource.kind.clone().unwrap_or_default();
                let status = resource.status.clone().unwrap_or_default();
                let api_version = if kind.group.is_empty() {
                    kind.version.clone()
                } else {
                    format!("{}/{}", kind.group, kind.version)
                };
                grid.push(vec![
                    kind.plural,
                    kind.short_names.join(","),
                    api_version,
                    kind.namespaced.to_string(),
                    kind.kind,
                    kind.tier.to_string(),
                    state_name(&status).to_string(),
                ]);
            }
            for line in crate::table::layout(&grid) {
                out.line(line.trim_end())?;
            }
            if !response.discovery_error.is_empty() {
                eprintln!(
                    "warning: discovery failed ({}); built-in kinds only",
                    response.discovery_error
                );
            }
        }
    }
    out.flush()
}
