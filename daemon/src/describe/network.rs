//! Services and ingresses, with the endpoints their EndpointSlices list
//! (kubectl's `describeService`, `describeIngressV1`, `formatEndpointSlices`).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Service, ServiceSpec};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Related, Writer, annotations, events, labels};

/// The label that ties an EndpointSlice to its service.
pub(crate) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

pub(super) fn service(w: &mut Writer, service: &Service, related: &Related) {
    let meta = &service.metadata;
    let spec = service.spec.clone().unwrap_or_default();
    w.write(
        0,
        &format!("Name:\t{}\n", meta.name.as_deref().unwrap_or("")),
    );
    w.write(
        0,
        &format!("Namespace:\t{}\n", meta.namespace.as_deref().unwrap_or("")),
    );
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
    addresses(w, service, &spec);
    ports(w, service, &spec, related);
    w.write(
        0,
        &format!(
            "Session Affinity:\t{}\n",
            spec.session_affinity.as_deref().unwrap_or("")
        ),
    );
    if let Some(policy) = spec
        .external_traffic_policy
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        w.write(0, &format!("External Traffic Policy:\t{policy}\n"));
    }
    if let Some(policy) = &spec.internal_traffic_policy {
        w.write(0, &format!("Internal Traffic Policy:\t{policy}\n"));
    }
    if let Some(port) = spec.health_check_node_port.filter(|p| *p != 0) {
        w.write(0, &format!("HealthCheck NodePort:\t{port}\n"));
    }
    if let Some(ranges) = spec
        .load_balancer_source_ranges
        .as_deref()
        .filter(|r| !r.is_empty())
    {
        w.write(
            0,
            &format!("LoadBalancer Source Ranges:\t{}\n", ranges.join(",")),
        );
    }
    if let Some(distribution) = &spec.traffic_distribution {
        w.write(0, &format!("Traffic Distribution:\t{distribution}\n"));
    }
    events(w, related);
}

/// Selector, type, IP families, cluster, external and load-balancer addresses.
fn addresses(w: &mut Writer, service: &Service, spec: &ServiceSpec) {
    let selector = spec
        .selector
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    w.write(0, &format!("Selector:\t{}\n", super::or_none(&selector)));
    w.write(
        0,
        &format!("Type:\t{}\n", spec.type_.as_deref().unwrap_or("")),
    );
    if let Some(policy) = &spec.ip_family_policy {
        w.write(0, &format!("IP Family Policy:\t{policy}\n"));
    }
    let families = spec.ip_families.clone().unwrap_or_default().join(",");
    w.write(0, &format!("IP Families:\t{}\n", super::or_none(&families)));
    w.write(
        0,
        &format!("IP:\t{}\n", spec.cluster_ip.as_deref().unwrap_or("")),
    );
    let ips = spec.cluster_ips.clone().unwrap_or_default().join(",");
    w.write(0, &format!("IPs:\t{}\n", super::or_none(&ips)));
    if let Some(external) = spec.external_ips.as_deref().filter(|e| !e.is_empty()) {
        w.write(0, &format!("External IPs:\t{}\n", external.join(",")));
    }
    if let Some(ip) = spec.load_balancer_ip.as_deref().filter(|i| !i.is_empty()) {
        w.write(0, &format!("Desired LoadBalancer IP:\t{ip}\n"));
    }
    if let Some(name) = spec.external_name.as_deref().filter(|n| !n.is_empty()) {
        w.write(0, &format!("External Name:\t{name}\n"));
    }
    let ingress = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.clone())
        .unwrap_or_default();
    if !ingress.is_empty() {
        let list = ingress
            .iter()
            .map(|i| match i.ip.as_deref().filter(|ip| !ip.is_empty()) {
                Some(ip) => match &i.ip_mode {
                    Some(mode) => format!("{ip} ({mode})"),
                    None => ip.to_string(),
                },
                None => i.hostname.clone().unwrap_or_default(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        w.write(0, &format!("LoadBalancer Ingress:\t{list}\n"));
    }
}

/// Each port: name, port, target port, node port, and its endpoints.
fn ports(w: &mut Writer, service: &Service, spec: &ServiceSpec, related: &Related) {
    let meta = &service.metadata;
    let name = meta.name.as_deref().unwrap_or("");
    let slices: Vec<&EndpointSlice> = slices_of(related, name);
    for port in spec.ports.iter().flatten() {
        let port_name = port
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or("<unset>");
        let protocol = port.protocol.as_deref().unwrap_or("TCP");
        w.write(
            0,
            &format!("Port:\t{port_name}\t{}/{protocol}\n", port.port),
        );
        let target = match &port.target_port {
            Some(IntOrString::Int(i)) => i.to_string(),
            Some(IntOrString::String(s)) => s.clone(),
            None => port.port.to_string(),
        };
        w.write(0, &format!("TargetPort:\t{target}/{protocol}\n"));
        if let Some(app) = &port.app_protocol {
            w.write(0, &format!("AppProtocol:\t{app}\n"));
        }
        if let Some(node_port) = port.node_port.filter(|p| *p != 0) {
            w.write(
                0,
                &format!("NodePort:\t{port_name}\t{node_port}/{protocol}\n"),
            );
        }
        let wanted = BTreeSet::from([port.name.clone().unwrap_or_default()]);
        w.write(
            0,
            &format!("Endpoints:\t{}\n", format_slices(&slices, Some(&wanted))),
        );
    }
}

/// The EndpointSlices of the service `name`.
fn slices_of<'a>(related: &'a Related, name: &str) -> Vec<&'a EndpointSlice> {
    related
        .endpoint_slices
        .iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(SERVICE_NAME_LABEL))
                .is_some_and(|n| n == name)
        })
        .collect()
}

/// kubectl's `formatEndpointSlices`: ready endpoints as `ip:port`, the
/// first three, then `+ N more...`; `ports` limits to named ports.
fn format_slices(slices: &[&EndpointSlice], ports: Option<&BTreeSet<String>>) -> String {
    if slices.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    // One endpoint, with the port of the slice it is listed for (none when
    // the slice has no ports: a headless service's bare addresses).
    let mut add = |endpoint: &k8s_openapi::api::discovery::v1::Endpoint, port: Option<i32>| {
        if list.len() == MAX {
            more = true;
        }
        if !endpoint
            .conditions
            .as_ref()
            .and_then(|c| c.ready)
            .unwrap_or(true)
        {
            return;
        }
        if !more {
            let address = endpoint.addresses.first().cloned().unwrap_or_default();
            list.push(match port {
                None => address,
                Some(number) if address.contains(':') => format!("[{address}]:{number}"),
                Some(number) => format!("{address}:{number}"),
            });
        }
        count += 1;
    };
    for slice in slices {
        let endpoints = slice.endpoints.as_deref().unwrap_or_default();
        let slice_ports = slice.ports.as_deref().unwrap_or_default();
        if slice_ports.is_empty() {
            endpoints.iter().for_each(|e| add(e, None));
            continue;
        }
        for port in slice_ports {
            let name = port.name.clone().unwrap_or_default();
            if ports.is_some_and(|p| !p.contains(&name)) {
                continue;
            }
            endpoints
                .iter()
                .for_each(|e| add(e, Some(port.port.unwrap_or(0))));
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - MAX)
    } else {
        joined
    }
}

pub(super) fn ingress(w: &mut Writer, ingress: &Ingress, related: &Related) {
    let meta = &ingress.metadata;
    let spec = ingress.spec.clone().unwrap_or_default();
    w.write(
        0,
        &format!("Name:\t{}\n", meta.name.as_deref().unwrap_or("")),
    );
    labels(w, "Labels", meta.labels.as_ref());
    w.write(
        0,
        &format!("Namespace:\t{}\n", meta.namespace.as_deref().unwrap_or("")),
    );
    let addresses: BTreeSet<String> = ingress
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| {
            i.ip.filter(|ip| !ip.is_empty())
                .or(i.hostname.filter(|h| !h.is_empty()))
        })
        .collect();
    w.write(
        0,
        &format!(
            "Address:\t{}\n",
            addresses.into_iter().collect::<Vec<_>>().join(",")
        ),
    );
    let class = spec.ingress_class_name.as_deref().unwrap_or("<none>");
    w.write(0, &format!("Ingress Class:\t{class}\n"));
    let default_backend = match &spec.default_backend {
        Some(backend) => describe_backend(backend, related),
        None => "<default>".to_string(),
    };
    w.write(0, &format!("Default backend:\t{default_backend}\n"));
    if let Some(tls) = spec.tls.as_deref().filter(|t| !t.is_empty()) {
        w.write(0, "TLS:\n");
        for t in tls {
            let hosts = t.hosts.clone().unwrap_or_default().join(",");
            match t.secret_name.as_deref().filter(|s| !s.is_empty()) {
                None => w.write(1, &format!("SNI routes {hosts}\n")),
                Some(secret) => w.write(1, &format!("{secret} terminates {hosts}\n")),
            }
        }
    }
    w.write(0, "Rules:\n  Host\tPath\tBackends\n");
    w.write(1, "----\t----\t--------\n");
    let mut count = 0;
    for rule in spec.rules.iter().flatten() {
        let Some(http) = &rule.http else { continue };
        count += 1;
        let host = rule
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("*");
        w.write(1, &format!("{host}\t\n"));
        for path in &http.paths {
            w.write(
                2,
                &format!(
                    "\t{} \t{}\n",
                    path.path.as_deref().unwrap_or(""),
                    describe_backend(&path.backend, related)
                ),
            );
        }
    }
    if count == 0 {
        w.write(1, &format!("*\t*\t{default_backend}\n"));
    }
    annotations(w, "Annotations", meta.annotations.as_ref());
    events(w, related);
}

/// `service:port (endpoints)` for a service backend, as kubectl finds the
/// endpoints of the service port the backend names.
fn describe_backend(backend: &IngressBackend, related: &Related) -> String {
    if let Some(service) = &backend.service {
        let port = service.port.clone().unwrap_or_default();
        let number = port.number.unwrap_or(0);
        let port_text = if number != 0 {
            number.to_string()
        } else {
            port.name.clone().unwrap_or_default()
        };
        let label = format!("{}:{port_text}", service.name);
        let Some(target) = related
            .services
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(service.name.as_str()))
        else {
            return format!("{label} (<error: services \"{}\" not found>)", service.name);
        };
        let mut port_name = String::new();
        for p in target.spec.iter().flat_map(|s| s.ports.iter().flatten()) {
            let p_name = p.name.clone().unwrap_or_default();
            if (number != 0 && number == p.port)
                || (port
                    .name
                    .as_deref()
                    .is_some_and(|n| !n.is_empty() && n == p_name))
            {
                port_name = p_name;
            }
        }
        let slices = slices_of(related, &service.name);
        let wanted = BTreeSet::from([port_name]);
        return format!("{label} ({})", format_slices(&slices, Some(&wanted)));
    }
    if let Some(resource) = &backend.resource {
        let group = resource.api_group.as_deref().unwrap_or("<none>");
        return format!(
            "APIGroup: {group}, Kind: {}, Name: {}",
            resource.kind, resource.name
        );
    }
    String::new()
}
