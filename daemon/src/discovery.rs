//! Discovery: which kinds the API server serves, refreshed while the daemon
//! runs so a CRD installed later resolves without a restart.
//!
//! Aggregated discovery (`apidiscovery.k8s.io/v2`: two requests for the
//! whole cluster) first; servers without it get the legacy walk (`/api`,
//! `/api/v1`, `/apis`, then one request per group's preferred version).
//! Only kinds that can be listed and watched are kept; subresources are not
//! kinds.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::core::discovery::v2::APIGroupDiscoveryList;
use kube::{Api, Client};

use crate::catalog::{Discovered, PrinterColumn};

/// What one discovery run found, and how.
#[derive(Debug, Clone)]
pub struct Found {
    /// Every listable, watchable kind, preferred version of each group.
    pub kinds: Vec<Discovered>,
    /// "aggregated" or "legacy".
    pub method: &'static str,
}

/// Run discovery: aggregated, falling back to the legacy endpoints.
pub async fn discover(client: &Client) -> Result<Found, String> {
    match aggregated(client).await {
        Ok(kinds) => Ok(Found {
            kinds,
            method: "aggregated",
        }),
        Err(aggregated_error) => {
            tracing::debug!(error = %aggregated_error, "aggregated discovery unavailable; using the legacy endpoints");
            legacy(client)
                .await
                .map(|kinds| Found {
                    kinds,
                    method: "legacy",
                })
                .map_err(|e| crate::errors::error_chain(&e))
        }
    }
}

fn listable(verbs: &[String]) -> bool {
    ["list", "watch"]
        .iter()
        .all(|verb| verbs.iter().any(|v| v == verb))
}

fn from_aggregated(lists: [APIGroupDiscoveryList; 2]) -> Vec<Discovered> {
    let mut kinds = Vec::new();
    for group in lists.into_iter().flat_map(|list| list.items) {
        let name = group
            .metadata
            .as_ref()
            .and_then(|m| m.name.clone())
            .unwrap_or_default();
        // Versions come in order of preference.
        let Some(preferred) = group.versions.into_iter().next() else {
            continue;
        };
        let version = preferred.version.unwrap_or_default();
        for resource in preferred.resources {
            let Some(plural) = resource.resource else {
                continue;
            };
            if plural.contains('/') || !listable(&resource.verbs) {
                continue;
            }
            let kind = resource
                .response_kind
                .and_then(|k| k.kind)
                .unwrap_or_default();
            kinds.push(Discovered {
                singular: resource
                    .singular_resource
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| kind.to_lowercase()),
                plural,
                kind,
                group: name.clone(),
                version: version.clone(),
                namespaced: resource.scope.as_deref() == Some("Namespaced"),
                short_names: resource.short_names,
            });
        }
    }
    kinds
}

async fn aggregated(client: &Client) -> Result<Vec<Discovered>, String> {
    let core = client
        .list_core_api_versions_aggregated()
        .await
        .map_err(|e| e.to_string())?;
    // A server without aggregated discovery answers with APIVersions, which
    // decodes as an empty list.
    if core.items.is_empty() {
        return Err("the server does not serve aggregated discovery".into());
    }
    let groups = client
        .list_api_groups_aggregated()
        .await
        .map_err(|e| e.to_string())?;
    Ok(from_aggregated([core, groups]))
}

async fn legacy(client: &Client) -> Result<Vec<Discovered>, kube::Error> {
    let mut lists = Vec::new();
    let core = client.list_core_api_versions().await?;
    if let Some(version) = core
        .versions
        .iter()
        .find(|v| *v == "v1")
        .or(core.versions.first())
    {
        lists.push((
            String::new(),
            version.clone(),
            client.list_core_api_resources(version).await?,
        ));
    }
    for group in client.list_api_groups().await?.groups {
        let Some(preferred) = group
            .preferred_version
            .clone()
            .or_else(|| group.versions.first().cloned())
        else {
            continue;
        };
        match client
            .list_api_group_resources(&preferred.group_version)
            .await
        {
            Ok(list) => lists.push((group.name.clone(), preferred.version.clone(), list)),
            // One broken aggregated API must not hide every other kind.
            Err(error) => {
                tracing::warn!(group = %group.name, %error, "discovery of a group failed")
            }
        }
    }
    let mut kinds = Vec::new();
    for (group, version, list) in lists {
        for resource in list.resources {
            if resource.name.contains('/') || !listable(&resource.verbs) {
                continue;
            }
            kinds.push(Discovered {
                singular: if resource.singular_name.is_empty() {
                    resource.kind.to_lowercase()
                } else {
                    resource.singular_name
                },
                plural: resource.name,
                kind: resource.kind,
                group: group.clone(),
                version: version.clone(),
                namespaced: resource.namespaced,
                short_names: resource.short_names.unwrap_or_default(),
            });
        }
    }
    Ok(kinds)
}

/// The printer columns of a custom resource's version, from its CRD. Kinds
/// that are not CRDs (aggregated APIs, built-in kinds without a projection),
/// or a CRD the user may not read, get none: kubectl's NAME and AGE.
pub async fn printer_columns(client: &Client, found: &Discovered) -> Vec<PrinterColumn> {
    if !found.group.contains('.') {
        return Vec::new();
    }
    let name = format!("{}.{}", found.plural, found.group);
    let crd = match Api::<CustomResourceDefinition>::all(client.clone())
        .get_opt(&name)
        .await
    {
        Ok(Some(crd)) => crd,
        Ok(None) => return Vec::new(),
        Err(error) => {
            tracing::info!(crd = %name, %error, "cannot read the CRD; printing NAME and AGE");
            return Vec::new();
        }
    };
    crd_columns(&crd, &found.version)
}

/// The columns the API server prints for a kind (a Table of one object,
/// `columnDefinitions` after Name): (name, `priority > 0`). None when the
/// server does not answer with a Table.
pub async fn table_columns(client: &Client, found: &Discovered) -> Option<Vec<(String, bool)>> {
    let path = match found.group.as_str() {
        "" => format!("/api/{}/{}", found.version, found.plural),
        group => format!("/apis/{group}/{}/{}", found.version, found.plural),
    };
    let request = http::Request::get(format!("{path}?limit=1&includeObject=None"))
        .header(http::header::ACCEPT, crate::table::ACCEPT)
        .body(Vec::new())
        .ok()?;
    match client.request::<serde_json::Value>(request).await {
        Ok(table) => crate::table::column_definitions(&table),
        Err(error) => {
            tracing::info!(kind = %found.plural, %error, "no server-side Table; printing NAME and AGE");
            None
        }
    }
}

/// `additionalPrinterColumns` of one version of a CRD.
pub fn crd_columns(crd: &CustomResourceDefinition, version: &str) -> Vec<PrinterColumn> {
    crd.spec
        .versions
        .iter()
        .find(|v| v.name == version)
        .and_then(|v| v.additional_printer_columns.as_ref())
        .map(|columns| {
            columns
                .iter()
                .map(|c| PrinterColumn {
                    name: c.name.to_uppercase(),
                    type_: c.type_.clone(),
                    json_path: c.json_path.clone(),
                    wide: c.priority.unwrap_or(0) > 0,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_discovery_keeps_listable_kinds_of_the_preferred_version() {
        let core: APIGroupDiscoveryList = serde_json::from_value(serde_json::json!({
            "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "items": [{"metadata": {}, "versions": [{"version": "v1", "resources": [
                {"resource": "pods", "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                 "scope": "Namespaced", "singularResource": "pod", "shortNames": ["po"],
                 "verbs": ["get", "list", "watch"]},
                {"resource": "bindings", "responseKind": {"group": "", "version": "v1", "kind": "Binding"},
                 "scope": "Namespaced", "singularResource": "binding", "verbs": ["create"]}
            ]}]}]
        }))
        .expect("core");
        let groups: APIGroupDiscoveryList = serde_json::from_value(serde_json::json!({
            "items": [{"metadata": {"name": "example.com"}, "versions": [
                {"version": "v2", "resources": [{"resource": "widgets",
                    "responseKind": {"group": "example.com", "version": "v2", "kind": "Widget"},
                    "scope": "Cluster", "singularResource": "widget", "verbs": ["list", "watch"]}]},
                {"version": "v1", "resources": []}
            ]}]
        }))
        .expect("groups");
        let kinds = from_aggregated([core, groups]);
        let names: Vec<String> = kinds
            .iter()
            .map(|k| format!("{}.{}/{} {}", k.plural, k.group, k.version, k.namespaced))
            .collect();
        assert_eq!(names, ["pods./v1 true", "widgets.example.com/v2 false"]);
        assert_eq!(kinds[0].short_names, ["po"]);
    }
}
