//! Pods, their containers and volumes, and the pod template a controller
//! describes with the same code (kubectl's `describePod`,
//! `describeContainers`, `describeVolumes`, `DescribePodTemplate`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, EnvVar, Pod, PodSpec, PodStatus, PodTemplateSpec,
    Probe, ResourceRequirements, Toleration, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Related, Writer, annotations, controller, events, labels, or_none, rfc1123z};

pub(super) fn describe(w: &mut Writer, pod: &Pod, related: &Related) {
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    identity(w, pod, &spec, &status);
    phase(w, pod, &spec, &status);
    addresses(w, pod, &spec, &status);
    pod_containers(w, pod, &spec, &status);
    pod_conditions(w, &spec, &status);
    volumes(w, spec.volumes.as_deref().unwrap_or_default(), "");
    w.write(0, &format!("QoS Class:\t{}\n", qos_class(pod)));
    labels(w, "Node-Selectors", spec.node_selector.as_ref());
    tolerations(
        w,
        "Tolerations",
        spec.tolerations.as_deref().unwrap_or_default(),
    );
    topology_spread(w, &spec, "");
    events(w, related);
}

/// Name, namespace, priority, service account, node, start, labels and annotations.
fn identity(w: &mut Writer, pod: &Pod, spec: &PodSpec, status: &PodStatus) {
    let meta = &pod.metadata;
    w.write(
        0,
        &format!("Name:\t{}\n", meta.name.as_deref().unwrap_or("")),
    );
    w.write(
        0,
        &format!("Namespace:\t{}\n", meta.namespace.as_deref().unwrap_or("")),
    );
    if let Some(priority) = spec.priority {
        w.write(0, &format!("Priority:\t{priority}\n"));
    }
    if let Some(class) = spec
        .priority_class_name
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        w.write(0, &format!("Priority Class Name:\t{class}\n"));
    }
    if let Some(class) = spec.runtime_class_name.as_deref().filter(|c| !c.is_empty()) {
        w.write(0, &format!("Runtime Class Name:\t{class}\n"));
    }
    if let Some(account) = spec
        .service_account_name
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        w.write(0, &format!("Service Account:\t{account}\n"));
    }
    match spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        None => w.write(0, "Node:\t<none>\n"),
        Some(node) => w.write(
            0,
            &format!(
                "Node:\t{node}/{}\n",
                status.host_ip.as_deref().unwrap_or("")
            ),
        ),
    }
    if let Some(start) = &status.start_time {
        w.write(0, &format!("Start Time:\t{}\n", rfc1123z(start)));
    }
    labels(w, "Labels", meta.labels.as_ref());
    annotations(w, "Annotations", meta.annotations.as_ref());
}

/// Status (Terminating while deleted), reason, message, seccomp profile.
fn phase(w: &mut Writer, pod: &Pod, spec: &PodSpec, status: &PodStatus) {
    let meta = &pod.metadata;
    let phase = status.phase.as_deref().unwrap_or("");
    match &meta.deletion_timestamp {
        Some(deleted) if phase != "Failed" && phase != "Succeeded" => {
            w.write(
                0,
                &format!("Status:\tTerminating (lasts {})\n", w.since(Some(deleted))),
            );
            w.write(
                0,
                &format!(
                    "Termination Grace Period:\t{}s\n",
                    meta.deletion_grace_period_seconds.unwrap_or(0)
                ),
            );
        }
        _ => w.write(0, &format!("Status:\t{phase}\n")),
    }
    if let Some(reason) = status.reason.as_deref().filter(|r| !r.is_empty()) {
        w.write(0, &format!("Reason:\t{reason}\n"));
    }
    if let Some(message) = status.message.as_deref().filter(|m| !m.is_empty()) {
        w.write(0, &format!("Message:\t{message}\n"));
    }
    if let Some(profile) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
    {
        w.write(0, &format!("SeccompProfile:\t{}\n", profile.type_));
        if profile.type_ == "Localhost" {
            w.write(
                0,
                &format!(
                    "LocalhostProfile:\t{}\n",
                    profile.localhost_profile.as_deref().unwrap_or("")
                ),
            );
        }
    }
}

/// IPs, the controller, the nominated node, pod-level resources.
fn addresses(w: &mut Writer, pod: &Pod, spec: &PodSpec, status: &PodStatus) {
    let meta = &pod.metadata;
    w.write(
        0,
        &format!("IP:\t{}\n", status.pod_ip.as_deref().unwrap_or("")),
    );
    match status.pod_ips.as_deref().filter(|ips| !ips.is_empty()) {
        None => w.write(0, "IPs:\t<none>\n"),
        Some(ips) => {
            w.write(0, "IPs:\n");
            for ip in ips {
                w.write(1, &format!("IP:\t{}\n", ip.ip));
            }
        }
    }
    if let Some(owner) = controller(meta) {
        w.write(0, &format!("Controlled By:\t{owner}\n"));
    }
    if let Some(nominated) = status
        .nominated_node_name
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        w.write(0, &format!("NominatedNodeName:\t{nominated}\n"));
    }
    if let Some(resources) = &spec.resources {
        w.write(0, "Resources:\n");
        describe_resources(w, resources, 1);
    }
}

/// Init, regular and ephemeral containers.
fn pod_containers(w: &mut Writer, pod: &Pod, spec: &PodSpec, status: &PodStatus) {
    let env = EnvResolver { pod: Some(pod) };
    if let Some(init) = spec.init_containers.as_deref().filter(|c| !c.is_empty()) {
        containers(
            w,
            "Init Containers",
            init,
            status.init_container_statuses.as_deref(),
            &env,
            "",
        );
    }
    containers(
        w,
        "Containers",
        &spec.containers,
        status.container_statuses.as_deref(),
        &env,
        "",
    );
    if let Some(ephemeral) = spec
        .ephemeral_containers
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        let as_containers: Vec<Container> = ephemeral
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect();
        containers(
            w,
            "Ephemeral Containers",
            &as_containers,
            status.ephemeral_container_statuses.as_deref(),
            &env,
            "",
        );
    }
}

/// Readiness gates and conditions.
fn pod_conditions(w: &mut Writer, spec: &PodSpec, status: &PodStatus) {
    let conditions = status.conditions.as_deref().unwrap_or_default();
    if let Some(gates) = spec.readiness_gates.as_deref().filter(|g| !g.is_empty()) {
        w.write(0, "Readiness Gates:\n  Type\tStatus\n");
        for gate in gates {
            let status = conditions
                .iter()
                .find(|c| c.type_ == gate.condition_type)
                .map_or("<none>", |c| c.status.as_str());
            w.write(1, &format!("{} \t{status} \n", gate.condition_type));
        }
    }
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n  Type\tStatus\n");
        for c in conditions {
            w.write(1, &format!("{} \t{} \n", c.type_, c.status));
        }
    }
}

/// kubectl's `DescribePodTemplate`, for controllers.
pub(super) fn template(w: &mut Writer, template: &PodTemplateSpec) {
    w.write(0, "Pod Template:\n");
    let meta = template.metadata.clone().unwrap_or_default();
    let spec = template.spec.clone().unwrap_or_default();
    labels(w, "  Labels", meta.labels.as_ref());
    if meta.annotations.as_ref().is_some_and(|a| !a.is_empty()) {
        annotations(w, "  Annotations", meta.annotations.as_ref());
    }
    if let Some(account) = spec
        .service_account_name
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        w.write(1, &format!("Service Account:\t{account}\n"));
    }
    let env = EnvResolver { pod: None };
    if let Some(init) = spec.init_containers.as_deref().filter(|c| !c.is_empty()) {
        containers(w, "Init Containers", init, None, &env, "  ");
    }
    containers(w, "Containers", &spec.containers, None, &env, "  ");
    volumes(w, spec.volumes.as_deref().unwrap_or_default(), "  ");
    topology_spread(w, &spec, "  ");
    if let Some(class) = spec
        .priority_class_name
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        w.write(1, &format!("Priority Class Name:\t{class}\n"));
    }
    labels(w, "  Node-Selectors", spec.node_selector.as_ref());
    tolerations(
        w,
        "  Tolerations",
        spec.tolerations.as_deref().unwrap_or_default(),
    );
}

/// Resolves `fieldRef` environment variables against the pod (a template
/// has no pod, so they resolve to nothing, as in kubectl).
struct EnvResolver<'a> {
    pod: Option<&'a Pod>,
}

impl EnvResolver<'_> {
    /// kubectl resolves a `fieldRef` with `fieldpath.ExtractFieldPathAsString`,
    /// which knows the name, namespace, uid and the whole label and
    /// annotation maps; anything else (a subscripted label, `spec.nodeName`,
    /// `status.podIP`) prints as nothing, and so it does here.
    fn field(&self, path: &str) -> String {
        let Some(pod) = self.pod else {
            return String::new();
        };
        let meta = &pod.metadata;
        let map = |m: Option<&BTreeMap<String, String>>| {
            m.into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        match path {
            "metadata.name" => meta.name.clone().unwrap_or_default(),
            "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
            "metadata.uid" => meta.uid.clone().unwrap_or_default(),
            "metadata.labels" => map(meta.labels.as_ref()),
            "metadata.annotations" => map(meta.annotations.as_ref()),
            _ => String::new(),
        }
    }
}

fn containers(
    w: &mut Writer,
    label: &str,
    containers: &[Container],
    statuses: Option<&[ContainerStatus]>,
    env: &EnvResolver<'_>,
    space: &str,
) {
    let none = if containers.is_empty() { " <none>" } else { "" };
    w.write(0, &format!("{space}{label}:{none}\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for container in containers {
        let status = statuses
            .into_iter()
            .flatten()
            .find(|s| s.name == container.name);
        one_container(w, container, status, env, name_indent);
    }
}

/// One container: image, ports, command, state, resources, probes,
/// environment and mounts.
fn one_container(
    w: &mut Writer,
    container: &Container,
    status: Option<&ContainerStatus>,
    env: &EnvResolver<'_>,
    name_indent: &str,
) {
    w.write(1, &format!("{name_indent}{}:\n", container.name));
    if let Some(status) = status {
        w.write(
            2,
            &format!(
                "Container ID:\t{}\n",
                status.container_id.as_deref().unwrap_or("")
            ),
        );
    }
    w.write(
        2,
        &format!("Image:\t{}\n", container.image.as_deref().unwrap_or("")),
    );
    if let Some(status) = status {
        w.write(2, &format!("Image ID:\t{}\n", status.image_id));
    }
    container_ports(w, container);
    if let Some(profile) = container
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
    {
        w.write(2, &format!("SeccompProfile:\t{}\n", profile.type_));
        if profile.type_ == "Localhost" {
            w.write(
                3,
                &format!(
                    "LocalhostProfile:\t{}\n",
                    profile.localhost_profile.as_deref().unwrap_or("")
                ),
            );
        }
    }
    command(w, "Command", container.command.as_deref());
    command(w, "Args", container.args.as_deref());
    if let Some(status) = status {
        state(w, "State", status.state.as_ref());
        if status
            .last_state
            .as_ref()
            .is_some_and(|s| s.terminated.is_some())
        {
            state(w, "Last State", status.last_state.as_ref());
        }
        w.write(
            2,
            &format!("Ready:\t{}\n", if status.ready { "True" } else { "False" }),
        );
        w.write(2, &format!("Restart Count:\t{}\n", status.restart_count));
    }
    if let Some(resources) = &container.resources {
        describe_resources(w, resources, 2);
    }
    probes(w, container);
    env_from(w, container);
    environment(w, container, env);
    mounts(w, container);
}

/// Container and host ports: "Port" for one, "Ports" for several.
fn container_ports(w: &mut Writer, container: &Container) {
    let ports = container.ports.as_deref().unwrap_or_default();
    let port_list = |host: bool| {
        ports
            .iter()
            .map(|p| {
                let number = if host {
                    p.host_port.unwrap_or(0)
                } else {
                    p.container_port
                };
                let protocol = p.protocol.as_deref().unwrap_or("TCP");
                match p.name.as_deref().filter(|n| !n.is_empty()) {
                    Some(name) => format!("{number}/{protocol} ({name})"),
                    None => format!("{number}/{protocol}"),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let container_ports = port_list(false);
    if container_ports.contains(',') {
        w.write(2, &format!("Ports:\t{container_ports}\n"));
    } else {
        w.write(2, &format!("Port:\t{}\n", or_none(&container_ports)));
    }
    let host_ports = port_list(true);
    if host_ports.contains(',') {
        w.write(2, &format!("Host Ports:\t{host_ports}\n"));
    } else {
        w.write(2, &format!("Host Port:\t{}\n", or_none(&host_ports)));
    }
}

/// Environment variables from ConfigMaps and Secrets.
fn env_from(w: &mut Writer, container: &Container) {
    if let Some(from) = container.env_from.as_deref().filter(|f| !f.is_empty()) {
        w.write(2, "Environment Variables from:\n");
        for source in from {
            let (kind, name, optional) = if let Some(c) = &source.config_map_ref {
                ("ConfigMap", c.name.as_str(), c.optional.unwrap_or(false))
            } else if let Some(s) = &source.secret_ref {
                ("Secret", s.name.as_str(), s.optional.unwrap_or(false))
            } else {
                ("", "", false)
            };
            match source.prefix.as_deref().filter(|p| !p.is_empty()) {
                None => w.write(3, &format!("{name}\t{kind}\tOptional: {optional}\n")),
                Some(prefix) => w.write(
                    3,
                    &format!("{name}\t{kind} with prefix '{prefix}'\tOptional: {optional}\n"),
                ),
            }
        }
    }
}

fn command(w: &mut Writer, title: &str, parts: Option<&[String]>) {
    let Some(parts) = parts.filter(|p| !p.is_empty()) else {
        return;
    };
    w.write(2, &format!("{title}:\n"));
    for part in parts {
        for line in part.split('\n') {
            w.write(3, &format!("{line}\n"));
        }
    }
}

fn state(w: &mut Writer, name: &str, state: Option<&ContainerState>) {
    let state = state.cloned().unwrap_or_default();
    if let Some(running) = &state.running {
        w.write(2, &format!("{name}:\tRunning\n"));
        let started = running
            .started_at
            .as_ref()
            .map(rfc1123z)
            .unwrap_or_else(zero_time);
        w.write(3, &format!("Started:\t{started}\n"));
    } else if let Some(waiting) = &state.waiting {
        w.write(2, &format!("{name}:\tWaiting\n"));
        if let Some(reason) = waiting.reason.as_deref().filter(|r| !r.is_empty()) {
            w.write(3, &format!("Reason:\t{reason}\n"));
        }
    } else if let Some(terminated) = &state.terminated {
        w.write(2, &format!("{name}:\tTerminated\n"));
        if let Some(reason) = terminated.reason.as_deref().filter(|r| !r.is_empty()) {
            w.write(3, &format!("Reason:\t{reason}\n"));
        }
        if let Some(message) = terminated.message.as_deref().filter(|m| !m.is_empty()) {
            w.write(3, &format!("Message:\t{message}\n"));
        }
        w.write(3, &format!("Exit Code:\t{}\n", terminated.exit_code));
        if let Some(signal) = terminated.signal.filter(|s| *s > 0) {
            w.write(3, &format!("Signal:\t{signal}\n"));
        }
        let started = terminated
            .started_at
            .as_ref()
            .map(rfc1123z)
            .unwrap_or_else(zero_time);
        let finished = terminated
            .finished_at
            .as_ref()
            .map(rfc1123z)
            .unwrap_or_else(zero_time);
        w.write(3, &format!("Started:\t{started}\n"));
        w.write(3, &format!("Finished:\t{finished}\n"));
    } else {
        w.write(2, &format!("{name}:\tWaiting\n"));
    }
}

/// Go's zero `time.Time` in RFC1123Z.
fn zero_time() -> String {
    "Mon, 01 Jan 0001 00:00:00 +0000".to_string()
}

fn describe_resources(w: &mut Writer, resources: &ResourceRequirements, level: usize) {
    let mut section = |title: &str, list: Option<&BTreeMap<String, Quantity>>| {
        let Some(list) = list.filter(|l| !l.is_empty()) else {
            return;
        };
        w.write(level, &format!("{title}:\n"));
        for (name, quantity) in list {
            w.write(level + 1, &format!("{name}:\t{}\n", quantity.0));
        }
    };
    section("Limits", resources.limits.as_ref());
    section("Requests", resources.requests.as_ref());
}

fn probes(w: &mut Writer, container: &Container) {
    for (title, probe) in [
        ("Liveness", &container.liveness_probe),
        ("Readiness", &container.readiness_probe),
        ("Startup", &container.startup_probe),
    ] {
        if let Some(probe) = probe {
            w.write(2, &format!("{title}:\t{}\n", describe_probe(probe)));
        }
    }
}

fn int_or_string(value: &IntOrString) -> String {
    match value {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// kubectl's `DescribeProbe`.
fn describe_probe(probe: &Probe) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        probe.initial_delay_seconds.unwrap_or(0),
        probe.timeout_seconds.unwrap_or(0),
        probe.period_seconds.unwrap_or(0),
        probe.success_threshold.unwrap_or(0),
        probe.failure_threshold.unwrap_or(0)
    );
    if let Some(exec) = &probe.exec {
        return format!(
            "exec [{}] {attrs}",
            exec.command.as_deref().unwrap_or_default().join(" ")
        );
    }
    if let Some(get) = &probe.http_get {
        let scheme = get.scheme.as_deref().unwrap_or("").to_lowercase();
        let port = int_or_string(&get.port);
        let host = get.host.as_deref().unwrap_or("");
        let host = if port.is_empty() {
            host.to_string()
        } else if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let path = get.path.as_deref().unwrap_or("");
        // Go's url.URL.String(): `scheme://host/path`; with no scheme,
        // `//host/path`; a path without a leading slash gets one after a host.
        let mut url = String::new();
        if !scheme.is_empty() {
            url.push_str(&scheme);
            url.push(':');
        }
        if !scheme.is_empty() || !host.is_empty() {
            url.push_str("//");
            url.push_str(&host);
        }
        if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
            url.push('/');
        }
        url.push_str(path);
        return format!("http-get {url} {attrs}");
    }
    if let Some(tcp) = &probe.tcp_socket {
        return format!(
            "tcp-socket {}:{} {attrs}",
            tcp.host.as_deref().unwrap_or(""),
            int_or_string(&tcp.port)
        );
    }
    if let Some(grpc) = &probe.grpc {
        return format!(
            "grpc <pod>:{} {} {attrs}",
            grpc.port,
            grpc.service.as_deref().unwrap_or("")
        );
    }
    format!("unknown {attrs}")
}

fn environment(w: &mut Writer, container: &Container, env: &EnvResolver<'_>) {
    let vars: &[EnvVar] = container.env.as_deref().unwrap_or_default();
    if vars.is_empty() {
        w.write(2, "Environment:\t<none>\n");
        return;
    }
    w.write(2, "Environment:\n");
    for var in vars {
        let Some(from) = &var.value_from else {
            for (i, line) in var.value.as_deref().unwrap_or("").split('\n').enumerate() {
                if i == 0 {
                    w.write(3, &format!("{}:\t{line}\n", var.name));
                } else {
                    w.write(3, &format!("\t{line}\n"));
                }
            }
            continue;
        };
        if let Some(field) = &from.field_ref {
            let version = field.api_version.as_deref().unwrap_or("v1");
            w.write(
                3,
                &format!(
                    "{}:\t{} ({version}:{})\n",
                    var.name,
                    env.field(&field.field_path),
                    field.field_path
                ),
            );
        } else if let Some(resource) = &from.resource_field_ref {
            w.write(
                3,
                &format!(
                    "{}:\t{} ({})\n",
                    var.name,
                    resource_value(container, &resource.resource),
                    resource.resource
                ),
            );
        } else if let Some(secret) = &from.secret_key_ref {
            w.write(
                3,
                &format!(
                    "{}:\t<set to the key '{}' in secret '{}'>\tOptional: {}\n",
                    var.name,
                    secret.key,
                    secret.name,
                    secret.optional.unwrap_or(false)
                ),
            );
        } else if let Some(map) = &from.config_map_key_ref {
            w.write(
                3,
                &format!(
                    "{}:\t<set to the key '{}' of config map '{}'>\tOptional: {}\n",
                    var.name,
                    map.key,
                    map.name,
                    map.optional.unwrap_or(false)
                ),
            );
        }
    }
}

/// The value of a `resourceFieldRef` as kubectl shows it; an unset limit
/// means the node's allocatable.
fn resource_value(container: &Container, resource: &str) -> String {
    let (section, name) = resource.split_once('.').unwrap_or(("", resource));
    let resources = container.resources.as_ref();
    let list = match section {
        "limits" => resources.and_then(|r| r.limits.as_ref()),
        "requests" => resources.and_then(|r| r.requests.as_ref()),
        _ => None,
    };
    match list.and_then(|l| l.get(name)) {
        Some(q) => q.0.clone(),
        None if section == "limits" && (name == "cpu" || name == "memory") => {
            "node allocatable".to_string()
        }
        None => "0".to_string(),
    }
}

fn mounts(w: &mut Writer, container: &Container) {
    let mut mounts: Vec<_> = container.volume_mounts.clone().unwrap_or_default();
    if mounts.is_empty() {
        w.write(2, "Mounts:\t<none>\n");
    } else {
        w.write(2, "Mounts:\n");
    }
    mounts.sort_by(|a, b| a.mount_path.cmp(&b.mount_path));
    for mount in &mounts {
        let mut flags = vec![if mount.read_only == Some(true) {
            "ro".to_string()
        } else {
            "rw".to_string()
        }];
        if let Some(sub) = mount.sub_path.as_deref().filter(|s| !s.is_empty()) {
            flags.push(format!("path={sub:?}"));
        }
        w.write(
            3,
            &format!(
                "{} from {} ({})\n",
                mount.mount_path,
                mount.name,
                flags.join(",")
            ),
        );
    }
    let mut devices = container.volume_devices.clone().unwrap_or_default();
    if !devices.is_empty() {
        w.write(2, "Devices:\n");
        devices.sort_by(|a, b| a.device_path.cmp(&b.device_path));
        for device in devices {
            w.write(3, &format!("{} from {}\n", device.device_path, device.name));
        }
    }
}

fn volumes(w: &mut Writer, volumes: &[Volume], space: &str) {
    if volumes.is_empty() {
        w.write(0, &format!("{space}Volumes:\t<none>\n"));
        return;
    }
    w.write(0, &format!("{space}Volumes:\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for volume in volumes {
        w.write(1, &format!("{name_indent}{}:\n", volume.name));
        super::simple::volume_source(w, volume);
    }
}

/// kubectl's `printPodTolerationsMultiline`: sorted by key.
pub(super) fn tolerations(w: &mut Writer, title: &str, tolerations: &[Toleration]) {
    w.write(0, &format!("{title}:\t"));
    if tolerations.is_empty() {
        w.write(0, "<none>\n");
        return;
    }
    let mut sorted: Vec<&Toleration> = tolerations.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    for (i, t) in sorted.into_iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        let key = t.key.as_deref().unwrap_or("");
        let value = t.value.as_deref().unwrap_or("");
        let effect = t.effect.as_deref().unwrap_or("");
        let mut text = key.to_string();
        if !value.is_empty() {
            text.push('=');
            text.push_str(value);
        }
        if !effect.is_empty() {
            text.push(':');
            text.push_str(effect);
        }
        if t.operator.as_deref() == Some("Exists") && value.is_empty() {
            if !key.is_empty() || !effect.is_empty() {
                text.push_str(" op=Exists");
            } else {
                text.push_str("op=Exists");
            }
        }
        if let Some(seconds) = t.toleration_seconds {
            text.push_str(&format!(" for {seconds}s"));
        }
        w.write(0, &format!("{text}\n"));
    }
}

fn topology_spread(w: &mut Writer, spec: &PodSpec, space: &str) {
    let mut constraints = spec.topology_spread_constraints.clone().unwrap_or_default();
    if constraints.is_empty() {
        return;
    }
    constraints.sort_by(|a, b| a.topology_key.cmp(&b.topology_key));
    w.write(0, &format!("{space}Topology Spread Constraints:\t"));
    for (i, c) in constraints.iter().enumerate() {
        if i != 0 {
            w.write(0, space);
            w.write(0, "\t");
        }
        w.write(
            0,
            &format!(
                "{}:{} when max skew {} is exceeded",
                c.topology_key, c.when_unsatisfiable, c.max_skew
            ),
        );
        if let Some(selector) = &c.label_selector {
            w.write(
                0,
                &format!(
                    " for selector {}",
                    super::workloads::format_selector(selector)
                ),
            );
        }
        w.write(0, "\n");
    }
}

/// The pod's QoS class: the server's, else computed as kubelet does from
/// the CPU and memory requests and limits.
fn qos_class(pod: &Pod) -> String {
    if let Some(class) = pod.status.as_ref().and_then(|s| s.qos_class.as_deref())
        && !class.is_empty()
    {
        return class.to_string();
    }
    let spec = pod.spec.clone().unwrap_or_default();
    let all: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in all {
        let r = c.resources.clone().unwrap_or_default();
        let pick = |l: &Option<BTreeMap<String, Quantity>>| -> BTreeMap<String, String> {
            l.iter()
                .flatten()
                .filter(|(k, q)| (k.as_str() == "cpu" || k.as_str() == "memory") && q.0 != "0")
                .map(|(k, q)| (k.clone(), q.0.clone()))
                .collect()
        };
        let requests = pick(&r.requests);
        let limits = pick(&r.limits);
        any |= !requests.is_empty() || !limits.is_empty();
        if limits.len() < 2 || requests.iter().any(|(k, v)| limits.get(k) != Some(v)) {
            guaranteed = false;
        }
    }
    if !any {
        "BestEffort".into()
    } else if guaranteed {
        "Guaranteed".into()
    } else {
        "Burstable".into()
    }
}
