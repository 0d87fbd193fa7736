//! The wire between the daemon and the API server: built-in kinds
//! travel as protobuf, custom resources as JSON, a kind the server refuses
//! in protobuf falls back to JSON by itself (and says so), and
//! `timoneirod --wire json` forces JSON. Whatever the wire, the daemon's rows
//! end equal to the sim's objects under churn.

use std::time::Duration;

use serde_json::Value;
use timoneiro_tests::harness::{Daemon, Sim, stdout, synced_cluster};
use timoneirod::catalog::Builtin;

use crate::faults::assert_converged;

/// The Accept headers the sim saw for a resource's lists and watches.
async fn accepts(sim: &Sim, plural: &str) -> Vec<String> {
    let log = sim.json("GET", "/sim/requests").await;
    log["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter(|r| {
            r["uri"]
                .as_str()
                .unwrap_or("")
                .split('?')
                .next()
                .unwrap_or("")
                .ends_with(&format!("/{plural}"))
        })
        .map(|r| r["accept"].as_str().unwrap_or("").to_string())
        .collect()
}

fn kind<'a>(kinds: &'a [Value], plural: &str) -> &'a Value {
    kinds
        .iter()
        .find(|k| k["kind"] == plural)
        .unwrap_or_else(|| panic!("{plural} in status: {kinds:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_kinds_travel_as_protobuf_and_fall_back_to_json_when_refused() {
    let (sim, daemon) = synced_cluster(&[
        "--pods",
        "300",
        "--namespaces",
        "3",
        "--churn-rate",
        "30",
        "--crd",
        "widgets",
        "--no-protobuf",
        "deployments",
    ]);
    let status = daemon.cli_json(&["status", "-o", "json"]);
    let kinds = status["kinds"].as_array().expect("kinds");
    assert_eq!(kind(kinds, "pods")["wire"], "protobuf", "{status}");
    let deployments = kind(kinds, "deployments");
    assert_eq!(deployments["state"], "SYNCED");
    assert!(
        deployments["wire"]
            .as_str()
            .unwrap_or("")
            .starts_with("json (the API server refused protobuf: 406"),
        "{deployments}"
    );
    let table = stdout(&daemon.cli(&["status"]));
    assert!(
        table.lines().any(|l| l.starts_with("deployments")
            && l.contains(" json ")
            && l.contains("refused protobuf")),
        "{table}"
    );

    // Pods: only ever protobuf, lists and watches.
    let pods = accepts(&sim, "pods").await;
    assert!(pods.len() >= 2, "{pods:?}");
    assert!(
        pods.iter()
            .all(|a| a == "application/vnd.kubernetes.protobuf"),
        "{pods:?}"
    );
    // Deployments: one protobuf attempt, then JSON (kube sends no Accept).
    let deployments = accepts(&sim, "deployments").await;
    assert_eq!(
        deployments[0], "application/vnd.kubernetes.protobuf",
        "{deployments:?}"
    );
    assert!(
        deployments.len() >= 2 && deployments[1..].iter().all(|a| !a.contains("protobuf")),
        "{deployments:?}"
    );

    // A custom resource, started on first use, is JSON from the start.
    let output = daemon.cli(&["get", "widgets", "-A"]);
    assert!(output.status.success(), "{}", stdout(&output));
    let widgets = accepts(&sim, "widgets").await;
    assert!(
        !widgets.is_empty() && widgets.iter().all(|a| !a.contains("protobuf")),
        "{widgets:?}"
    );
    let status = daemon.cli_json(&["status", "-o", "json"]);
    let widgets = status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|k| k["kind"].as_str().unwrap_or("").starts_with("widgets"))
        .expect("widgets in status");
    assert_eq!(widgets["wire"], "json", "{widgets}");

    // Churn ran over the watches through all of the above; once it stops,
    // every kind (protobuf and JSON alike) mirrors the sim.
    sim.set_churn(0).await;
    assert_converged(&sim, &daemon, Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timoneirod_wire_json_forces_json() {
    let sim = Sim::start(&["--pods", "100", "--namespaces", "2"]);
    let daemon = Daemon::start_with(&sim.kubeconfig, &["--wire", "json"]);
    daemon.wait_synced(Duration::from_secs(60));
    let status = daemon.cli_json(&["status", "-o", "json"]);
    for kind in status["kinds"].as_array().expect("kinds") {
        if kind["state"] == "SYNCED" {
            // Secrets are the server's Table, which is JSON anyway.
            let expected = if kind["kind"] == "secrets" {
                "table"
            } else {
                "json"
            };
            assert_eq!(kind["wire"], expected, "{kind}");
        }
    }
    let pods = accepts(&sim, "pods").await;
    assert!(
        !pods.is_empty() && pods.iter().all(|a| !a.contains("protobuf")),
        "{pods:?}"
    );
    assert_converged(&sim, &daemon, Duration::from_secs(20)).await;
}

/// The sim's protobuf is the API server's: every object of every built-in
/// kind it serves has its fields in number order at every level (what the
/// decoder reads in place; out-of-order fields cost a second, buffered read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sim_writes_protobuf_fields_in_number_order() {
    use timoneiro_kpb::{self as kpb, Envelope, List};
    let sim = Sim::start(&["--pods", "200"]);
    let mut checked = 0;
    for builtin in Builtin::ALL {
        let kind = builtin.kind();
        let spec = kind.spec();
        let path = match spec.group.as_str() {
            "" => format!("/api/{}/{}", spec.version, spec.plural),
            group => format!("/apis/{group}/{}/{}", spec.version, spec.plural),
        };
        // Secrets as metadata (the daemon asks for their Table, JSON only).
        let accept = if builtin == Builtin::SECRETS {
            format!(
                "{};as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
                kpb::MEDIA_TYPE
            )
        } else {
            kpb::MEDIA_TYPE.to_string()
        };
        let (status, _, body) = sim.raw("GET", &path, Some(&accept)).await;
        assert_eq!(status, 200, "{path}");
        let envelope = Envelope::parse(&body).unwrap_or_else(|e| {
            panic!(
                "{path}: {e}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )
        });
        let items = envelope
            .message_type()
            .ok()
            .and_then(|ty| ty.items())
            .expect("a list type");
        for item in List::parse(envelope.raw).expect("list").items {
            assert_eq!(
                kpb::unordered_at(items, item).expect("walks"),
                None,
                "{path}: an object with fields out of order at this path of field numbers"
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "objects checked: {checked}");
}
