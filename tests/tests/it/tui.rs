//! The TUI as a person uses it: in tmux against a real daemon on the sim.

use std::time::Duration;

use timoneiro_tests::harness::{Daemon, Sim, Tmux, bin, stdout, synced_cluster};

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
    let (_sim, daemon) = synced_cluster(&["--pods", "1000", "--namespaces", "2"]);
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
    // Every row's IP and NODE are the pod's own (checked inside the wait:
    // a capture can catch a frame half drawn).
    let own_cells = |row: &str| {
        let fields: Vec<&str> = row.trim_start_matches('▶').split_whitespace().collect();
        let Some(pod) = fields
            .get(1)
            .and_then(|name| items.iter().find(|p| p["metadata"]["name"] == *name))
        else {
            return false;
        };
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("<none>");
        let ip = pod["status"]["podIP"].as_str().unwrap_or("<none>");
        fields.contains(&node) && fields.contains(&ip)
    };
    tmux.wait_for("pod rows with their IP and NODE", WAIT, |s| {
        s.contains(&format!("Pods ({total_text})"))
            && s.lines().nth(1).is_some_and(|h| {
                // kubectl's default columns, the metrics (k9s's), IP NODE AGE.
                let columns: Vec<&str> = h.split_whitespace().collect();
                columns.starts_with(&[
                    "NAMESPACE",
                    "NAME",
                    "READY",
                    "STATUS",
                    "RESTARTS",
                    "CPU",
                    "MEM",
                ]) && columns.ends_with(&["IP", "NODE", "AGE"])
            })
            && !rows(s).is_empty()
            && rows(s).iter().all(|r| own_cells(r))
    });

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

/// The selected row on a screen: its NAME field (after NAMESPACE).
fn selected_name(screen: &str) -> Option<String> {
    let row = screen.lines().find(|l| l.starts_with('▶'))?;
    row.trim_start_matches('▶')
        .split_whitespace()
        .nth(1)
        .map(str::to_string)
}

/// Going to a pod's owner (`J`) and back (Esc) keeps the pods view as it
/// was: its filter, its scroll and the selected pod; `:kind` and back too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_and_back_keeps_the_filter_and_the_selection() {
    let (_sim, daemon) = synced_cluster(&["--pods", "600", "--namespaces", "2"]);
    let pods = daemon.cli_json(&["get", "pods", "-A", "-o", "json"]);
    let owner_of = |name: &str| {
        pods["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["metadata"]["name"] == name)
            .and_then(|p| {
                p["metadata"]["ownerReferences"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|r| r["controller"] == true)
                    .map(|r| {
                        (
                            r["kind"].as_str().unwrap_or("").to_string(),
                            r["name"].as_str().unwrap_or("").to_string(),
                        )
                    })
            })
    };
    let command = format!(
        "TIMONEIRO_SOCKET={} NO_COLOR=1 {} -A",
        daemon.socket.display(),
        bin("timoneiro-tui").display(),
    );
    let tmux = Tmux::start(&command, 200, 30);
    tmux.wait_for("pod rows", WAIT, |s| {
        s.contains("Pods (") && !rows(s).is_empty()
    });
    tmux.send(&["/", "Running", "Enter"]);
    tmux.wait_for("the filter applied", WAIT, |s| {
        s.contains("Pods (") && s.contains('/') && rows(s).iter().all(|r| r.contains("Running"))
    });
    // Move down to a pod that has an owner.
    let mut previous = selected_name(&tmux.screen());
    let (pod, (kind, owner)) = (0..20)
        .find_map(|_| {
            tmux.send(&["j"]);
            // Wait for the selection to move rather than for a time.
            let screen = tmux.wait_for("the selection moving", WAIT, |s| {
                selected_name(s).is_some() && selected_name(s) != previous
            });
            let name = selected_name(&screen)?;
            previous = Some(name.clone());
            owner_of(&name).map(|o| (name, o))
        })
        .expect("a pod with an owner among the first rows");
    // The scroll position: the first row on screen (a capture may catch a
    // frame half drawn, so wait for one whose selection is the pod).
    let first_row = |s: &str| {
        rows(s)
            .first()
            .and_then(|r| r.trim_start_matches('▶').split_whitespace().nth(1))
            .map(str::to_string)
    };
    let before = tmux.wait_for("the selected pod", WAIT, |s| {
        selected_name(s).as_deref() == Some(pod.as_str()) && first_row(s).is_some()
    });
    let top = first_row(&before);
    tmux.send(&["J"]);
    tmux.wait_for("the owner", WAIT, |s| {
        s.lines().next().is_some_and(|h| {
            h.to_lowercase()
                .contains(&format!("{}s", kind.to_lowercase()))
        }) && rows(s).len() == 1
            && rows(s)[0].contains(&owner)
    });
    tmux.send(&["Escape"]);
    // Same filter, same first row, same selection.
    tmux.wait_for("the pods view as it was", WAIT, |s| {
        selected_name(s).as_deref() == Some(pod.as_str())
            && first_row(s) == top
            && s.contains("Pods (")
            && rows(s).iter().all(|r| r.contains("Running"))
    });

    // :deploy and :pods again: the pods view comes back the same way.
    tmux.send(&[":", "deploy", "Enter"]);
    tmux.wait_for("deployments", WAIT, |s| s.contains("Deployments ("));
    tmux.send(&[":", "pods", "Enter"]);
    tmux.wait_for("the pods view kept", WAIT, |s| {
        selected_name(s).as_deref() == Some(pod.as_str())
            && rows(s).iter().all(|r| r.contains("Running"))
    });

    // Enter on a pod: its containers.
    tmux.send(&["Enter"]);
    tmux.wait_for("the pod's containers", WAIT, |s| {
        s.contains(&format!("Containers pods/{pod}")) && s.contains("IMAGE") && s.contains("PROBES")
    });
}
