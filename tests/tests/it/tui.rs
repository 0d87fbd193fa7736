//! The TUI as a person uses it: in tmux against a real daemon on the sim.

use std::time::Duration;

use timoneiro_tests::harness::{Daemon, Sim, Tmux, bin, stdout};

const WAIT: Duration = Duration::from_secs(30);

fn rows(screen: &str) -> Vec<&str> {
    // Table rows start after the header and column lines and end before the footer.
    let lines: Vec<&str> = screen.lines().collect();
    lines
        .iter()
        .skip(2)
        .take(lines.len().saturating_sub(3))
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_filters_switches_kinds_drills_down_and_survives_a_daemon_restart() {
    let sim = Sim::start(&["--pods", "2000", "--namespaces", "5", "--churn-rate", "10"]);
    let mut daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(WAIT);
    let log = daemon.dir.path().join("tui.log");
    let command = format!(
        "TIMONEIRO_SOCKET={} NO_COLOR=1 {} -A --log-file {}",
        daemon.socket.display(),
        bin("timoneiro-tui").display(),
        log.display()
    );
    let tmux = Tmux::start(&command, 160, 30);
    tmux.wait_for("pod rows", WAIT, |s| {
        s.contains("Pods (2,0") && s.contains("Running")
    });

    // Filter as you type.
    tmux.send(&["/", "CrashLoop !", "analytics"]);
    let screen = tmux.wait_for("only crashing pods outside analytics", WAIT, |s| {
        s.contains("/CrashLoop !analytics")
            && rows(s)
                .iter()
                .all(|r| r.contains("CrashLoopBackOff") && !r.contains("analytics"))
    });
    assert!(!rows(&screen).is_empty(), "{screen}");
    tmux.send(&["Escape"]);
    tmux.wait_for("the filter cleared", WAIT, |s| {
        !s.contains("filter:") && s.contains("Running")
    });

    // Switch kind with the command line, then drill down into a deployment's pods.
    tmux.send(&[":", "deploy", "Enter"]);
    let screen = tmux.wait_for("deployments", WAIT, |s| {
        // Every row a deployment (NAMESPACE NAME READY UP-TO-DATE AVAILABLE AGE),
        // so a half-written frame with pod rows left in it does not count.
        s.contains("Deployments (")
            && s.contains("UP-TO-DATE")
            && !rows(s).is_empty()
            && rows(s).iter().all(|r| {
                let fields: Vec<&str> = r.trim_start_matches('▶').split_whitespace().collect();
                fields.len() == 6
                    && fields[3].parse::<u32>().is_ok()
                    && fields[4].parse::<u32>().is_ok()
            })
    });
    let first = rows(&screen)[0].split_whitespace().collect::<Vec<_>>();
    let (namespace, name) = (first[1], first[2]);
    tmux.send(&["Enter"]);
    // Wait for the whole screen, not just the header: a capture can catch a
    // frame half written (new header and rows above, the old table below).
    tmux.wait_for("the deployment's pods, and only them", WAIT, |s| {
        let rows = rows(s);
        s.contains(&format!("-l app={name}"))
            && s.contains("Pods (")
            && s.contains(&format!("ns: {namespace}"))
            && !rows.is_empty()
            && rows.iter().all(|r| r.contains(name))
            && s.contains(&format!("–{} of {} ", rows.len(), rows.len()))
    });

    // Describe the selected pod, then YAML with a search.
    tmux.send(&["d"]);
    tmux.wait_for("a describe view", WAIT, |s| {
        s.contains("Describe pods/") && s.contains("Namespace:")
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("the table again", WAIT, |s| !s.contains("Describe pods/"));
    tmux.send(&["y"]);
    tmux.wait_for("a YAML view", WAIT, |s| {
        s.contains("YAML pods/") && s.contains("apiVersion: v1")
    });
    // `nodeName:` is the YAML key; a pod's last-applied-configuration
    // annotation may hold `"nodeName":` too, on a line too long to show it.
    tmux.send(&["/", "nodeName:", "Enter"]);
    tmux.wait_for("the search hit", WAIT, |s| {
        s.lines().nth(2).is_some_and(|l| l.contains("nodeName:"))
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("the table again", WAIT, |s| !s.contains("YAML pods/"));

    // The daemon dies: the TUI says so and keeps the last rows; a new daemon brings the view back.
    let socket = daemon.socket.clone();
    daemon.signal("KILL");
    tmux.wait_for("the reconnecting state", WAIT, |s| {
        s.contains("reconnecting")
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let _next = Daemon::start_at(&sim.kubeconfig, socket, dir);
    tmux.wait_for("the view back", WAIT, |s| {
        !s.contains("reconnecting")
            && s.contains(&format!("-l app={name}"))
            && s.contains("Running")
    });

    tmux.send(&["q"]);
    tmux.wait_for("the shell gone", WAIT, |s| !s.contains("Pods ("));
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(log.contains("first rows drawn"), "{log}");
}

/// The pods view as k9s users expect it: IP and NODE on every row, ctrl-w
/// for every wide column, and a header that counts what is shown of the
/// whole. The expected cells come from the objects (`get -o json`), the
/// expected counts from the CLI's own listing of the same query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_rows_carry_ip_and_node_ctrl_w_widens_and_the_header_counts_shown_of_total() {
    let sim = Sim::start(&["--pods", "1000", "--namespaces", "2"]);
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(WAIT);
    let pods = daemon.cli_json(&["get", "pods", "-A", "-o", "json"]);
    let items = pods["items"].as_array().cloned().unwrap_or_default();
    let total = items.len();
    let command = format!(
        "TIMONEIRO_SOCKET={} NO_COLOR=1 {} -A",
        daemon.socket.display(),
        bin("timoneiro-tui").display(),
    );
    let tmux = Tmux::start(&command, 160, 30);
    let total_text = if total >= 1000 {
        format!("{},{:03}", total / 1000, total % 1000)
    } else {
        total.to_string()
    };
    let screen = tmux.wait_for("pod rows with IP and NODE", WAIT, |s| {
        s.contains(&format!("Pods ({total_text})"))
            && s.lines().nth(1).is_some_and(|h| {
                let columns: Vec<&str> = h.split_whitespace().collect();
                columns
                    == [
                        "NAMESPACE",
                        "NAME",
                        "READY",
                        "STATUS",
                        "RESTARTS",
                        "IP",
                        "NODE",
                        "AGE",
                    ]
            })
            && !rows(s).is_empty()
    });
    // Every row's IP and NODE are the pod's own.
    for row in rows(&screen) {
        let fields: Vec<&str> = row.trim_start_matches('▶').split_whitespace().collect();
        let pod = items
            .iter()
            .find(|p| p["metadata"]["name"] == fields[1])
            .unwrap_or_else(|| panic!("{row}"));
        if let Some(node) = pod["spec"]["nodeName"].as_str() {
            assert!(fields.contains(&node), "{row}: node {node}");
        }
        if let Some(ip) = pod["status"]["podIP"].as_str() {
            assert!(fields.contains(&ip), "{row}: ip {ip}");
        }
    }

    // ctrl-w: every wide column; again: back to the default ones.
    tmux.send(&["C-w"]);
    tmux.wait_for("the wide columns", WAIT, |s| {
        s.lines()
            .nth(1)
            .is_some_and(|h| h.contains("NOMINATED NODE") && h.contains("READINESS GATES"))
    });
    tmux.send(&["C-w"]);
    tmux.wait_for("the default columns", WAIT, |s| {
        s.lines()
            .nth(1)
            .is_some_and(|h| !h.contains("NOMINATED NODE") && h.contains(" NODE "))
    });

    // A filter: shown/total, shown as the CLI counts the same filter.
    let crashing =
        stdout(&daemon.cli(&["get", "pods", "-A", "--filter", "CrashLoop", "--no-headers"]))
            .lines()
            .count();
    tmux.send(&["/", "CrashLoop"]);
    tmux.wait_for("shown/total after the filter", WAIT, |s| {
        s.contains(&format!("Pods ({crashing}/{total_text})"))
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("the filter cleared", WAIT, |s| {
        s.contains(&format!("Pods ({total_text})"))
    });

    // Enter on a deployment: its pods of all the pods.
    tmux.send(&[":", "deploy", "Enter"]);
    let screen = tmux.wait_for("deployments", WAIT, |s| {
        s.contains("Deployments (") && s.contains("UP-TO-DATE") && !rows(s).is_empty()
    });
    let first: Vec<&str> = rows(&screen)[0]
        .trim_start_matches('▶')
        .split_whitespace()
        .collect();
    let (namespace, name) = (first[0], first[1]);
    let owned = stdout(&daemon.cli(&[
        "get",
        "pods",
        "-n",
        namespace,
        "-l",
        &format!("app={name}"),
        "--no-headers",
    ]))
    .lines()
    .count();
    tmux.send(&["Enter"]);
    tmux.wait_for("the deployment's pods counted of all", WAIT, |s| {
        s.contains(&format!("-l app={name}")) && s.contains(&format!("Pods ({owned}/{total_text})"))
    });
}
