//! A user limited to some namespaces by RBAC: a namespace-scoped cache,
//! forbidden namespaces skipped, faults survived.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;
use timoneiro_tests::harness::{Daemon, Sim, eventually_async, stderr, stdout};

use super::e2e::{context_namespace, names, sim_pods};

/// A user whose RBAC allows listing pods and secrets only in some namespaces
/// (RoleBindings, no ClusterRoleBinding) gets a cache of those namespaces:
/// the context's namespace and the daemon's `--namespace` ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_limited_to_namespaces_gets_a_namespace_scoped_cache() {
    let probe = Sim::start(&["--pods", "120", "--namespaces", "3"]);
    let home = context_namespace(&probe);
    let (_, pods) = sim_pods(&probe).await;
    let other = pods
        .iter()
        .filter_map(|p| p.metadata.namespace.clone())
        .find(|ns| *ns != home)
        .expect("a second namespace with pods");
    // The same seed makes the same cluster; this one limits the user.
    let sim = Sim::start(&[
        "--pods",
        "120",
        "--namespaces",
        "3",
        "--namespace-only",
        "pods",
        "--namespace-only",
        "secrets",
        "--allow-namespace",
        &home,
        "--allow-namespace",
        &other,
    ]);
    drop(probe);
    let expected: BTreeSet<(String, String)> = pods
        .iter()
        .filter(|p| {
            let ns = p.metadata.namespace.as_deref().unwrap_or_default();
            ns == home || ns == other
        })
        .map(|p| {
            (
                p.metadata.namespace.clone().unwrap_or_default(),
                p.metadata.name.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert!(expected.len() < pods.len(), "some pods are out of reach");

    let daemon = Daemon::start_with(&sim.kubeconfig, &["--namespace", &other]);
    let status = daemon.wait_synced(Duration::from_secs(60));
    let kind = |name: &str| {
        status["kinds"]
            .as_array()
            .expect("kinds")
            .iter()
            .find(|k| k["kind"] == name)
            .cloned()
            .expect("kind")
    };
    assert_eq!(kind("pods")["namespaces"], serde_json::json!([home, other]));
    assert_eq!(
        kind("secrets")["namespaces"],
        serde_json::json!([home, other])
    );
    assert_eq!(
        kind("deployments")["namespaces"],
        serde_json::json!([]),
        "cluster-wide where allowed"
    );

    let output = daemon.cli(&["get", "pods", "-A", "-o", "rows"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "listing pods cluster-wide is forbidden; showing namespaces {home}, {other} only"
        )),
        "{}",
        stderr(&output)
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let got: BTreeSet<(String, String)> = names(&json).into_iter().collect();
    assert_eq!(got, expected);
    // Within the scope, no warning.
    let output = daemon.cli(&["get", "pods", "-n", &other]);
    assert!(
        output.status.success() && stderr(&output).is_empty(),
        "{}",
        stderr(&output)
    );
    let text = stdout(&daemon.cli(&["status"]));
    assert!(
        text.lines().any(|l| l.starts_with("pods ")
            && l.contains("SYNCED")
            && l.contains(&format!(
                "only namespaces {home}, {other} (cluster-wide list forbidden)"
            ))),
        "{text}"
    );
}

/// A namespace-scoped cache done right: a `--namespace` the user may not
/// list in is skipped and named (the kind used to be ERROR as a whole), and
/// faults in per-namespace mode converge as cluster-wide ones do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_namespace_is_skipped_and_namespace_caches_survive_faults() {
    let sim = Sim::start(&[
        "--pods",
        "150",
        "--namespaces",
        "3",
        "--churn-rate",
        "20",
        "--namespace-only",
        "pods",
    ]);
    let home = context_namespace(&sim);
    let daemon = Daemon::start_with(&sim.kubeconfig, &["--namespace", "kube-system"]);
    let mut log = daemon.status_log();
    let pods = log.wait_kind(Duration::from_secs(60), "pods", "SYNCED");
    assert_eq!(pods["namespaces"], serde_json::json!([home]), "{pods}");
    assert_eq!(
        pods["message"], "listing is forbidden in the namespace kube-system: skipped",
        "{pods}"
    );
    let text = stdout(&daemon.cli(&["status"]));
    assert!(
        text.lines().any(|l| l.starts_with("pods ")
            && l.contains("SYNCED")
            && l.contains("forbidden in the namespace kube-system: skipped")),
        "{text}"
    );

    for fault in ["drop-watches", "gone?form=watch-event", "outage?seconds=2"] {
        sim.fault(fault).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    sim.wait_reachable(Duration::from_secs(30)).await;
    sim.set_churn(0).await;
    let fired = sim.faults_fired().await;
    assert!(
        fired["drop-watches"] == 1 && fired["outage"] == 1,
        "{fired}"
    );
    let truth = || async {
        let pods: Vec<Pod> = Api::<Pod>::namespaced(sim.client().await, &home)
            .list(&ListParams::default())
            .await
            .expect("list in the allowed namespace")
            .items;
        pods.iter()
            .map(|p| (home.clone(), p.metadata.name.clone().unwrap_or_default()))
            .collect::<BTreeSet<_>>()
    };
    eventually_async(
        "the pods of the allowed namespace to converge",
        Duration::from_secs(60),
        || async {
            let output = daemon.cli(&["get", "pods", "-A", "-o", "rows"]);
            let cached: BTreeSet<(String, String)> =
                serde_json::from_slice::<Value>(&output.stdout)
                    .map(|json| names(&json).into_iter().collect())
                    .unwrap_or_default();
            let status = daemon.cli_json(&["status", "-o", "json"]);
            let synced = status["kinds"]
                .as_array()
                .and_then(|k| k.iter().find(|k| k["kind"] == "pods").cloned())
                .is_some_and(|k| k["state"] == "SYNCED");
            if synced && cached == truth().await {
                Ok(())
            } else {
                Err(format!("pods of {home}: {cached:?}\n{}", daemon.log_text()))
            }
        },
    )
    .await;
}
