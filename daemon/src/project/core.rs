//! Core kinds: services, namespaces, configmaps, secrets (the server's Table, no values)
//! and serviceaccounts.

use k8s_openapi::api::core::v1::{
    ConfigMap, LoadBalancerIngress, Namespace, Service, ServiceAccount,
};

use super::{age, format_labels, parts};
use crate::catalog::ON_DEMAND_TIER;
use crate::descriptor::{ClusterScoped, Descriptor, Namespaced, ServerTable, col, wide};
use crate::informer::SECRET_ANNOTATIONS;
use crate::row::{Cell, RowParts};
use crate::table::TableRow;

/// TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE; wide SELECTOR.
pub fn service(s: &Service) -> RowParts {
    let spec = s.spec.as_ref();
    let type_ = spec
        .and_then(|s| s.type_.clone())
        .unwrap_or_else(|| "ClusterIP".to_string());
    let cluster_ip = spec
        .and_then(|s| s.cluster_ip.clone())
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| "<none>".to_string());
    let external_ips: Vec<String> = spec
        .and_then(|s| s.external_ips.clone())
        .unwrap_or_default();
    let external = match type_.as_str() {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let ingress = s
                .status
                .as_ref()
                .and_then(|st| st.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_deref());
            let lb = load_balancer_ips(ingress.unwrap_or_default());
            if !external_ips.is_empty() {
                let mut all: Vec<String> = if lb.is_empty() {
                    vec![]
                } else {
                    lb.split(',').map(str::to_string).collect()
                };
                all.extend(external_ips);
                all.join(",")
            } else if !lb.is_empty() {
                lb
            } else {
                "<pending>".to_string()
            }
        }
        "ExternalName" => spec
            .and_then(|s| s.external_name.clone())
            .unwrap_or_default(),
        _ => "<unknown>".to_string(),
    };
    let ports = spec
        .and_then(|s| s.ports.as_ref())
        .map(|ports| {
            ports
                .iter()
                .map(|p| {
                    let protocol = p.protocol.as_deref().unwrap_or("TCP");
                    match p.node_port {
                        Some(node_port) if node_port > 0 => {
                            format!("{}:{node_port}/{protocol}", p.port)
                        }
                        _ => format!("{}/{protocol}", p.port),
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "<none>".to_string());
    parts(
        &s.metadata,
        vec![
            Cell::text(type_),
            Cell::text(cluster_ip),
            Cell::text(external),
            Cell::text(ports),
            age(&s.metadata),
            Cell::text(format_labels(spec.and_then(|s| s.selector.as_ref()))),
        ],
    )
}

/// Load balancer ingress IPs or hostnames, comma-joined. kubectl shortens
/// this to 16 characters outside wide output; Timoneiro projects once for
/// both, so it keeps the full text.
fn load_balancer_ips(ingress: &[LoadBalancerIngress]) -> String {
    ingress
        .iter()
        .filter_map(|i| {
            i.ip.clone()
                .filter(|ip| !ip.is_empty())
                .or_else(|| i.hostname.clone().filter(|h| !h.is_empty()))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// STATUS AGE.
pub fn namespace(n: &Namespace) -> RowParts {
    let phase = n
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    parts(&n.metadata, vec![Cell::text(phase), age(&n.metadata)])
}

/// DATA AGE.
pub fn configmap(c: &ConfigMap) -> RowParts {
    let data =
        c.data.as_ref().map_or(0, |d| d.len()) + c.binary_data.as_ref().map_or(0, |d| d.len());
    parts(
        &c.metadata,
        vec![Cell::text(data.to_string()), age(&c.metadata)],
    )
}

/// TYPE DATA AGE, from the server's Table (`crate::table`): the DATA cell
/// is the server's count of keys; no value reaches the daemon.
pub fn secret(row: &TableRow) -> RowParts {
    parts(
        &row.metadata,
        vec![
            Cell::text(row.text("Type")),
            Cell::text(row.text("Data")),
            age(&row.metadata),
        ],
    )
}

/// AGE.
pub fn serviceaccount(s: &ServiceAccount) -> RowParts {
    parts(&s.metadata, vec![age(&s.metadata)])
}

pub static SERVICES: Descriptor = Descriptor {
    plural: "services",
    singular: "service",
    kind: "Service",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &["svc"],
    tier: 2,
    name_first: true,
    columns: &[
        col("TYPE"),
        col("CLUSTER-IP"),
        col("EXTERNAL-IP"),
        col("PORT(S)"),
        col("AGE"),
        wide("SELECTOR"),
    ],
    row_limit: None,
    cache: &Namespaced::<Service>::new(service),
};

pub static NAMESPACES: Descriptor = Descriptor {
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    group: "",
    version: "v1",
    namespaced: false,
    short_names: &["ns"],
    tier: 2,
    name_first: true,
    columns: &[col("STATUS"), col("AGE")],
    row_limit: None,
    cache: &ClusterScoped::<Namespace>::new(namespace),
};

pub static CONFIGMAPS: Descriptor = Descriptor {
    plural: "configmaps",
    singular: "configmap",
    kind: "ConfigMap",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &["cm"],
    tier: 3,
    name_first: true,
    columns: &[col("DATA"), col("AGE")],
    row_limit: None,
    cache: &Namespaced::<ConfigMap>::new(configmap),
};

/// Secrets are watched as the server's Table (`crate::table`): TYPE and
/// DATA are the server's cells, computed where the values are.
pub static SECRETS: Descriptor = Descriptor {
    plural: "secrets",
    singular: "secret",
    kind: "Secret",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &[],
    tier: 3,
    name_first: true,
    columns: &[col("TYPE"), col("DATA"), col("AGE")],
    row_limit: None,
    cache: &ServerTable::new(secret, SECRET_ANNOTATIONS),
};

pub static SERVICEACCOUNTS: Descriptor = Descriptor {
    plural: "serviceaccounts",
    singular: "serviceaccount",
    kind: "ServiceAccount",
    group: "",
    version: "v1",
    namespaced: true,
    short_names: &["sa"],
    tier: ON_DEMAND_TIER,
    name_first: true,
    columns: &[col("AGE")],
    row_limit: None,
    cache: &Namespaced::<ServiceAccount>::new(serviceaccount),
};
