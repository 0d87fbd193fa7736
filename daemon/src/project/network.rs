//! Ingresses.

use k8s_openapi::api::networking::v1::Ingress;

use super::{age, parts};
use crate::catalog::ON_DEMAND_TIER;
use crate::descriptor::{Descriptor, Namespaced, col};
use crate::row::{Cell, RowParts};

/// CLASS HOSTS ADDRESS PORTS AGE.
///
/// HOSTS lists the first three rule hosts (`*` when none, "+ N more..."
/// when rules follow them); ADDRESS is the load balancer's IPs or hostnames, sorted and
/// unique; PORTS is "80, 443" with TLS, else "80".
pub fn ingress(i: &Ingress) -> RowParts {
    let spec = i.spec.as_ref();
    let class = spec
        .and_then(|s| s.ingress_class_name.clone())
        .unwrap_or_else(|| "<none>".to_string());
    let rules = spec.and_then(|s| s.rules.as_deref()).unwrap_or_default();
    const MAX_HOSTS: usize = 3;
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        more = more || hosts.len() == MAX_HOSTS;
        if let Some(host) = rule.host.as_deref().filter(|h| !more && !h.is_empty()) {
            hosts.push(host);
        }
    }
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - MAX_HOSTS)
    } else {
        hosts.join(",")
    };
    let mut addresses: Vec<String> = i
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|ing| {
            ing.ip
                .clone()
                .filter(|ip| !ip.is_empty())
                .or_else(|| ing.hostname.clone().filter(|h| !h.is_empty()))
        })
        .collect();
    addresses.sort();
    addresses.dedup();
    let tls = spec
        .and_then(|s| s.tls.as_ref())
        .is_some_and(|t| !t.is_empty());
    parts(
        &i.metadata,
        vec![
            Cell::text(class),
            Cell::text(hosts),
            Cell::text(addresses.join(",")),
            Cell::text(if tls { "80, 443" } else { "80" }),
            age(&i.metadata),
        ],
    )
}

pub static INGRESSES: Descriptor = Descriptor {
    plural: "ingresses",
    singular: "ingress",
    kind: "Ingress",
    group: "networking.k8s.io",
    version: "v1",
    namespaced: true,
    short_names: &["ing"],
    tier: ON_DEMAND_TIER,
    name_first: true,
    columns: &[
        col("CLASS"),
        col("HOSTS"),
        col("ADDRESS"),
        col("PORTS"),
        col("AGE"),
    ],
    row_limit: None,
    cache: &Namespaced::<Ingress>::new(ingress),
};
