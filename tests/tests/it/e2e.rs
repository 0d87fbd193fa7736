//! End to end: the sim, the daemon and the CLI as real processes, the
//! CLI's answers and the WatchList stream against the sim under churn.
//! Every expected answer is computed from the sim's own state at that moment.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;
use timoneiro_tests::harness::{
    Daemon, Sim, eventually, eventually_async, starts_by_itself, stdout, synced_cluster,
};

/// (namespace, name, uid, READY, STATUS, restart count) of a pod.
pub(crate) type PodKey = (String, String, String, String, String, String);

/// The sim's pods, projected with the daemon's own projection.
pub(crate) async fn sim_pods(sim: &Sim) -> (BTreeSet<PodKey>, Vec<Pod>) {
    let pods: Vec<Pod> = Api::<Pod>::all(sim.client().await)
        .list(&ListParams::default())
        .await
        .expect("list")
        .items;
    let keys = pods
        .iter()
        .map(|pod| {
            let parts = timoneirod::project::pod(pod);
            let restarts = parts.cells[2]
                .text
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            (
                parts.namespace,
                parts.name,
                parts.uid,
                parts.cells[0].text.to_string(),
                parts.cells[1].text.to_string(),
                restarts,
            )
        })
        .collect();
    (keys, pods)
}

/// The daemon's pods from `timoneiro get pods -A -o json`.
pub(crate) fn daemon_pods(json: &Value) -> BTreeSet<PodKey> {
    json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let cell = |i: usize| row["cells"][i].as_str().unwrap_or_default().to_string();
            let restarts = cell(4)
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            (
                cell(0),
                cell(1),
                row["uid"].as_str().unwrap_or_default().to_string(),
                cell(2),
                cell(3),
                restarts,
            )
        })
        .collect()
}

pub(crate) fn names(json: &Value) -> Vec<(String, String)> {
    json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["namespace"].as_str().unwrap_or_default().to_string(),
                r["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub(crate) fn context_namespace(sim: &Sim) -> String {
    let kubeconfig = kube::config::Kubeconfig::read_from(&sim.kubeconfig).expect("kubeconfig");
    kubeconfig.contexts[0]
        .context
        .as_ref()
        .and_then(|c| c.namespace.clone())
        .expect("namespace")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_answers_match_the_sim_under_churn() {
    let sim = Sim::start(&["--pods", "3000", "--namespaces", "8", "--churn-rate", "40"]);
    let daemon = Daemon::start(&sim.kubeconfig);
    let status = daemon.wait_synced(Duration::from_secs(120));
    let kinds: Vec<&str> = status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .map(|k| k["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, timoneiro_client::BUILTIN_KINDS);

    // Let churn run against the synced cache, then stop it: the daemon must
    // converge to exactly the sim's pods.
    let before = sim.json("GET", "/sim/info").await["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let start = before.parse::<u64>().unwrap_or(0);
    eventually_async(
        "the sim to churn 40 changes",
        Duration::from_secs(10),
        || async {
            let rv = sim.json("GET", "/sim/info").await["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .parse::<u64>()
                .unwrap_or(0);
            if rv >= start + 40 {
                Ok(())
            } else {
                Err(format!("{before} → {rv}"))
            }
        },
    )
    .await;
    sim.set_churn(0).await;
    let (truth, pods) = sim_pods(&sim).await;
    let all = eventually(
        "the daemon to converge to the sim's pods",
        Duration::from_secs(30),
        || {
            let all = daemon.cli_json(&["get", "pods", "-A", "-o", "rows"]);
            let cached = daemon_pods(&all);
            if cached == truth {
                return Ok(all);
            }
            let missing: Vec<_> = truth.difference(&cached).take(5).collect();
            let extra: Vec<_> = cached.difference(&truth).take(5).collect();
            Err(format!(
                "the sim has {} pods, the daemon {}: missing {missing:?}, extra {extra:?}",
                truth.len(),
                cached.len()
            ))
        },
    );
    assert_eq!(all["total"].as_u64(), Some(truth.len() as u64));
    assert_eq!(all["status"]["state"], "SYNCED");

    assert_status_counts(&sim, &daemon).await;
    assert_order_and_filters(&sim, &daemon, &all, &truth);
    assert_label_selectors(&daemon, &pods);
    assert_sorting(&daemon);
    assert_namespace_and_output(&sim, &daemon, &truth);
}

/// Every kind that starts by itself is SYNCED with the sim's count; the others wait.
async fn assert_status_counts(sim: &Sim, daemon: &Daemon) {
    // Status counts equal the sim's.
    let info = sim.json("GET", "/sim/info").await;
    let status = daemon.cli_json(&["status", "-o", "json"]);
    for kind in status["kinds"].as_array().expect("kinds") {
        let plural = kind["kind"].as_str().unwrap_or_default();
        if !starts_by_itself(kind) {
            assert_eq!(
                kind["state"], "PENDING",
                "{plural} waits for its first query"
            );
            continue;
        }
        assert_eq!(kind["state"], "SYNCED", "{plural}");
        assert_eq!(kind["objects"], info["objects"][plural], "{plural} count");
    }
}

/// The default order, a negation and an exact-case term, against the sim's pods.
fn assert_order_and_filters(sim: &Sim, daemon: &Daemon, all: &Value, truth: &BTreeSet<PodKey>) {
    // The default order is newest first.
    let created: Vec<&str> = all["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["creationTimestamp"].as_str().unwrap_or(""))
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Negation: no row containing the term, every other row kept.
    let excluded = context_namespace(sim);
    let filtered = daemon.cli_json(&[
        "get",
        "pods",
        "-A",
        "--filter",
        &format!("!{excluded}"),
        "-o",
        "rows",
    ]);
    let expected: Vec<(String, String)> = all["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| {
            !r["cells"]
                .as_array()
                .expect("cells")
                .iter()
                .any(|c| c.as_str().unwrap_or("").contains(&excluded))
        })
        .map(|r| {
            (
                r["namespace"].as_str().unwrap_or_default().to_string(),
                r["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(!expected.is_empty() && expected.len() < truth.len());
    assert_eq!(
        names(&filtered),
        expected,
        "negation keeps the order and excludes exactly the matching rows"
    );

    // A fuzzy term and a negation together.
    let crashing = daemon.cli_json(&[
        "get",
        "pods",
        "-A",
        "--filter",
        "CrashLoopBackOff",
        "-o",
        "rows",
    ]);
    let want = truth.iter().filter(|p| p.4 == "CrashLoopBackOff").count();
    assert_eq!(
        crashing["matched"].as_u64(),
        Some(want as u64),
        "exact-case term finds the CrashLoopBackOff pods"
    );
}

/// `-l` with `=` and `notin`, computed from the sim's labels.
fn assert_label_selectors(daemon: &Daemon, pods: &[Pod]) {
    // Label selectors, computed from the sim's labels.
    let app = pods[0]
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("app"))
        .cloned()
        .expect("app label");
    let with_app = |pred: &dyn Fn(Option<&String>) -> bool| -> BTreeSet<(String, String)> {
        pods.iter()
            .filter(|p| pred(p.metadata.labels.as_ref().and_then(|l| l.get("app"))))
            .map(|p| {
                (
                    p.metadata.namespace.clone().unwrap_or_default(),
                    p.metadata.name.clone().unwrap_or_default(),
                )
            })
            .collect()
    };
    let selected = daemon.cli_json(&[
        "get",
        "pods",
        "-A",
        "-l",
        &format!("app={app}"),
        "-o",
        "rows",
    ]);
    assert_eq!(
        names(&selected).into_iter().collect::<BTreeSet<_>>(),
        with_app(&|v| v == Some(&app))
    );
    let not_selected = daemon.cli_json(&[
        "get",
        "pods",
        "-A",
        "-l",
        &format!("app notin ({app}),app"),
        "-o",
        "rows",
    ]);
    assert_eq!(
        names(&not_selected).into_iter().collect::<BTreeSet<_>>(),
        with_app(&|v| v.is_some() && v != Some(&app))
    );
}

/// `--sort-by name` and a column reversed.
fn assert_sorting(daemon: &Daemon) {
    // Sorting by name, and by a column reversed.
    let by_name =
        names(&daemon.cli_json(&["get", "pods", "-A", "--sort-by", "name", "-o", "rows"]));
    assert!(
        by_name
            .windows(2)
            .all(|w| (&w[0].1, &w[0].0) <= (&w[1].1, &w[1].0)),
        "sorted by name"
    );
    let by_restarts = daemon.cli_json(&["get", "pods", "-A", "--sort-by=-RESTARTS", "-o", "rows"]);
    let restarts: Vec<u64> = by_restarts["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            r["cells"][4]
                .as_str()
                .unwrap_or("0")
                .split_whitespace()
                .next()
                .unwrap_or("0")
                .parse()
                .unwrap_or(0)
        })
        .collect();
    assert!(
        restarts.windows(2).all(|w| w[0] >= w[1]),
        "restarts descending: {:?}",
        &restarts[..10.min(restarts.len())]
    );
}

/// The context's namespace without `-n`, kubectl's table, `-o wide` and `-o name`.
fn assert_namespace_and_output(sim: &Sim, daemon: &Daemon, truth: &BTreeSet<PodKey>) {
    let excluded = context_namespace(sim);
    // Without -n the context's namespace is listed, as kubectl does.
    let default_ns = daemon.cli_json(&["get", "pods", "-o", "rows"]);
    let want: BTreeSet<(String, String)> = truth
        .iter()
        .filter(|p| p.0 == excluded)
        .map(|p| (p.0.clone(), p.1.clone()))
        .collect();
    assert_eq!(
        names(&default_ns).into_iter().collect::<BTreeSet<_>>(),
        want
    );
    assert_eq!(
        default_ns["columns"][0], "NAME",
        "no NAMESPACE column within one namespace"
    );

    // Table output: kubectl's header and layout; -o wide adds its columns; -o name.
    let table = daemon.cli(&["get", "pods", "-A", "--sort-by", "name"]);
    let text = stdout(&table);
    let header = text.lines().next().expect("header");
    assert!(
        header.starts_with("NAMESPACE") && header.contains("   NAME ") && header.ends_with("AGE"),
        "{header}"
    );
    assert_eq!(text.lines().count(), truth.len() + 1);
    let wide = stdout(&daemon.cli(&[
        "get",
        "po",
        "-A",
        "-o",
        "wide",
        "--no-headers",
        "--limit",
        "5",
    ]));
    assert_eq!(wide.lines().count(), 5);
    assert!(
        wide.lines()
            .all(|l| l.contains("sim-node-") || l.contains("<none>")),
        "{wide}"
    );
    let names_out = stdout(&daemon.cli(&["get", "pod", "-n", &excluded, "-o", "name"]));
    assert_eq!(names_out.lines().count(), want.len());
    assert!(names_out.lines().all(|l| l.starts_with("pod/")));
    let deploy = stdout(&daemon.cli(&["get", "deploy", "-A", "-o", "name", "--limit", "1"]));
    assert!(deploy.starts_with("deployment.apps/"), "{deploy}");
}

/// A filter asked with `window_first` (as the TUI asks for each key
/// typed), over a cache of at least `--window-first-rows` rows: the
/// window's rows come first, marked `counting`, and the counted answer
/// right after with the same rows. Without `window_first`, or under that
/// size (the default is 50,000 rows), only counted answers come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_can_come_before_its_count() {
    use futures::StreamExt;
    use timoneiro_proto::v1::{ListRequest, ListResponse};
    let sim = Sim::start(&["--pods", "300", "--namespaces", "3"]);
    let eager = Daemon::start_with(&sim.kubeconfig, &["--window-first-rows", "0"]);
    let default = Daemon::start(&sim.kubeconfig);
    eager.wait_synced(Duration::from_secs(60));
    default.wait_synced(Duration::from_secs(60));
    let request = |window_first| ListRequest {
        kind: "pods".into(),
        all_namespaces: true,
        // Every pod's READY cell is like 1/1 or 0/1.
        filter: "/1".into(),
        limit: 30,
        window_first,
        ..ListRequest::default()
    };
    let uids = |r: &ListResponse| r.rows.iter().map(|row| row.uid.clone()).collect::<Vec<_>>();
    let mut client = eager.grpc().await;
    let counted = client.list(request(true)).await.expect("list").into_inner();
    assert!(!counted.counting, "List always counts");
    assert_eq!((counted.total, counted.matched), (300, 300));
    let mut stream = client
        .watch_list(request(true))
        .await
        .expect("watch_list")
        .into_inner();
    let first = stream.next().await.expect("first").expect("ok");
    assert!(first.counting, "the rows before the count");
    assert_eq!(uids(&first), uids(&counted));
    assert!((30..300).contains(&first.matched), "{}", first.matched);
    let then = tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .expect("the count right after")
        .expect("open")
        .expect("ok");
    assert!(!then.counting);
    assert_eq!(uids(&then), uids(&counted));
    assert_eq!((then.total, then.matched), (300, 300));
    // Without window_first, or under the default size: counted at once.
    for (daemon, window_first) in [(&eager, false), (&default, true)] {
        let mut client = daemon.grpc().await;
        let mut stream = client
            .watch_list(request(window_first))
            .await
            .expect("watch_list")
            .into_inner();
        let answer = stream.next().await.expect("first").expect("ok");
        assert!(!answer.counting);
        assert_eq!(uids(&answer), uids(&counted));
        assert_eq!(answer.matched, 300);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_list_pushes_changes_and_get_returns_whole_objects() {
    use futures::StreamExt;
    use timoneiro_proto::v1::{GetRequest, ListRequest, ObjectFormat};
    let (sim, daemon) = synced_cluster(&["--pods", "300", "--namespaces", "2"]);
    let mut client = daemon.grpc().await;
    let request = ListRequest {
        kind: "pods".into(),
        all_namespaces: true,
        limit: 20,
        ..ListRequest::default()
    };
    let mut stream = client
        .watch_list(request)
        .await
        .expect("watch_list")
        .into_inner();
    let first = stream.next().await.expect("first answer").expect("ok");
    assert_eq!(first.rows.len(), 20, "only the window travels");
    assert_eq!(first.total, 300);

    // A change in the sim reaches the stream: churn creates new pods, which sort first.
    let before = first.rows[0].uid.clone();
    sim.set_churn(200).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let next = tokio::time::timeout(
            deadline.saturating_duration_since(Instant::now()),
            stream.next(),
        )
        .await
        .expect("an update within 20 s")
        .expect("stream open")
        .expect("ok");
        if next.rows[0].uid != before {
            break;
        }
    }
    sim.set_churn(0).await;

    // Get: the whole object, without managedFields; secrets without last-applied-configuration.
    let row = &first.rows[1];
    let get = |kind: &str, namespace: &str, name: &str, format: ObjectFormat| GetRequest {
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
        format: format as i32,
        ..GetRequest::default()
    };
    let yaml = client
        .get(get("po", &row.namespace, &row.name, ObjectFormat::Yaml))
        .await
        .expect("get")
        .into_inner()
        .text;
    assert!(
        yaml.contains("kind: Pod") && yaml.contains(&format!("name: {}", row.name)),
        "{yaml}"
    );
    assert!(!yaml.contains("managedFields"), "{yaml}");
    let secrets = client
        .list(ListRequest {
            kind: "secrets".into(),
            all_namespaces: true,
            ..ListRequest::default()
        })
        .await
        .expect("secrets")
        .into_inner();
    let secret = &secrets.rows[0];
    let json = client
        .get(get(
            "secret",
            &secret.namespace,
            &secret.name,
            ObjectFormat::Json,
        ))
        .await
        .expect("get")
        .into_inner()
        .text;
    let value: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(value["metadata"]["name"], secret.name.as_str());
    assert!(
        value.get("data").is_none() && value.get("stringData").is_none(),
        "{json}"
    );
    assert!(!json.contains("last-applied-configuration"), "{json}");
    let missing = client
        .get(get(
            "pods",
            &row.namespace,
            "no-such-pod",
            ObjectFormat::Yaml,
        ))
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), tonic::Code::NotFound);
    assert!(
        missing.message().contains("pods \"no-such-pod\" not found"),
        "{}",
        missing.message()
    );
}
