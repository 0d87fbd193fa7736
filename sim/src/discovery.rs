//! Discovery documents for what the sim serves, cut from the recorded ones:
//! the aggregated documents (`apidiscovery.k8s.io/v2`, as the real server
//! sends them for `/api` and `/apis`) keep only the resources the sim serves
//! (custom resources only once their CRD is installed), and the legacy
//! documents (`APIGroupList`, `APIResourceList`) are derived from them in
//! the shapes of `discovery/apis.json` and `discovery/apis-apps-v1.json`.

use serde_json::{Value, json};

use crate::resources::{RESOURCES, Resource};

macro_rules! recorded {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/discovery/",
            $name
        ))
    };
}

/// Content type of aggregated discovery, as the real server echoes it.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether a request's Accept header asks for aggregated discovery.
pub fn wants_aggregated(accept: &str) -> bool {
    accept.contains("as=APIGroupDiscoveryList") && accept.contains("g=apidiscovery.k8s.io")
}

fn served(group: &str, plural: &str, installed: &dyn Fn(&Resource) -> bool) -> bool {
    RESOURCES
        .iter()
        .any(|r| r.group == group && r.plural == plural && installed(r))
}

/// The aggregated document for `/api` (core) or `/apis` (groups).
pub fn aggregated(core: bool, installed: &dyn Fn(&Resource) -> bool) -> Value {
    let text = if core {
        recorded!("aggregated-api.json")
    } else {
        recorded!("aggregated-apis.json")
    };
    let mut doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    if let Some(items) = doc["items"].as_array_mut() {
        for group in items.iter_mut() {
            let name = group["metadata"]["name"].as_str().unwrap_or("").to_string();
            if let Some(versions) = group["versions"].as_array_mut() {
                for version in versions.iter_mut() {
                    if let Some(resources) = version["resources"].as_array_mut() {
                        resources.retain(|r| {
                            served(&name, r["resource"].as_str().unwrap_or(""), installed)
                        });
                        // A CRD served at another version than recorded
                        // (an upgrade): its version entry is named so.
                        let moved = resources.iter().find_map(|r| {
                            let plural = r["resource"].as_str().unwrap_or("");
                            RESOURCES
                                .iter()
                                .find(|s| s.group == name && s.plural == plural && installed(s))
                                .map(|s| s.version)
                        });
                        if let Some(served_at) = moved
                            && version["version"] != served_at
                        {
                            version["version"] = Value::String(served_at.to_string());
                        }
                    }
                }
                versions.retain(|v| v["resources"].as_array().is_some_and(|r| !r.is_empty()));
            }
        }
        items.retain(|g| g["versions"].as_array().is_some_and(|v| !v.is_empty()));
    }
    doc
}

/// Every (group, version) the aggregated documents list, preferred first.
fn group_versions(installed: &dyn Fn(&Resource) -> bool) -> Vec<(String, Vec<String>)> {
    aggregated(false, installed)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|g| {
            (
                g["metadata"]["name"].as_str().unwrap_or("").to_string(),
                g["versions"]
                    .as_array()
                    .map(|vs| {
                        vs.iter()
                            .filter_map(|v| v["version"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// The legacy `/apis` document.
pub fn api_group_list(installed: &dyn Fn(&Resource) -> bool) -> Value {
    let groups: Vec<Value> = group_versions(installed)
        .into_iter()
        .map(|(name, versions)| {
            let entries: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
                .collect();
            json!({"name": name, "versions": entries, "preferredVersion": entries.first()})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// The legacy `APIResourceList` of one group version, or None if not served.
pub fn api_resource_list(
    group: &str,
    version: &str,
    installed: &dyn Fn(&Resource) -> bool,
) -> Option<Value> {
    let doc = aggregated(group.is_empty(), installed);
    let group_doc = doc["items"]
        .as_array()?
        .iter()
        .find(|g| g["metadata"]["name"].as_str().unwrap_or("") == group)?
        .clone();
    let version_doc = group_doc["versions"]
        .as_array()?
        .iter()
        .find(|v| v["version"] == version)?
        .clone();
    let resources: Vec<Value> = version_doc["resources"]
        .as_array()?
        .iter()
        .map(|r| {
            let mut entry = json!({
                "name": r["resource"],
                "singularName": r["singularResource"],
                "namespaced": r["scope"] == "Namespaced",
                "kind": r["responseKind"]["kind"],
                "verbs": r["verbs"],
            });
            if let Some(short) = r["shortNames"].as_array().filter(|s| !s.is_empty()) {
                entry["shortNames"] = json!(short);
            }
            entry
        })
        .collect();
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    // The core list has no apiVersion (as recorded in discovery/api-v1.json).
    let mut list =
        json!({"kind": "APIResourceList", "groupVersion": group_version, "resources": resources});
    if !group.is_empty() {
        list["apiVersion"] = json!("v1");
    }
    Some(list)
}

/// A discovery document as the real server writes it: compact, top-level
/// keys in its order (kind, apiVersion, …), a trailing newline.
pub fn to_body(value: &Value) -> Vec<u8> {
    const ORDER: [&str; 9] = [
        "kind",
        "apiVersion",
        "groupVersion",
        "metadata",
        "items",
        "groups",
        "versions",
        "serverAddressByClientCIDRs",
        "resources",
    ];
    let Some(map) = value.as_object() else {
        return serde_json::to_vec(value).unwrap_or_default();
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    let fields: Vec<String> = keys
        .into_iter()
        .map(|k| {
            format!(
                "{}:{}",
                serde_json::to_string(k).unwrap_or_default(),
                serde_json::to_string(&map[k]).unwrap_or_default()
            )
        })
        .collect();
    format!("{{{}}}\n", fields.join(",")).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_list_only_served_resources_and_installed_crds() {
        let without = |r: &Resource| !r.crd;
        let apis = aggregated(false, &without);
        let text = apis.to_string();
        assert!(text.contains("\"deployments\"") && text.contains("\"horizontalpodautoscalers\""));
        assert!(
            !text.contains("widgets") && !text.contains("leases"),
            "{text}"
        );
        let with = |_: &Resource| true;
        assert!(aggregated(false, &with).to_string().contains("\"widgets\""));
        let core = api_resource_list("", "v1", &without).expect("core v1");
        let names: Vec<&str> = core["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(
            names.contains(&"pods") && names.contains(&"nodes"),
            "{names:?}"
        );
        assert!(!names.contains(&"bindings"));
        assert!(api_resource_list("example.com", "v1", &without).is_none());
        let groups = api_group_list(&with);
        assert!(
            groups
                .to_string()
                .contains("\"groupVersion\":\"example.com/v1\"")
        );
    }
}
