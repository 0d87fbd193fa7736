//! A seeded, realistic cluster. Every object is a clone of an object the
//! real API server returned (the recorded fixtures), renamed, re-owned and
//! shifted in time, so the shapes are real by construction: mixed pod states
//! (Running, CrashLoopBackOff, ImagePullBackOff, Pending, Completed, Init:…),
//! restarts, node names, IPs and labels.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::resources::Resource;
use crate::store::Store;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/list/",
            $name
        ))
    };
}

/// The recorded list bodies the templates come from.
pub const FIXTURE_LISTS: &[(&str, &str)] = &[
    ("pods", fixture!("pods.json")),
    ("deployments", fixture!("deployments.json")),
    ("replicasets", fixture!("replicasets.json")),
    ("statefulsets", fixture!("statefulsets.json")),
    ("daemonsets", fixture!("daemonsets.json")),
    ("jobs", fixture!("jobs.json")),
    ("cronjobs", fixture!("cronjobs.json")),
    ("services", fixture!("services.json")),
    ("configmaps", fixture!("configmaps.json")),
    ("secrets", fixture!("secrets.json")),
    ("namespaces", fixture!("namespaces.json")),
    (
        "persistentvolumeclaims",
        fixture!("persistentvolumeclaims.json"),
    ),
    ("persistentvolumes", fixture!("persistentvolumes.json")),
    ("ingresses", fixture!("ingresses.json")),
    ("nodes", fixture!("nodes.json")),
    ("events", fixture!("events.json")),
    ("serviceaccounts", fixture!("serviceaccounts.json")),
    (
        "horizontalpodautoscalers",
        fixture!("horizontalpodautoscalers.json"),
    ),
    ("widgets", fixture!("widgets.json")),
];

/// Pod templates in the healthy majority (Running, all ready, no restarts).
const HEALTHY_PODS: &[&str] = &[
    "web-57bd7f8bd7-hjnwk",
    "web-57bd7f8bd7-khdkf",
    "api-674ff657b9-m7xk6",
    "worker-74d5f85df8-dc9zq",
    "db-0",
    "debug-shell",
    "multi",
    "legacy-poller-l978m",
];

/// Pod templates for the interesting minority.
const TROUBLED_PODS: &[&str] = &[
    "crashy",
    "cache-1",
    "creating",
    "errimagepull",
    "worker-cf8c847bf-kc9vd",
    "unschedulable",
    "migrate-2t6tf",
    "backfill-f9dsk",
    "init-waiting",
    "init-error",
    "oomkilled",
    "api-674ff657b9-85s2f",
    "web-57bd7f8bd7-p9gk9",
    "with-sidecar",
    "notready",
    "pod-initializing",
    "evicted",
    "gated",
];

/// Namespace names, after the recorded cluster's bulk namespaces.
const NAMESPACE_NAMES: &[&str] = &[
    "analytics",
    "auth",
    "backend",
    "billing",
    "catalog",
    "checkout",
    "data",
    "frontend",
    "inventory",
    "logging",
    "messaging",
    "ml",
    "monitoring",
    "notifications",
    "orders",
    "payments",
    "platform",
    "reporting",
    "search",
    "shipping",
];

const APP_NAMES: &[&str] = &[
    "web",
    "api",
    "worker",
    "cache",
    "gateway",
    "auth",
    "billing",
    "search",
    "ingest",
    "scheduler",
    "notifier",
    "reporter",
    "indexer",
    "payments",
    "catalog",
    "cart",
    "checkout",
    "mailer",
    "frontend",
    "backend",
    "router",
    "metrics",
    "exporter",
    "uploader",
    "resizer",
    "ledger",
    "events",
    "queue",
];

const HASH_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SeedConfig {
    /// Total pods.
    pub pods: usize,
    /// Application namespaces (system namespaces come on top).
    pub namespaces: usize,
}

/// The owner of generated pods.
#[derive(Debug, Clone)]
pub struct Owner {
    /// Owner kind ("ReplicaSet").
    pub kind: &'static str,
    /// Owner name.
    pub name: String,
    /// Owner uid.
    pub uid: String,
    /// Labels its pods carry.
    pub labels: BTreeMap<String, String>,
}

/// Generates objects from the fixture templates.
#[derive(Debug)]
pub struct Generator {
    rng: StdRng,
    templates: BTreeMap<&'static str, Vec<Value>>,
    now: jiff::Timestamp,
    ip_counter: u32,
    nodes: usize,
    /// While seeding: the recorded events of troubled pods, re-aimed at the
    /// pods made from their templates, waiting to be stored.
    events: Option<Vec<Value>>,
}

impl Generator {
    /// A generator with a random seed and `nodes` nodes for pods.
    pub fn new(seed: u64, nodes: usize) -> Generator {
        let mut templates = BTreeMap::new();
        for (plural, text) in FIXTURE_LISTS {
            let list: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            let items = list["items"].as_array().cloned().unwrap_or_default();
            templates.insert(*plural, items);
        }
        Generator {
            rng: StdRng::seed_from_u64(seed),
            templates,
            now: jiff::Timestamp::now(),
            ip_counter: 0,
            nodes: nodes.max(1),
            events: None,
        }
    }

    fn template(&self, plural: &str, name: &str) -> Value {
        self.templates
            .get(plural)
            .and_then(|items| {
                items
                    .iter()
                    .find(|i| i["metadata"]["name"] == name)
                    .or_else(|| items.first())
            })
            .cloned()
            .unwrap_or_else(|| json!({"metadata": {}}))
    }

    fn any_template(&mut self, plural: &str) -> Value {
        let items = self.templates.get(plural).map(Vec::len).unwrap_or(0);
        let index = if items == 0 {
            0
        } else {
            self.rng.random_range(0..items)
        };
        self.templates
            .get(plural)
            .and_then(|items| items.get(index))
            .cloned()
            .unwrap_or_else(|| json!({"metadata": {}}))
    }

    /// A uuid-shaped random uid.
    pub fn uid(&mut self) -> String {
        let r = &mut self.rng;
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            r.random::<u32>(),
            r.random::<u16>(),
            r.random::<u16>() & 0xfff,
            (r.random::<u16>() & 0x3fff) | 0x8000,
            r.random::<u64>() & 0xffff_ffff_ffff
        )
    }

    fn hash(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| HASH_ALPHABET[self.rng.random_range(0..HASH_ALPHABET.len())] as char)
            .collect()
    }

    fn node(&mut self) -> (String, String) {
        let n = self.rng.random_range(0..self.nodes);
        node_at(n)
    }

    fn pod_ip(&mut self) -> String {
        self.ip_counter += 1;
        let n = self.ip_counter;
        format!("10.{}.{}.{}", 64 + (n >> 16) % 64, (n >> 8) & 255, n & 255)
    }

    /// A random age: mostly days, some minutes, a few months.
    fn age_seconds(&mut self) -> i64 {
        match self.rng.random_range(0..10) {
            0..=1 => self.rng.random_range(30..3600),
            2..=7 => self.rng.random_range(3600..14 * 86400),
            _ => self.rng.random_range(14 * 86400..400 * 86400),
        }
    }

    /// Set identity and shift every timestamp so the object was created `age` ago.
    fn identify(&mut self, value: &mut Value, namespace: &str, name: &str, age_seconds: i64) {
        let created = value["metadata"]["creationTimestamp"]
            .as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok());
        if let Some(created) = created {
            let target = self.now - jiff::SignedDuration::from_secs(age_seconds);
            // Keep the template's spacing (a restart 46 s before capture stays
            // 46 s before the newest event), so the object may end up older than
            // asked, never with a time in the future.
            let latest = latest_time(value).map_or(created.as_second(), |t| t.as_second());
            let delta =
                (target.as_second() - created.as_second()).min(self.now.as_second() - latest);
            shift_times(value, delta, self.now);
        } else {
            value["metadata"]["creationTimestamp"] = Value::String(format_ts(self.now));
        }
        let meta = &mut value["metadata"];
        if let Some(map) = meta.as_object_mut() {
            map.remove("resourceVersion");
            map.remove("deletionTimestamp");
            map.remove("deletionGracePeriodSeconds");
            map.remove("finalizers");
            map.remove("generateName");
        }
        meta["name"] = Value::String(name.to_string());
        if namespace.is_empty() {
            if let Some(map) = meta.as_object_mut() {
                map.remove("namespace");
            }
        } else {
            meta["namespace"] = Value::String(namespace.to_string());
        }
        meta["uid"] = Value::String(self.uid());
    }

    /// A pod in `namespace`, owned by `owner` (or standalone), of a random age.
    pub fn pod(&mut self, namespace: &str, owner: Option<&Owner>) -> Value {
        let age = self.age_seconds();
        self.pod_aged(namespace, owner, age)
    }

    /// A standalone pod created just now, for churn.
    pub fn fresh_pod(&mut self, namespace: &str) -> Value {
        self.now = jiff::Timestamp::now();
        self.pod_aged(namespace, None, 0)
    }

    /// The generator's idea of now, refreshed.
    pub fn now(&mut self) -> jiff::Timestamp {
        self.now = jiff::Timestamp::now();
        self.now
    }

    /// A random index below `n`.
    pub fn pick(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.rng.random_range(0..n)
        }
    }

    /// A healthy pod just started by a controller for `owner`: what a
    /// ReplicaSet, StatefulSet or Job the sim reconciles creates.
    pub fn started_pod(&mut self, namespace: &str, owner: &Owner) -> Value {
        self.now = jiff::Timestamp::now();
        let template_name = HEALTHY_PODS[self.rng.random_range(0..HEALTHY_PODS.len())];
        self.pod_from(template_name, namespace, Some(owner), 0)
    }

    /// A random hash of `len` characters, as controllers name their objects.
    pub fn name_hash(&mut self, len: usize) -> String {
        self.hash(len)
    }

    fn pod_aged(&mut self, namespace: &str, owner: Option<&Owner>, age: i64) -> Value {
        let template_name = if self.rng.random_bool(0.85) {
            HEALTHY_PODS[self.rng.random_range(0..HEALTHY_PODS.len())]
        } else {
            TROUBLED_PODS[self.rng.random_range(0..TROUBLED_PODS.len())]
        };
        self.pod_from(template_name, namespace, owner, age)
    }

    fn pod_from(
        &mut self,
        template_name: &str,
        namespace: &str,
        owner: Option<&Owner>,
        age: i64,
    ) -> Value {
        let mut pod = self.template("pods", template_name);
        let name = match owner {
            Some(owner) if owner.kind == "StatefulSet" => {
                format!("{}-{}", owner.name, self.rng.random_range(0..50))
            }
            Some(owner) => format!("{}-{}", owner.name, self.hash(5)),
            None => format!(
                "{}-{}",
                APP_NAMES[self.rng.random_range(0..APP_NAMES.len())],
                self.hash(5)
            ),
        };
        let template_created = pod["metadata"]["creationTimestamp"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        self.identify(&mut pod, namespace, &name, age);
        let meta = &mut pod["metadata"];
        match owner {
            Some(owner) => {
                meta["labels"] = json!(owner.labels);
                meta["ownerReferences"] = json!([{
                    "apiVersion": if owner.kind == "Job" { "batch/v1" } else { "apps/v1" },
                    "kind": owner.kind, "name": owner.name, "uid": owner.uid,
                    "controller": true, "blockOwnerDeletion": true
                }]);
            }
            None => {
                if let Some(map) = meta.as_object_mut() {
                    map.remove("ownerReferences");
                }
                meta["labels"] =
                    json!({"app": name.rsplit_once('-').map_or(name.as_str(), |(app, _)| app)});
            }
        }
        let has_node = pod["spec"]["nodeName"].is_string();
        if has_node {
            let (node, host_ip) = self.node();
            pod["spec"]["nodeName"] = Value::String(node);
            let status = &mut pod["status"];
            if status["hostIP"].is_string() {
                status["hostIP"] = Value::String(host_ip.clone());
                status["hostIPs"] = json!([{"ip": host_ip}]);
            }
            if status["podIP"].is_string() {
                let ip = if pod["spec"]["hostNetwork"] == true {
                    host_ip
                } else {
                    self.pod_ip()
                };
                pod["status"]["podIP"] = Value::String(ip.clone());
                pod["status"]["podIPs"] = json!([{"ip": ip}]);
            }
        }
        if TROUBLED_PODS.contains(&template_name) {
            self.events_of(template_name, template_created, &pod);
        }
        pod
    }

    /// While seeding, copy the recorded events of the pod `template` for
    /// `pod` (made from it), shifted by as much as the pod's times were.
    fn events_of(
        &mut self,
        template: &str,
        template_created: Option<jiff::Timestamp>,
        pod: &Value,
    ) {
        if self.events.is_none() {
            return;
        }
        let created = pod["metadata"]["creationTimestamp"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok());
        let delta = match (template_created, created) {
            (Some(from), Some(to)) => to.as_second() - from.as_second(),
            _ => 0,
        };
        let recorded: Vec<Value> = self
            .templates
            .get("events")
            .into_iter()
            .flatten()
            .filter(|e| {
                e["involvedObject"]["kind"] == "Pod" && e["involvedObject"]["name"] == template
            })
            .cloned()
            .collect();
        let pod_name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
        let namespace = pod["metadata"]["namespace"].clone();
        let template_node = self.template("pods", template)["spec"]["nodeName"]
            .as_str()
            .map(str::to_string);
        for mut event in recorded {
            let old_uid = event["involvedObject"]["uid"].as_str().map(str::to_string);
            shift_times(&mut event, delta, self.now);
            let name = format!("{pod_name}.{:016x}", self.rng.random::<u64>());
            let uid = self.uid();
            let meta = &mut event["metadata"];
            if let Some(map) = meta.as_object_mut() {
                map.remove("resourceVersion");
            }
            meta["name"] = json!(name);
            meta["namespace"] = namespace.clone();
            meta["uid"] = json!(uid);
            let involved = &mut event["involvedObject"];
            involved["name"] = json!(pod_name);
            involved["namespace"] = namespace.clone();
            involved["uid"] = pod["metadata"]["uid"].clone();
            if let Some(map) = involved.as_object_mut() {
                map.remove("resourceVersion");
            }
            if let Some(message) = event["message"].as_str() {
                // Only the places that name the pod, its uid and its node.
                let ns = namespace.as_str().unwrap_or("");
                let mut message = message
                    .replace(
                        &format!("fixtures/{template} "),
                        &format!("{ns}/{pod_name} "),
                    )
                    .replace(
                        &format!("{template}_fixtures("),
                        &format!("{pod_name}_{ns}("),
                    );
                if let Some(old_uid) = old_uid.as_deref() {
                    message =
                        message.replace(old_uid, pod["metadata"]["uid"].as_str().unwrap_or(""));
                }
                if let (Some(from), Some(to)) =
                    (template_node.as_deref(), pod["spec"]["nodeName"].as_str())
                {
                    message = message.replace(&format!(" to {from}"), &format!(" to {to}"));
                }
                event["message"] = json!(message);
            }
            if let Some(events) = &mut self.events {
                events.push(event);
            }
        }
    }

    fn workload(
        &mut self,
        plural: &str,
        template: &str,
        namespace: &str,
        name: &str,
        replicas: i64,
    ) -> (Value, Owner) {
        let mut value = self.template(plural, template);
        let age = self.age_seconds();
        self.identify(&mut value, namespace, name, age);
        let labels: BTreeMap<String, String> = [("app".to_string(), name.to_string())].into();
        value["metadata"]["labels"] = json!(labels);
        if value["spec"]["selector"]["matchLabels"].is_object() {
            value["spec"]["selector"] = json!({"matchLabels": labels});
        }
        if value["spec"]["template"]["metadata"].is_object() {
            value["spec"]["template"]["metadata"]["labels"] = json!(labels);
        }
        if value["spec"]["replicas"].is_number() {
            value["spec"]["replicas"] = json!(replicas);
        }
        let uid = value["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let kind = match plural {
            "deployments" => "Deployment",
            "replicasets" => "ReplicaSet",
            "statefulsets" => "StatefulSet",
            "daemonsets" => "DaemonSet",
            _ => "Job",
        };
        (
            value,
            Owner {
                kind,
                name: name.to_string(),
                uid,
                labels,
            },
        )
    }

    /// Fill `store` with a cluster of `config.pods` pods over `config.namespaces` namespaces.
    pub fn seed(&mut self, store: &Store, config: SeedConfig) -> anyhow::Result<Vec<String>> {
        let resource = served;
        let app_namespaces: Vec<String> = (0..config.namespaces.max(1))
            .map(|i| match NAMESPACE_NAMES.get(i) {
                Some(name) => name.to_string(),
                None => format!("team-{i:03}"),
            })
            .collect();
        let system = ["default", "kube-system", "kube-public", "kube-node-lease"];
        for name in system
            .iter()
            .map(|s| s.to_string())
            .chain(app_namespaces.iter().cloned())
        {
            let mut ns = self.template("namespaces", "analytics");
            let age = if system.contains(&name.as_str()) {
                400 * 86400
            } else {
                self.age_seconds() + 86400
            };
            self.identify(&mut ns, "", &name, age);
            ns["metadata"]["labels"] = json!({"kubernetes.io/metadata.name": name});
            store.create(resource("namespaces")?, ns)?;
        }
        self.seed_cluster_scoped(store)?;
        let per_namespace = config.pods / app_namespaces.len();
        let extra = config.pods % app_namespaces.len();
        self.events = Some(Vec::new());
        for (index, namespace) in app_namespaces.iter().enumerate() {
            let budget = per_namespace + usize::from(index < extra);
            self.seed_namespace(store, namespace, budget)?;
            for event in self.events.replace(Vec::new()).unwrap_or_default() {
                store.create(resource("events")?, event)?;
            }
        }
        self.events = None;
        Ok(app_namespaces)
    }

    fn seed_namespace(
        &mut self,
        store: &Store,
        namespace: &str,
        mut budget: usize,
    ) -> anyhow::Result<()> {
        let resource = served;
        let mut used_names = std::collections::HashSet::new();
        let mut app_name = |generator: &mut Generator| loop {
            let base = APP_NAMES[generator.rng.random_range(0..APP_NAMES.len())];
            let name = if used_names.contains(base) {
                format!("{base}-{}", generator.hash(3))
            } else {
                base.to_string()
            };
            if used_names.insert(name.clone()) {
                return name;
            }
        };
        // StatefulSets: one per 50 pods, 2–3 replicas.
        for _ in 0..budget / 50 {
            let name = app_name(self);
            let replicas = self.rng.random_range(2..4);
            let (sts, owner) = self.workload("statefulsets", "db", namespace, &name, replicas);
            store.create(resource("statefulsets")?, sts)?;
            for ordinal in 0..replicas.min(budget as i64) {
                let mut pod = self.pod(namespace, Some(&owner));
                pod["metadata"]["name"] = Value::String(format!("{name}-{ordinal}"));
                store.create(resource("pods")?, pod)?;
                budget -= 1;
            }
        }
        // Jobs and CronJobs: a few, each with one completed pod.
        for _ in 0..budget / 40 {
            let name = format!(
                "{}-{}",
                app_name(self),
                self.rng.random_range(29_000_000..29_999_999)
            );
            let (job, owner) = self.workload("jobs", "migrate", namespace, &name, 1);
            store.create(resource("jobs")?, job)?;
            if budget > 0 {
                store.create(resource("pods")?, self.pod(namespace, Some(&owner)))?;
                budget -= 1;
            }
        }
        for _ in 0..budget / 80 {
            let name = app_name(self);
            let mut cronjob = self.any_template("cronjobs");
            let age = self.age_seconds();
            self.identify(&mut cronjob, namespace, &name, age);
            store.create(resource("cronjobs")?, cronjob)?;
        }
        // Deployments with ReplicaSets take the rest of the pods, a few stay standalone.
        let standalone = budget / 20;
        let mut deployment_pods = budget - standalone;
        let mut deployments = Vec::new();
        while deployment_pods > 0 {
            let name = app_name(self);
            deployments.push(name.clone());
            let replicas = self.rng.random_range(1..6).min(deployment_pods as i64);
            self.seed_deployment(store, namespace, &name, replicas)?;
            deployment_pods -= replicas as usize;
        }
        for _ in 0..standalone {
            store.create(resource("pods")?, self.pod(namespace, None))?;
        }
        // Every namespace has its CA bundle ConfigMap, like the real cluster.
        let mut ca = self.template("configmaps", "kube-root-ca.crt");
        let age = self.age_seconds();
        self.identify(&mut ca, namespace, "kube-root-ca.crt", age);
        store.create(resource("configmaps")?, ca)?;
        // One DaemonSet in every fourth namespace, pods not simulated.
        if self.rng.random_bool(0.25) {
            let name = app_name(self);
            let (ds, _) = self.workload(
                "daemonsets",
                "log-agent",
                namespace,
                &format!("{name}-agent"),
                0,
            );
            store.create(resource("daemonsets")?, ds)?;
        }
        self.seed_namespace_extras(store, namespace, &deployments)?;
        Ok(())
    }

    /// A deployment of `replicas` pods with its ReplicaSet, a Service and a
    /// ConfigMap, and a Secret for every other one.
    fn seed_deployment(
        &mut self,
        store: &Store,
        namespace: &str,
        name: &str,
        replicas: i64,
    ) -> anyhow::Result<()> {
        let resource = served;
        let name = name.to_string();
        let (mut deploy, deploy_owner) =
            self.workload("deployments", "web", namespace, &name, replicas);
        deploy["status"]["replicas"] = json!(replicas);
        deploy["status"]["readyReplicas"] = json!(replicas);
        deploy["status"]["updatedReplicas"] = json!(replicas);
        deploy["status"]["availableReplicas"] = json!(replicas);
        store.create(resource("deployments")?, deploy)?;
        let hash = self.hash(10);
        let rs_name = format!("{name}-{hash}");
        let (mut rs, mut rs_owner) = self.workload(
            "replicasets",
            "web-57bd7f8bd7",
            namespace,
            &rs_name,
            replicas,
        );
        rs_owner.labels = [
            ("app".to_string(), name.clone()),
            ("pod-template-hash".to_string(), hash.clone()),
        ]
        .into();
        rs["metadata"]["labels"] = json!(rs_owner.labels);
        rs["spec"]["selector"] = json!({"matchLabels": rs_owner.labels});
        rs["spec"]["template"]["metadata"]["labels"] = json!(rs_owner.labels);
        rs["status"] = json!({"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas,
            "availableReplicas": replicas, "observedGeneration": 1});
        rs["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment",
            "name": name, "uid": deploy_owner.uid, "controller": true, "blockOwnerDeletion": true}]);
        store.create(resource("replicasets")?, rs)?;
        for _ in 0..replicas {
            store.create(resource("pods")?, self.pod(namespace, Some(&rs_owner)))?;
        }
        // A Service and a ConfigMap per deployment, a Secret for every other one.
        let mut svc = self.any_template("services");
        let age = self.age_seconds();
        self.identify(&mut svc, namespace, &name, age);
        if svc["spec"]["selector"].is_object() {
            svc["spec"]["selector"] = json!({"app": name});
        }
        store.create(resource("services")?, svc)?;
        let mut cm = self.any_template("configmaps");
        self.identify(&mut cm, namespace, &format!("{name}-config"), age);
        store.create(resource("configmaps")?, cm)?;
        if self.rng.random_bool(0.5) {
            let mut secret = self.any_template("secrets");
            self.identify(&mut secret, namespace, &format!("{name}-credentials"), age);
            store.create(resource("secrets")?, secret)?;
        }
        Ok(())
    }

    /// Nodes (the ones pods run on) and a few persistent volumes.
    fn seed_cluster_scoped(&mut self, store: &Store) -> anyhow::Result<()> {
        let resource = served;
        for n in 0..self.nodes {
            let (name, ip) = node_at(n);
            let template = if n == 0 { "lab-node-00" } else { "lab-node-01" };
            let mut node = self.template("nodes", template);
            self.identify(&mut node, "", &name, 30 * 86400);
            node["metadata"]["labels"]["kubernetes.io/hostname"] = json!(name);
            node["status"]["addresses"] = json!([
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name}
            ]);
            store.create(resource("nodes")?, node)?;
        }
        // The recorded priority classes (other-kinds/list), as they are.
        let recorded: Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/kube-apiserver-v1.36/other-kinds/list/priorityclasses.json"
        )))?;
        for item in recorded["items"].as_array().into_iter().flatten() {
            let mut item = item.clone();
            let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
            let age = 30 * 86400;
            self.identify(&mut item, "", &name, age);
            store.create(resource("priorityclasses")?, item)?;
        }
        for template in ["pv-spare", "pv-old-logs", "pv-scratch"] {
            let mut pv = self.template("persistentvolumes", template);
            let age = self.age_seconds();
            self.identify(&mut pv, "", &format!("sim-{template}"), age);
            store.create(resource("persistentvolumes")?, pv)?;
        }
        Ok(())
    }

    /// The tier 4 kinds of a namespace: its default ServiceAccount, a
    /// claim, an ingress and an HPA per few deployments, and some events.
    fn seed_namespace_extras(
        &mut self,
        store: &Store,
        namespace: &str,
        deployments: &[String],
    ) -> anyhow::Result<()> {
        let resource = served;
        let mut sa = self.template("serviceaccounts", "default");
        let age = self.age_seconds();
        self.identify(&mut sa, namespace, "default", age);
        store.create(resource("serviceaccounts")?, sa)?;
        let mut pvc = self.template("persistentvolumeclaims", "uploads");
        self.identify(&mut pvc, namespace, "uploads", age);
        store.create(resource("persistentvolumeclaims")?, pvc)?;
        for (i, name) in deployments.iter().enumerate() {
            let age = self.age_seconds();
            if i % 4 == 0 {
                let mut ingress = self.any_template("ingresses");
                self.identify(&mut ingress, namespace, name, age);
                store.create(resource("ingresses")?, ingress)?;
            }
            if i % 3 == 0 {
                let mut hpa = self.any_template("horizontalpodautoscalers");
                self.identify(&mut hpa, namespace, name, age);
                hpa["spec"]["scaleTargetRef"]["name"] = json!(name);
                store.create(resource("horizontalpodautoscalers")?, hpa)?;
            }
            if i % 2 == 0 {
                let mut event = self.any_template("events");
                let hash = format!("{:016x}", self.rng.random::<u64>());
                self.identify(
                    &mut event,
                    namespace,
                    &format!("{name}.{hash}"),
                    age.min(3000),
                );
                event["involvedObject"]["namespace"] = json!(namespace);
                event["involvedObject"]["kind"] = json!("Deployment");
                event["involvedObject"]["name"] = json!(name);
                store.create(resource("events")?, event)?;
            }
        }
        Ok(())
    }

    /// The recorded objects of a custom resource, cloned into `namespace`.
    pub fn custom_objects(&mut self, plural: &str, namespace: &str) -> Vec<Value> {
        let templates = self.templates.get(plural).cloned().unwrap_or_default();
        templates
            .into_iter()
            .map(|mut object| {
                let name = object["metadata"]["name"]
                    .as_str()
                    .unwrap_or("x")
                    .to_string();
                let age = self.age_seconds();
                self.identify(&mut object, namespace, &name, age);
                object
            })
            .collect()
    }
}

/// Name and internal IP of the n-th simulated node.
fn node_at(n: usize) -> (String, String) {
    (
        format!("sim-node-{n:03}"),
        format!("192.168.{}.{}", 100 + n / 250, 1 + n % 250),
    )
}

/// Kubernetes' timestamp format, second resolution.
pub fn format_ts(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The latest RFC 3339 timestamp anywhere in `value`.
pub fn latest_time(value: &Value) -> Option<jiff::Timestamp> {
    match value {
        Value::String(s)
            if s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T') && s.ends_with('Z') =>
        {
            s.parse().ok()
        }
        Value::Array(items) => items.iter().filter_map(latest_time).max(),
        Value::Object(map) => map.values().filter_map(latest_time).max(),
        _ => None,
    }
}

/// Shift every RFC 3339 timestamp string in `value` by `seconds`, never past
/// `now` (a young copy of an old template must not restart in the future).
pub fn shift_times(value: &mut Value, seconds: i64, now: jiff::Timestamp) {
    match value {
        Value::String(s) => {
            let looks_like_time =
                s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T') && s.ends_with('Z');
            if looks_like_time && let Ok(ts) = s.parse::<jiff::Timestamp>() {
                let shifted = (ts + jiff::SignedDuration::from_secs(seconds)).min(now);
                *s = if s.len() == 20 {
                    format_ts(shifted)
                } else {
                    shifted.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| shift_times(v, seconds, now)),
        Value::Object(map) => map.values_mut().for_each(|v| shift_times(v, seconds, now)),
        _ => {}
    }
}

/// A resource the sim serves, by plural name.
fn served(plural: &str) -> anyhow::Result<&'static Resource> {
    Resource::by_plural(plural).ok_or_else(|| anyhow::anyhow!("no resource {plural}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_keeps_the_format() {
        let mut value = json!({"a": "2026-11-26T15:37:39Z", "b": ["2026-11-26T15:37:39.123456Z"], "c": "not a time"});
        let now: jiff::Timestamp = "2026-11-26T17:00:00Z".parse().expect("time");
        shift_times(&mut value, 3600, now);
        assert_eq!(
            value,
            json!({"a": "2026-11-26T16:37:39Z", "b": ["2026-11-26T16:37:39.123456Z"], "c": "not a time"})
        );
        shift_times(&mut value, 3600, now);
        assert_eq!(value["a"], "2026-11-26T17:00:00Z", "never past now");
    }

    #[test]
    fn seeds_the_requested_number_of_pods_with_mixed_states() {
        let store = Store::new(1000);
        let mut generator = Generator::new(7, 10);
        let namespaces = generator
            .seed(
                &store,
                SeedConfig {
                    pods: 1000,
                    namespaces: 7,
                },
            )
            .expect("seed");
        assert_eq!(namespaces.len(), 7);
        let pods = Resource::by_plural("pods").expect("pods");
        assert_eq!(store.count(pods), 1000);
        for plural in [
            "deployments",
            "replicasets",
            "services",
            "configmaps",
            "secrets",
            "namespaces",
            "statefulsets",
            "jobs",
            "cronjobs",
        ] {
            let resource = Resource::by_plural(plural).expect(plural);
            assert!(store.count(resource) > 0, "{plural}");
        }
        let (_, items) = store.list(pods, None);
        let phases: std::collections::BTreeSet<String> = items
            .iter()
            .map(|p| {
                p.value()["status"]["phase"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert!(
            phases.contains("Running") && phases.contains("Pending") && phases.len() >= 3,
            "{phases:?}"
        );
        let uids: std::collections::HashSet<&str> = items.iter().map(|p| p.uid.as_str()).collect();
        assert_eq!(uids.len(), 1000, "uids are unique");
    }

    /// A packed cluster (`--pack`) serves the very bytes a whole one does:
    /// the same pods created in both, every pod's JSON, metadata and both
    /// protobuf forms, past the point where packing starts.
    #[test]
    fn a_packed_cluster_serves_the_same_bytes() {
        let pods = Resource::by_plural("pods").expect("pods");
        let (whole, packed) = (Store::packing(100, false), Store::packing(100, true));
        let mut generator = Generator::new(3, 10);
        for i in 0..1300 {
            let pod = generator.pod(["shop", "web", "kube-system"][i % 3], None);
            whole.create(pods, pod.clone()).expect("created");
            packed.create(pods, pod).expect("created");
        }
        let ((_, whole), (_, packed)) = (whole.list(pods, None), packed.list(pods, None));
        assert_eq!(whole.len(), packed.len());
        for (a, b) in whole.iter().zip(&packed) {
            assert_eq!(a.item(), b.item());
            assert_eq!(a.meta(), b.meta());
            for metadata in [false, true] {
                let (a, b) = (a.protobuf(pods, metadata), b.protobuf(pods, metadata));
                assert_eq!(a.expect("protobuf"), b.expect("protobuf"));
            }
        }
        // Made once, kept packed, read back the same.
        let again = packed.last().expect("a pod").protobuf(pods, false);
        let first = whole.last().expect("a pod").protobuf(pods, false);
        assert_eq!(again.expect("protobuf"), first.expect("protobuf"));
    }
}
