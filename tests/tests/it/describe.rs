//! `describe` end to end: the CLI and the TUI against a daemon on the sim.
//! What the text must say comes from the recordings the sim serves
//! (`tests/fixtures/…/list/events.json`: the events of the recorded
//! `crashy` pod), not from the daemon's own describer; the layout itself is
//! checked line by line against real kubectl output in the daemon's
//! golden test.

use std::time::Duration;

use serde_json::Value;
use timoneiro_tests::harness::{Daemon, Sim, Tmux, bin, stderr, stdout, synced_cluster};

const WAIT: Duration = Duration::from_secs(30);

/// The recorded events of the `crashy` pod: (reason, count).
fn recorded_crashy_events() -> Vec<(String, i64)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/kube-apiserver-v1.36/list/events.json"
    ))
    .expect("recorded events");
    let list: Value = serde_json::from_str(&text).expect("JSON");
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["involvedObject"]["name"] == "crashy")
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or("").to_string(),
                e["count"].as_i64().unwrap_or(1),
            )
        })
        .collect()
}

/// A pod the sim made from the recorded `crashy` pod: (namespace, name, uid).
fn crashy_pod(daemon: &Daemon) -> (String, String, String) {
    let pods = daemon.cli_json(&["get", "pods", "-A", "-o", "json"]);
    let pod = pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["spec"]["containers"][0]["image"]
                .as_str()
                .is_some_and(|i| i.contains("team/crashy"))
        })
        .expect("the sim made a pod from the crashy recording");
    let text = |path: &str| {
        pod.pointer(path)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (
        text("/metadata/namespace"),
        text("/metadata/name"),
        text("/metadata/uid"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_prints_a_crashing_pod_with_its_events_and_a_deployment_with_its_replica_set() {
    let (_sim, daemon) = synced_cluster(&["--pods", "1500", "--namespaces", "2"]);
    let (namespace, name, uid) = crashy_pod(&daemon);

    let output = daemon.cli(&["describe", "pod", &name, "-n", &namespace]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in\n{text}"))
            .to_string()
    };
    assert!(line("Name:").ends_with(&format!(" {name}")), "{text}");
    assert!(
        line("Namespace:").ends_with(&format!(" {namespace}")),
        "{text}"
    );
    assert!(
        line("      Reason:").ends_with(" CrashLoopBackOff"),
        "{text}"
    );
    // The Events table: kubectl's header, then every recorded event of the
    // pod, aimed at this pod by uid (the BackOff message names it).
    let events = text
        .split("\nEvents:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Events table in\n{text}"));
    let header: Vec<&str> = events
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["Type", "Reason", "Age", "From", "Message"],
        "{text}"
    );
    for (reason, count) in recorded_crashy_events() {
        let row = events
            .lines()
            .find(|l| {
                l.split_whitespace().nth(1) == Some(reason.as_str())
                    && (count <= 1 || l.contains(&format!("(x{count} over ")))
            })
            .unwrap_or_else(|| panic!("no {reason} event (x{count}) in\n{events}"));
        assert!(
            row.trim_start().starts_with("Normal") || row.trim_start().starts_with("Warning"),
            "{row}"
        );
    }
    assert!(
        events.contains(&format!("{name}_{namespace}({uid})")),
        "{events}"
    );

    // A deployment names the replica set it owns, as `get rs` lists it.
    let deployments = daemon.cli_json(&["get", "deploy", "-n", &namespace, "-o", "json"]);
    let deployment = &deployments["items"][0];
    let deploy_name = deployment["metadata"]["name"]
        .as_str()
        .expect("a deployment");
    let sets = daemon.cli_json(&["get", "rs", "-n", &namespace, "-o", "json"]);
    let owned: Vec<&str> = sets["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rs| rs["metadata"]["ownerReferences"][0]["uid"] == deployment["metadata"]["uid"])
        .filter_map(|rs| rs["metadata"]["name"].as_str())
        .collect();
    assert_eq!(owned.len(), 1, "{sets}");
    let output = daemon.cli(&[
        "describe",
        &format!("deploy/{deploy_name}"),
        "-n",
        &namespace,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let new = text
        .lines()
        .find(|l| l.starts_with("NewReplicaSet:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(new.contains(&format!(" {} (", owned[0])), "{new}");

    // A secret shows its key count, as the server's Table counts it.
    let secrets = stdout(&daemon.cli(&["get", "secrets", "-n", &namespace, "--no-headers"]));
    let first: Vec<&str> = secrets
        .lines()
        .next()
        .expect("a secret")
        .split_whitespace()
        .collect();
    let (secret, keys) = (first[0], first[2]);
    let text = stdout(&daemon.cli(&["describe", "secret", secret, "-n", &namespace]));
    let data = text
        .split("Data\n====\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(data.starts_with(&format!("{keys} keys ")), "{data}");

    // An object that is not there: kubectl's NotFound, exit 1.
    let output = daemon.cli(&["describe", "pod", "no-such-pod", "-n", &namespace]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("Error from server (NotFound): pods \"no-such-pod\" not found"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_in_the_tui_shows_a_crashing_pods_events() {
    let (_sim, daemon) = synced_cluster(&["--pods", "1500", "--namespaces", "2"]);
    let (namespace, name, _) = crashy_pod(&daemon);
    let command = format!(
        "TIMONEIRO_SOCKET={} NO_COLOR=1 {} -n {namespace}",
        daemon.socket.display(),
        bin("timoneiro-tui").display(),
    );
    let tmux = Tmux::start(&command, 200, 50);
    tmux.wait_for("pod rows", WAIT, |s| {
        s.contains("Pods (") && s.contains("Running")
    });
    tmux.send(&["/", &format!("'{name}"), "Enter"]);
    tmux.wait_for("the crashing pod alone", WAIT, |s| {
        s.contains(&name) && !s.contains(" Running ")
    });
    tmux.send(&["d"]);
    tmux.wait_for("the describe view", WAIT, |s| {
        s.contains(&format!("Describe pods/{name}"))
    });
    // The events are at the end: go there.
    tmux.send(&["G"]);
    tmux.wait_for("the pod's events", WAIT, |s| {
        s.contains("Events:")
            || (s.contains("BackOff") && s.contains("Back-off restarting failed container"))
    });
    let screen = tmux.wait_for("the BackOff event", WAIT, |s| s.contains("(x26 over"));
    assert!(screen.contains("Warning"), "{screen}");
}

/// What `kubectl top pods` prints for a PodMetricsList, by kubectl's rules
/// (`metricsutil.TopCmdPrinter`): each pod's containers summed, CPU rounded
/// up to millicores, memory in whole MiB, sorted by name.
fn kubectl_top_pods(list: &Value) -> Vec<(String, String, String)> {
    let nanos = |q: &str| -> i128 {
        let (n, unit) = q.split_at(q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len()));
        let n: i128 = n.parse().expect("a number");
        match unit {
            "n" => n,
            "m" => n * 1_000_000,
            "" => n * 1_000_000_000,
            other => panic!("cpu unit {other}"),
        }
    };
    let bytes = |q: &str| -> i128 {
        let (n, unit) = q.split_at(q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len()));
        let n: i128 = n.parse().expect("a number");
        match unit {
            "Ki" => n * 1024,
            "Mi" => n * 1024 * 1024,
            "" => n,
            other => panic!("memory unit {other}"),
        }
    };
    let mut rows: Vec<(String, String, String)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|pod| {
            let containers = pod["containers"].as_array().cloned().unwrap_or_default();
            let cpu: i128 = containers
                .iter()
                .map(|c| nanos(c["usage"]["cpu"].as_str().unwrap_or("0")))
                .sum();
            let memory: i128 = containers
                .iter()
                .map(|c| bytes(c["usage"]["memory"].as_str().unwrap_or("0")))
                .sum();
            (
                pod["metadata"]["name"].as_str().unwrap_or("").to_string(),
                format!("{}m", (cpu + 999_999) / 1_000_000),
                format!("{}Mi", memory / (1024 * 1024)),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_prints_what_kubectl_top_prints_and_says_when_there_are_no_metrics() {
    let (sim, daemon) = synced_cluster(&["--pods", "300", "--namespaces", "2"]);
    let namespace =
        daemon.cli_json(&["get", "pods", "-A", "-o", "json"])["items"][0]["metadata"]["namespace"]
            .as_str()
            .expect("a pod")
            .to_string();
    let path = format!("/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods");
    // The sim's values change every 15 s: take a reading on both sides of
    // the daemon's (its first, so not cached) and compare when they agree.
    // A sort by CPU right after uses the daemon's same reading.
    let (expected, output, by_cpu, raw) = loop {
        let before = sim.json("GET", &path).await;
        let output = daemon.cli(&["top", "pods", "-n", &namespace]);
        let by_cpu = daemon.cli(&[
            "get",
            "pods",
            "-n",
            &namespace,
            "--sort-by",
            "-CPU",
            "--no-headers",
        ]);
        let after = sim.json("GET", &path).await;
        if kubectl_top_pods(&before) == kubectl_top_pods(&after) {
            break (kubectl_top_pods(&before), output, by_cpu, before);
        }
        tokio::time::sleep(Duration::from_secs(16)).await;
    };
    // Pods by summed CPU nanocores, highest first (pods without metrics last).
    let mut cpu: Vec<(i128, String)> = raw["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let nanos: i128 = p["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    c["usage"]["cpu"]
                        .as_str()
                        .unwrap_or("0n")
                        .trim_end_matches('n')
                        .parse::<i128>()
                        .unwrap_or(0)
                })
                .sum();
            (
                nanos,
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    cpu.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let listed: Vec<String> = stdout(&by_cpu)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let want: Vec<String> = cpu.iter().map(|(_, name)| name.clone()).collect();
    assert_eq!(listed[..want.len()], want[..], "get --sort-by -CPU");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split_whitespace().collect();
    assert_eq!(header, ["NAME", "CPU(cores)", "MEMORY(bytes)"]);
    let got: Vec<(String, String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
    // kubectl's printer: every cell tab-terminated, so lines end in padding.
    assert!(text.lines().all(|l| l.ends_with("   ")), "{text:?}");

    // Nodes: NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%), one per node.
    let nodes = stdout(&daemon.cli(&["top", "nodes"]));
    let header: Vec<&str> = nodes
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    );
    let node_count = daemon.cli_json(&["get", "nodes", "-o", "json"])["items"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(nodes.lines().count(), node_count + 1, "{nodes}");

    // A cluster without metrics-server: a clear error, exit 1.
    let bare = Sim::start(&["--pods", "50", "--namespaces", "1", "--no-metrics"]);
    let bare_daemon = Daemon::start(&bare.kubeconfig);
    bare_daemon.wait_synced(WAIT);
    let output = bare_daemon.cli(&["top", "pods", "-A"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Metrics API not available")
            && stderr(&output).contains("metrics-server"),
        "{}",
        stderr(&output)
    );
}

/// CPU of the pod `name` on a TUI screen (the CPU column).
fn cpu_cell(screen: &str, name: &str) -> Option<String> {
    let header: Vec<&str> = screen.lines().nth(1)?.split_whitespace().collect();
    let at = header.iter().position(|h| *h == "CPU")?;
    let row = screen.lines().find(|l| l.contains(name))?;
    let fields: Vec<&str> = row.trim_start_matches('▶').split_whitespace().collect();
    // NAMESPACE NAME … : header and row fields line up (no spaces in cells
    // before CPU: READY, STATUS and RESTARTS of a healthy pod have none).
    fields.get(at).map(|s| s.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_shows_metrics_that_change_and_n_a_without_metrics_server() {
    let (_sim, daemon) = synced_cluster(&["--pods", "300", "--namespaces", "2"]);
    let pods = daemon.cli_json(&["get", "pods", "-A", "-o", "json"]);
    let pod = pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["status"]["phase"] == "Running"
                && p["status"]["containerStatuses"]
                    .as_array()
                    .is_some_and(|c| c.iter().all(|s| s["restartCount"] == 0))
        })
        .expect("a running pod");
    let (namespace, name) = (
        pod["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        pod["metadata"]["name"].as_str().unwrap_or("").to_string(),
    );
    let command = format!(
        "TIMONEIRO_SOCKET={} NO_COLOR=1 {} -n {namespace}",
        daemon.socket.display(),
        bin("timoneiro-tui").display(),
    );
    let tmux = Tmux::start(&command, 200, 20);
    tmux.send(&["/", &format!("'{name}"), "Enter"]);
    let screen = tmux.wait_for("the pod's CPU", WAIT, |s| {
        s.lines()
            .nth(1)
            .is_some_and(|h| h.contains(" CPU ") && h.contains(" MEM ") && h.contains("%CPU/R"))
            && cpu_cell(s, &name).is_some_and(|c| c.ends_with('m'))
    });
    let first = cpu_cell(&screen, &name).expect("a CPU cell");
    // The sim's values change every 15 s and the TUI asks again every 15 s.
    tmux.wait_for("the CPU changing", Duration::from_secs(50), |s| {
        cpu_cell(s, &name).is_some_and(|c| c.ends_with('m') && c != first)
    });
    drop(tmux);

    let bare = Sim::start(&["--pods", "50", "--namespaces", "1", "--no-metrics"]);
    let bare_daemon = Daemon::start(&bare.kubeconfig);
    bare_daemon.wait_synced(WAIT);
    let command = format!(
        "TIMONEIRO_SOCKET={} NO_COLOR=1 {} -A",
        bare_daemon.socket.display(),
        bin("timoneiro-tui").display(),
    );
    let tmux = Tmux::start(&command, 200, 20);
    tmux.wait_for("n/a in the metrics columns", WAIT, |s| {
        s.lines().nth(1).is_some_and(|h| h.contains(" CPU "))
            && s.lines().nth(2).is_some_and(|r| r.contains("n/a"))
    });
}
