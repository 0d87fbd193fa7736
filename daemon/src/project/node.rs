//! Nodes.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Node, NodeAddress};

use super::{age, parts};
use crate::catalog::ON_DEMAND_TIER;
use crate::descriptor::{ClusterScoped, Descriptor, col, wide};
use crate::row::{Cell, RowParts};

/// STATUS ROLES AGE VERSION; wide INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME.
///
/// STATUS is the Ready condition (`Ready`, `NotReady`, `Unknown` without
/// one) plus `SchedulingDisabled` for a cordoned node; ROLES come from the
/// `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels.
pub fn node(n: &Node) -> RowParts {
    let status = n.status.as_ref();
    let mut state: Vec<String> = Vec::new();
    if let Some(ready) = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
    {
        state.push(if ready.status == "True" {
            "Ready".to_string()
        } else {
            "NotReady".to_string()
        });
    }
    if state.is_empty() {
        state.push("Unknown".to_string());
    }
    if n.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        state.push("SchedulingDisabled".to_string());
    }
    let mut roles = BTreeSet::new();
    for (key, value) in n.metadata.labels.iter().flatten() {
        if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        } else if key == "kubernetes.io/role" && !value.is_empty() {
            roles.insert(value.clone());
        }
    }
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    };
    let info = status.and_then(|s| s.node_info.as_ref());
    let known = |value: Option<&String>| {
        value
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| "<unknown>".to_string())
    };
    // kubectl names the architecture beside the kernel, an unknown kernel
    // included: `<unknown> (arm64)` (seen on a real API server).
    let kernel = match info {
        Some(info) if !info.architecture.is_empty() => {
            format!(
                "{} ({})",
                known(Some(&info.kernel_version)),
                info.architecture
            )
        }
        Some(info) => known(Some(&info.kernel_version)),
        None => known(None),
    };
    let addresses = status
        .and_then(|s| s.addresses.as_deref())
        .unwrap_or_default();
    parts(
        &n.metadata,
        vec![
            Cell::text(state.join(",")),
            Cell::text(roles),
            age(&n.metadata),
            Cell::text(info.map(|i| i.kubelet_version.clone()).unwrap_or_default()),
            Cell::text(address(addresses, "InternalIP")),
            Cell::text(address(addresses, "ExternalIP")),
            Cell::text(known(info.map(|i| &i.os_image))),
            Cell::text(kernel),
            Cell::text(known(info.map(|i| &i.container_runtime_version))),
        ],
    )
}

fn address(addresses: &[NodeAddress], type_: &str) -> String {
    addresses
        .iter()
        .find(|a| a.type_ == type_)
        .map(|a| a.address.clone())
        .unwrap_or_else(|| "<none>".to_string())
}

pub static NODES: Descriptor = Descriptor {
    plural: "nodes",
    singular: "node",
    kind: "Node",
    group: "",
    version: "v1",
    namespaced: false,
    short_names: &["no"],
    tier: ON_DEMAND_TIER,
    name_first: true,
    columns: &[
        col("STATUS"),
        col("ROLES"),
        col("AGE"),
        col("VERSION"),
        wide("INTERNAL-IP"),
        wide("EXTERNAL-IP"),
        wide("OS-IMAGE"),
        wide("KERNEL-VERSION"),
        wide("CONTAINER-RUNTIME"),
    ],
    row_limit: None,
    cache: &ClusterScoped::<Node>::new(node),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel_cell(kernel: &str, architecture: &str) -> String {
        let node: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n"},
            "status": {"nodeInfo": {
                "architecture": architecture, "bootID": "", "containerRuntimeVersion": "",
                "kernelVersion": kernel, "kubeProxyVersion": "", "kubeletVersion": "",
                "machineID": "", "operatingSystem": "linux", "osImage": "", "systemUUID": ""
            }}
        }))
        .expect("a node");
        node_kernel(&node)
    }

    fn node_kernel(n: &Node) -> String {
        node(n).cells[7].text.to_string()
    }

    /// What kubectl 1.36 printed for such nodes on a real API server: the
    /// architecture is named even beside an unknown kernel.
    #[test]
    fn the_kernel_column_names_the_architecture_even_for_an_unknown_kernel() {
        assert_eq!(kernel_cell("", "arm64"), "<unknown> (arm64)");
        assert_eq!(kernel_cell("6.8.0", "amd64"), "6.8.0 (amd64)");
        assert_eq!(kernel_cell("6.8.0", ""), "6.8.0");
        assert_eq!(kernel_cell("", ""), "<unknown>");
    }
}
