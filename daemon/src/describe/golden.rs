//! Golden tests: every `kubectl describe` recorded from a real API server
//! (`tests/fixtures/kube-apiserver-v1.36/describe/`), from the JSON lists
//! and events of the same moment, at the moment each call started.

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use serde_json::Value;

use super::{Related, describe};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/kube-apiserver-v1.36/describe")
}

fn list(kind: &str) -> Vec<Value> {
    let path = fixtures().join(format!("list/{kind}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let list: Value = serde_json::from_str(&text).expect("a recorded list is JSON");
    list["items"].as_array().cloned().unwrap_or_default()
}

fn typed<T: serde::de::DeserializeOwned>(items: &[Value]) -> Vec<T> {
    items
        .iter()
        .map(|v| serde_json::from_value(v.clone()).expect("a recorded object decodes"))
        .collect()
}

/// The API group of each recorded kind.
fn group(kind: &str) -> &'static str {
    match kind {
        "deployments" | "replicasets" | "daemonsets" | "statefulsets" => "apps",
        "jobs" | "cronjobs" => "batch",
        "horizontalpodautoscalers" => "autoscaling",
        "ingresses" => "networking.k8s.io",
        _ => "",
    }
}

/// The endpoints a service or an ingress backend lists come from
/// EndpointSlices, which were not recorded with these describes; those
/// values are left out of the comparison (`masked`), the rest of each line
/// and every other line are compared.
fn masked(kind: &str, line: &str) -> String {
    match kind {
        "services" if line.starts_with("Endpoints:") => "Endpoints: …".to_string(),
        "ingresses" => match line.rfind(" (") {
            Some(at) if line.ends_with(')') => format!("{} (…)", &line[..at]),
            _ => line.to_string(),
        },
        _ => line.to_string(),
    }
}

/// Objects whose events live outside the recorded namespace: `events.json`
/// holds the `fixtures` namespace's events, while a cluster-scoped
/// volume's events are recorded in `default`. Their Events section is left
/// out of the comparison (the lines before it are compared).
const EVENTS_NOT_RECORDED: [&str; 1] = ["persistentvolumes/pv-scratch"];

struct Case {
    kind: String,
    name: String,
    expected: String,
    now: jiff::Timestamp,
}

fn cases() -> Vec<Case> {
    let manifest = std::fs::read_to_string(fixtures().join("manifest.jsonl")).expect("manifest");
    manifest
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let entry: Value = serde_json::from_str(line).expect("a manifest line is JSON");
            let file = entry["file"].as_str().expect("file");
            let (kind, name) = file
                .strip_prefix("kubectl/")
                .and_then(|f| f.strip_suffix(".txt"))
                .and_then(|f| f.split_once('/'))
                .expect("kubectl/<kind>/<name>.txt");
            Case {
                kind: kind.to_string(),
                name: name.to_string(),
                expected: std::fs::read_to_string(fixtures().join(file)).expect("recorded output"),
                now: entry["started"]
                    .as_str()
                    .expect("started")
                    .parse()
                    .expect("a time"),
            }
        })
        .collect()
}

fn related(
    kind: &str,
    object: &Value,
    events: &[Value],
    pods: &[Pod],
    sets: &[ReplicaSet],
    services: &[Service],
) -> Related {
    let uid = object["metadata"]["uid"].as_str().unwrap_or("");
    let events: Vec<Event> = typed(
        &events
            .iter()
            .filter(|e| e["involvedObject"]["uid"].as_str() == Some(uid))
            .cloned()
            .collect::<Vec<_>>(),
    );
    Related {
        events: (kind != "secrets" && kind != "namespaces").then_some(events),
        pods: pods.to_vec(),
        replica_sets: sets.to_vec(),
        services: services.to_vec(),
        endpoint_slices: Vec::new(),
        // The recorded namespace had neither (kubectl printed "No resource
        // quota." and "No LimitRange resource.").
        resource_quotas: (kind == "namespaces").then(Vec::new),
        limit_ranges: (kind == "namespaces").then(Vec::new),
        secret_keys: object
            .get("data")
            .and_then(Value::as_object)
            .map(|d| d.len().to_string()),
    }
}

/// A secret's Data section is the one permitted difference: the daemon
/// never has the values, nor the key names.
fn comparable(kind: &str, name: &str, text: &str) -> Vec<String> {
    let lines = text.lines().map(|l| masked(kind, l));
    if kind == "secrets" {
        lines.take_while(|l| l != "Data").collect()
    } else if EVENTS_NOT_RECORDED.contains(&format!("{kind}/{name}").as_str()) {
        lines.take_while(|l| !l.starts_with("Events:")).collect()
    } else {
        lines.collect()
    }
}

#[test]
fn every_recorded_describe_is_printed_as_kubectl_prints_it() {
    let events = list("events");
    let pods: Vec<Pod> = typed(&list("pods"));
    let sets: Vec<ReplicaSet> = typed(&list("replicasets"));
    let services: Vec<Service> = typed(&list("services"));
    let mut lists: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases() {
        let items = lists
            .entry(case.kind.clone())
            .or_insert_with(|| list(&case.kind));
        let object = items
            .iter()
            .find(|o| o["metadata"]["name"].as_str() == Some(case.name.as_str()))
            .unwrap_or_else(|| panic!("{}/{} is in the recorded list", case.kind, case.name))
            .clone();
        let related = related(&case.kind, &object, &events, &pods, &sets, &services);
        let got = describe(group(&case.kind), &case.kind, &object, &related, case.now)
            .unwrap_or_else(|e| panic!("{}/{}: {e}", case.kind, case.name));
        let want = comparable(&case.kind, &case.name, &case.expected);
        let got = comparable(&case.kind, &case.name, &got);
        checked += 1;
        if want != got {
            let at = want
                .iter()
                .zip(&got)
                .position(|(a, b)| a != b)
                .unwrap_or(want.len().min(got.len()));
            failures.push(format!(
                "{}/{} line {}:\n  kubectl:   {:?}\n  timoneiro: {:?}",
                case.kind,
                case.name,
                at + 1,
                want.get(at),
                got.get(at)
            ));
        }
    }
    assert!(
        checked > 90,
        "only {checked} recorded describes were checked"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_secret_says_why_its_data_is_not_listed() {
    let secret = list("secrets")
        .into_iter()
        .next()
        .expect("a recorded secret");
    let related = Related {
        secret_keys: Some("3".into()),
        ..Related::default()
    };
    let text =
        describe("", "secrets", &secret, &related, jiff::Timestamp::now()).expect("describes");
    let data = text.split("Data\n====\n").nth(1).expect("a Data section");
    assert!(data.starts_with("3 keys"), "{data}");
    assert!(data.contains("never fetches secret values"), "{data}");
}
