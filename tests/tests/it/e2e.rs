//! End to end: the sim, the daemon and the CLI as real processes. Every
//! expected answer is computed from the sim's own state at that moment.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;
use timoneiro_tests::harness::{
    Daemon, Sim, eventually, eventually_async, starts_by_itself, stderr, stdout, synced_cluster,
};

/// (namespace, name, uid, READY, STATUS, restart count) of a pod.
type PodKey = (String, String, String, String, String, String);

/// The sim's pods, projected with the daemon's own projection.
async fn sim_pods(sim: &Sim) -> (BTreeSet<PodKey>, Vec<Pod>) {
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
fn daemon_pods(json: &Value) -> BTreeSet<PodKey> {
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

fn names(json: &Value) -> Vec<(String, String)> {
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

fn context_namespace(sim: &Sim) -> String {
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

    // The default order is newest first.
    let created: Vec<&str> = all["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["creationTimestamp"].as_str().unwrap_or(""))
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Negation: no row containing the term, every other row kept.
    let excluded = context_namespace(&sim);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_exit_codes() {
    let (_sim, daemon) = synced_cluster(&["--pods", "200", "--namespaces", "2"]);
    let cases: &[(&[&str], i32, &str)] = &[
        (&["get", "podz"], 1, "did you mean pods"),
        (&["get", "deploymnets"], 1, "did you mean deployments"),
        (
            &["get", "pods", "-l", "app in (a"],
            1,
            "invalid label selector at position 10",
        ),
        (&["get", "pods", "-l", "app ~ web"], 1, "position 5"),
        (
            &["get", "pods", "--filter", "web !"],
            1,
            "invalid filter at position 5",
        ),
        (
            &["get", "pods", "--sort-by", "colour"],
            1,
            "cannot sort by \"colour\"",
        ),
        (
            &["get", "pods", "--context", "elsewhere"],
            1,
            "context \"elsewhere\" is not served",
        ),
        (
            &["get", "pods", "--limit", "5000000"],
            1,
            "larger than the daemon accepts",
        ),
        (&["get", "pods", "--timeout", "soon"], 2, "not a duration"),
    ];
    for (args, code, message) in cases {
        let output = daemon.cli(args);
        assert_eq!(
            output.status.code(),
            Some(*code),
            "timoneiro {args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(message),
            "timoneiro {args:?}: {}",
            stderr(&output)
        );
        if *code == 1 {
            assert_eq!(
                stderr(&output).lines().count(),
                1,
                "one-line errors: {}",
                stderr(&output)
            );
        }
    }
    // The daemon keeps serving after bad requests.
    assert!(daemon.cli(&["get", "pods", "-A"]).status.success());

    // No daemon: say so, and how to start one.
    let nowhere = daemon.dir.path().join("nobody.sock");
    let output = timoneiro_tests::harness::cli(&nowhere, &["get", "pods"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("timoneirod is not running")
            && stderr(&output).contains("start it"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_or_invalid_kubeconfig_is_fatal_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-kubeconfig");
    let output = Daemon::command(&missing, &dir.path().join("d.sock"))
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no-such-kubeconfig") && stderr(&output).contains("no such file"),
        "{}",
        stderr(&output)
    );
    // Unreadable (a directory: root reads any file, so permissions cannot make one).
    let unreadable = dir.path().join("kubeconfig.d");
    std::fs::create_dir(&unreadable).expect("mkdir");
    let output = Daemon::command(&unreadable, &dir.path().join("d.sock"))
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("kubeconfig.d") && stderr(&output).contains("Is a directory"),
        "{}",
        stderr(&output)
    );
    let invalid = dir.path().join("invalid");
    std::fs::write(
        &invalid,
        "apiVersion: v1\nclusters: [{name: x, cluster: {server: 1}\n",
    )
    .expect("write");
    let output = Daemon::command(&invalid, &dir.path().join("d.sock"))
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(&format!("invalid kubeconfig {}", invalid.display())),
        "{}",
        stderr(&output)
    );
}

/// Inodes of the TCP sockets in LISTEN state (IPv4 and IPv6).
fn tcp_listening_inodes() -> BTreeSet<String> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    // st is the 4th field; 0A is LISTEN; the inode is the 10th.
                    (fields.get(3) == Some(&"0A")).then(|| fields.get(9).map(|i| i.to_string()))?
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Inodes of the sockets a process holds open.
fn socket_inodes(pid: u32) -> BTreeSet<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd dir")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().to_string();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_is_private_single_and_cleaned_up() {
    use std::os::unix::fs::PermissionsExt;
    let sim = Sim::start(&["--pods", "50", "--namespaces", "1"]);
    let mut daemon = Daemon::start(&sim.kubeconfig);
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&daemon.socket), 0o600, "socket");
    assert_eq!(
        mode(daemon.socket.parent().expect("dir")),
        0o700,
        "socket directory"
    );
    // Nothing listens on TCP: the sockets the daemon holds are none of the
    // listening ones in /proc/net/tcp{,6}.
    daemon.wait_synced(Duration::from_secs(60));
    let listening = tcp_listening_inodes();
    assert!(
        !listening.is_empty(),
        "the sim listens, so the check can see listeners"
    );
    let held = socket_inodes(daemon.pid());
    assert!(
        !held.is_empty(),
        "the daemon holds sockets (its own and the API server's)"
    );
    assert!(
        held.is_disjoint(&listening),
        "timoneirod listens on TCP: {:?}",
        held.intersection(&listening).collect::<Vec<_>>()
    );

    // A second daemon on the same socket refuses to steal it.
    let second = Daemon::command(&sim.kubeconfig, &daemon.socket)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run");
    assert!(!second.status.success());
    assert!(
        stderr(&second).contains("already serving"),
        "{}",
        stderr(&second)
    );
    assert!(
        daemon.cli(&["status"]).status.success(),
        "the first daemon still serves"
    );

    // SIGTERM: graceful exit, socket removed.
    let status = daemon.signal("TERM");
    assert!(status.success(), "exit status {status:?}");
    assert!(!daemon.socket.exists(), "socket removed on shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_daemon_leaves_a_socket_that_does_not_block_the_next() {
    let sim = Sim::start(&["--pods", "50", "--namespaces", "1"]);
    let mut daemon = Daemon::start(&sim.kubeconfig);
    let socket = daemon.socket.clone();
    daemon.signal("KILL");
    assert!(socket.exists(), "SIGKILL leaves the socket file behind");
    let output = daemon.cli(&["status"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not running"),
        "{}",
        stderr(&output)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let next = Daemon::start_at(&sim.kubeconfig, socket, dir);
    next.wait_synced(Duration::from_secs(60));
    assert!(
        next.log_text().contains("removing a stale socket"),
        "{}",
        next.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_kind_is_an_error_while_the_others_work() {
    let sim = Sim::start(&["--pods", "100", "--namespaces", "2", "--forbid", "secrets"]);
    let daemon = Daemon::start(&sim.kubeconfig);
    let status = daemon.wait_status(
        Duration::from_secs(60),
        "secrets ERROR and the rest SYNCED",
        |kinds| {
            kinds.iter().all(|k| {
                if k["kind"] == "secrets" {
                    k["state"] == "ERROR"
                } else {
                    k["state"] == "SYNCED" || !starts_by_itself(k)
                }
            })
        },
    );
    let secrets = status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|k| k["kind"] == "secrets")
        .cloned()
        .expect("secrets");
    assert!(
        secrets["message"]
            .as_str()
            .unwrap_or("")
            .contains("cannot list resource \"secrets\""),
        "{secrets}"
    );
    let output = daemon.cli(&["get", "secrets", "-A"]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(stderr(&output).contains("forbidden"), "{}", stderr(&output));
    let text = stdout(&daemon.cli(&["status"]));
    assert!(
        text.lines()
            .any(|l| l.starts_with("secrets ") && l.contains("ERROR")),
        "{text}"
    );
    assert!(daemon.cli(&["get", "pods", "-A"]).status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_kind_that_never_syncs_times_out() {
    // An "API server" that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        timoneiro_sim::kubeconfig(addr, "token", "default", None, None),
    )
    .expect("write");
    let daemon = Daemon::start(&kubeconfig);
    let started = Instant::now();
    let output = daemon.cli(&["get", "pods", "--timeout", "1s"]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("timed out after 1s waiting for pods"),
        "{}",
        stderr(&output)
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    let status = daemon.cli_json(&["status", "-o", "json"]);
    let pods: BTreeMap<String, Value> = status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .map(|k| (k["kind"].as_str().unwrap_or("").to_string(), k.clone()))
        .collect();
    assert_eq!(pods["pods"]["state"], "LOADING");
    assert_eq!(
        pods["deployments"]["state"], "PENDING",
        "tier 2 waits for pods"
    );
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

/// The sim serves HTTPS with its own CA and wants its bearer token, as a real
/// cluster does: a kubeconfig with another CA or a wrong (or expired) token
/// gets an error that says which, while the daemon keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_or_token_is_a_clear_error() {
    use base64::Engine as _;
    let sim = Sim::start(&["--pods", "20", "--namespaces", "1"]);
    let kubeconfig = std::fs::read_to_string(&sim.kubeconfig).expect("kubeconfig");
    assert!(kubeconfig.contains("server: https://"), "{kubeconfig}");
    assert!(
        kubeconfig.contains("certificate-authority-data: "),
        "{kubeconfig}"
    );

    let wrong_token = sim.dir.path().join("wrong-token");
    std::fs::write(
        &wrong_token,
        kubeconfig.replace("token: timoneiro-sim-token", "token: expired-token"),
    )
    .expect("write");
    let daemon = Daemon::start(&wrong_token);
    let output = daemon.cli(&["get", "pods", "--timeout", "20s"]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Unauthorized (401)") && stderr(&output).contains("credentials"),
        "{}",
        stderr(&output)
    );
    drop(daemon);

    let other_ca = timoneiro_sim::tls::Authority::new("another CA").expect("CA");
    let ca_line = kubeconfig
        .lines()
        .find(|l| l.contains("certificate-authority-data: "))
        .expect("CA line");
    let wrong_ca = sim.dir.path().join("wrong-ca");
    std::fs::write(
        &wrong_ca,
        kubeconfig.replace(
            ca_line,
            &format!(
                "    certificate-authority-data: {}",
                base64::engine::general_purpose::STANDARD.encode(&other_ca.pem)
            ),
        ),
    )
    .expect("write");
    let daemon = Daemon::start(&wrong_ca);
    let output = daemon.cli(&["get", "pods", "--timeout", "3s"]);
    assert_ne!(output.status.code(), Some(0), "{}", stderr(&output));
    let status = daemon.cli(&["status"]);
    let text = stdout(&status);
    assert!(
        text.contains("does not verify against the context's certificate authority"),
        "the status names the certificate problem: {text}\n{}",
        stderr(&output)
    );
    // The daemon keeps serving its clients.
    assert!(daemon.cli(&["version"]).status.success());
}

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

/// Only the daemon's own user may talk to it. The socket's 0700 directory
/// already keeps others out; this opens the directory up on purpose to prove
/// the second line of defence, the peer-credential check, as another user.
/// Our own CLI would not even try (its directory is not the other user's,
/// see the next test), so the other user knocks with curl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_is_refused_even_when_the_socket_is_reachable() {
    use std::os::unix::fs::PermissionsExt;
    if rustix::process::getuid().as_raw() != 0 {
        eprintln!(
            "skipped: switching to another user needs root (the unit test of peer_allowed still runs)"
        );
        return;
    }
    let (_sim, daemon) = synced_cluster(&["--pods", "10", "--namespaces", "1"]);
    let open = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    open(daemon.dir.path(), 0o755);
    open(daemon.socket.parent().expect("socket dir"), 0o755);
    open(&daemon.socket, 0o666);

    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["curl", "-sS", "--max-time", "10", "--http2-prior-knowledge"])
        .arg("--unix-socket")
        .arg(&daemon.socket)
        .args([
            "-X",
            "POST",
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
        ])
        .args([
            "--data-binary",
            "",
            "http://timoneirod/timoneiro.v1.Timoneiro/Info",
        ])
        .output()
        .expect("setpriv curl");
    assert!(
        !output.status.success() && stdout(&output).is_empty(),
        "another user was answered: {} {}",
        stdout(&output),
        stderr(&output)
    );
    eventually("the refusal to be logged", Duration::from_secs(10), || {
        daemon
            .log_text()
            .contains("refused a connection from another user")
    });
    assert!(
        daemon.log_text().contains("peer_uid=65534"),
        "{}",
        daemon.log_text()
    );
    // The owner's own client will not use a directory others may enter…
    let output = daemon.cli(&["get", "pods", "-A"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("mode 755"), "{}", stderr(&output));
    // …and is served again once it is private.
    open(daemon.socket.parent().expect("socket dir"), 0o700);
    assert!(daemon.cli(&["get", "pods", "-A"]).status.success());
}

/// A client talks only to its own user's daemon, in a directory that is its
/// own: another local user who can put a socket where the client looks
/// (the `/tmp/timoneiro-<uid>` fallback) must not be able to serve it false
/// cluster state. Here root plays the attacker and uid 65534 the victim.
#[test]
fn a_client_refuses_a_socket_it_cannot_trust() {
    use std::os::unix::fs::PermissionsExt;
    if rustix::process::getuid().as_raw() != 0 {
        eprintln!("skipped: playing two users needs root (the unit tests still run)");
        return;
    }
    let base = tempfile::tempdir().expect("tempdir");
    let chmod = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    chmod(base.path(), 0o755);
    let cli = base.path().join("timoneiro");
    std::fs::copy(timoneiro_tests::harness::bin("timoneiro"), &cli).expect("copy the CLI");
    chmod(&cli, 0o755);
    let as_victim = |socket: &std::path::Path| {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .env("TIMONEIRO_NO_AUTOSTART", "1")
            .env("XDG_CONFIG_HOME", base.path().join("no-config"))
            .arg(&cli)
            .arg("--socket")
            .arg(socket)
            .args(["get", "pods", "-A"])
            .output()
            .expect("setpriv")
    };

    // The victim's own directory (65534, 0700), with a server of root's in it.
    let theirs = base.path().join("victim");
    std::fs::create_dir(&theirs).expect("mkdir");
    chmod(&theirs, 0o700);
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown");
    let planted = theirs.join("timoneirod.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&planted).expect("bind");
    chmod(&planted, 0o666);
    let output = as_victim(&planted);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("it runs as uid 0, not as you (uid 65534)"),
        "{}",
        stderr(&output)
    );

    // A directory of root's that the victim may enter: whatever listens
    // there, the client does not even connect.
    let foreign = base.path().join("foreign");
    std::fs::create_dir(&foreign).expect("mkdir");
    chmod(&foreign, 0o755);
    let socket = foreign.join("timoneirod.sock");
    let _other = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    chmod(&socket, 0o666);
    let output = as_victim(&socket);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "the socket directory {} is not safe: it belongs to uid 0, not to you (uid 65534)",
            foreign.display()
        )),
        "{}",
        stderr(&output)
    );
}

/// Several daemons started at once on one stale socket (the login of a
/// shell that starts one, a unit and a script): exactly one serves, the
/// others say another is serving, and none is left running without its
/// socket (the stale check and the bind happen under one lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemons_racing_for_a_stale_socket_leave_exactly_one_serving() {
    use std::os::unix::fs::PermissionsExt;
    let sim = Sim::start(&["--pods", "10", "--namespaces", "1"]);
    for round in 0..6 {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("mkdir");
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let socket = run.join("timoneirod.sock");
        // A crash leaves this behind: a socket file nobody listens on.
        drop(std::os::unix::net::UnixListener::bind(&socket).expect("stale socket"));
        let mut racers: Vec<std::process::Child> = (0..4)
            .map(|_| {
                Daemon::command(&sim.kubeconfig, &socket)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("start timoneirod")
            })
            .collect();
        // Wait until all but one have given up (or 30 s).
        let (running, refused) = eventually(
            "all racers but one to give up",
            Duration::from_secs(30),
            || {
                let (mut refused, mut running) = (0, 0);
                for racer in &mut racers {
                    match racer.try_wait().expect("wait") {
                        Some(status) => {
                            assert!(!status.success(), "round {round}: a racer exited cleanly");
                            refused += 1;
                        }
                        None => running += 1,
                    }
                }
                if running <= 1 {
                    Ok((running, refused))
                } else {
                    Err(format!("{running} still running"))
                }
            },
        );
        assert_eq!(
            (running, refused),
            (1, 3),
            "round {round}: exactly one daemon runs"
        );
        assert!(
            timoneiro_tests::harness::cli(&socket, &["status"])
                .status
                .success()
        );
        for mut racer in racers {
            let _ = racer.kill();
            let _ = racer.wait();
        }
    }
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
