//! Several clusters warm at once: one daemon serves every
//! context of the kubeconfig, starts each on first use, drops idle ones, and
//! follows kubeconfig changes (a new context, a rotated token) without a
//! restart.

use std::path::Path;
use std::time::{Duration, Instant};

use kube::config::Kubeconfig;
use serde_json::Value;
use timoneiro_tests::harness::{Daemon, Sim, eventually, stderr, stdout};

/// One kubeconfig with a context per (name, sim, token), the first current.
fn write_kubeconfig(path: &Path, contexts: &[(&str, &Sim, Option<&str>)]) {
    let mut merged = Kubeconfig {
        current_context: Some(contexts[0].0.to_string()),
        ..Kubeconfig::default()
    };
    for (name, sim, token) in contexts {
        let mut one = Kubeconfig::read_from(&sim.kubeconfig).expect("sim kubeconfig");
        let mut cluster = one.clusters.remove(0);
        cluster.name = name.to_string();
        let mut user = one.auth_infos.remove(0);
        user.name = name.to_string();
        if let (Some(token), Some(auth)) = (token, user.auth_info.as_mut()) {
            auth.token = Some(token.to_string().into());
        }
        let mut context = one.contexts.remove(0);
        context.name = name.to_string();
        if let Some(inner) = context.context.as_mut() {
            inner.cluster = name.to_string();
            inner.user = Some(name.to_string());
        }
        merged.clusters.push(cluster);
        merged.auth_infos.push(user);
        merged.contexts.push(context);
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&merged).expect("json")).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

fn contexts(daemon: &Daemon) -> Vec<Value> {
    daemon.cli_json(&["contexts", "-o", "json"])["contexts"]
        .as_array()
        .expect("contexts")
        .clone()
}

fn context<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no context {name}: {all:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clusters_served_at_once_evicted_when_idle_and_reloaded_from_the_kubeconfig() {
    let a = Sim::start(&["--pods", "20", "--namespaces", "1"]);
    let b = Sim::start(&["--pods", "35", "--namespaces", "1", "--seed", "7"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    write_kubeconfig(&kubeconfig, &[("a", &a, None), ("b", &b, None)]);
    let daemon = Daemon::start_with(&kubeconfig, &["--idle-evict", "3s"]);
    daemon.wait_synced(Duration::from_secs(60));

    let all = contexts(&daemon);
    assert_eq!(context(&all, "a")["default"], true);
    assert_eq!(context(&all, "a")["cached"], true);
    assert_eq!(context(&all, "b")["cached"], false, "b starts on first use");

    // Each context answers from its own cluster.
    let count = |args: &[&str]| {
        let output = daemon.cli(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output).lines().count()
    };
    assert_eq!(
        count(&["get", "pods", "-A", "--no-headers", "--context", "b"]),
        35
    );
    assert_eq!(count(&["get", "pods", "-A", "--no-headers"]), 20);
    let all = contexts(&daemon);
    let b_state = context(&all, "b");
    assert_eq!(b_state["cached"], true);
    assert!(b_state["objects"].as_u64().unwrap_or(0) >= 35, "{b_state}");
    assert!(
        b_state["memoryBytes"].as_u64().unwrap_or(0) > 0,
        "{b_state}"
    );
    let table = stdout(&daemon.cli(&["contexts"]));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with('*') && l.contains(" a ")),
        "{table}"
    );

    // Idle: b's caches are dropped; the default stays.
    eventually("b evicted", Duration::from_secs(30), || {
        context(&contexts(&daemon), "b")["cached"] == false
    });
    assert_eq!(context(&contexts(&daemon), "a")["cached"], true);

    // A context added to the kubeconfig is served without a restart.
    write_kubeconfig(
        &kubeconfig,
        &[("a", &a, None), ("b", &b, None), ("c", &b, None)],
    );
    assert_eq!(
        count(&["get", "pods", "-A", "--no-headers", "--context", "c"]),
        35
    );

    // A rotated token: the old one is refused, the kubeconfig's new one is picked up.
    assert_eq!(
        count(&["get", "pods", "-A", "--no-headers", "--context", "b"]),
        35
    );
    b.json("POST", "/sim/token?value=rotated-token").await;
    b.fault("end-watches").await;
    eventually(
        "b refused with the old token",
        Duration::from_secs(30),
        || {
            let output = daemon.cli(&["get", "pods", "-A", "--context", "b", "--timeout", "1s"]);
            output.status.code() == Some(5) && stderr(&output).contains("Unauthorized")
        },
    );
    write_kubeconfig(
        &kubeconfig,
        &[
            ("a", &a, None),
            ("b", &b, Some("rotated-token")),
            ("c", &b, None),
        ],
    );
    eventually(
        "b served with the new token",
        Duration::from_secs(30),
        || {
            let output = daemon.cli(&[
                "get",
                "pods",
                "-A",
                "--no-headers",
                "--context",
                "b",
                "--timeout",
                "5s",
            ]);
            output.status.success() && stdout(&output).lines().count() == 35
        },
    );
    assert!(
        daemon
            .log_text()
            .contains("the kubeconfig changed for this context")
    );
}

/// `kubectl config use-context b` moves every request that names no
/// context to b, as it moves kubectl: the daemon follows the kubeconfig's
/// current-context (and starts it at once). A daemon started with
/// `--context` stays where it was told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_context_follow_use_context() {
    let a = Sim::start(&["--pods", "20", "--namespaces", "1"]);
    let b = Sim::start(&["--pods", "35", "--namespaces", "1", "--seed", "7"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    write_kubeconfig(&kubeconfig, &[("a", &a, None), ("b", &b, None)]);
    let following = Daemon::start(&kubeconfig);
    let pinned = Daemon::start_with(&kubeconfig, &["--context", "a"]);
    following.wait_synced(Duration::from_secs(60));
    pinned.wait_synced(Duration::from_secs(60));
    let pods = |daemon: &Daemon| {
        let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output).lines().count()
    };
    assert_eq!((pods(&following), pods(&pinned)), (20, 20));

    // kubectl config use-context b (the first context written is current).
    write_kubeconfig(&kubeconfig, &[("b", &b, None), ("a", &a, None)]);
    eventually("requests follow to b", Duration::from_secs(30), || {
        pods(&following) == 35
    });
    let all = contexts(&following);
    assert_eq!(context(&all, "b")["default"], true, "{all:?}");
    assert_eq!(context(&all, "a")["default"], false, "{all:?}");
    assert!(
        following.log_text().contains("current-context changed"),
        "{}",
        following.log_text()
    );
    assert_eq!(pods(&pinned), 20, "--context a pins the default");
}

/// The CA, client certificate and key, and token files a kubeconfig names
/// are part of a context: rotating one on disk restarts the context with it.
/// Here the CA file first holds another cluster's CA (every kind fails to
/// verify the server), then the right one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_ca_file_is_picked_up() {
    use base64::Engine as _;
    let sim = Sim::start(&["--pods", "20", "--namespaces", "1"]);
    let stranger = Sim::start(&["--pods", "1", "--namespaces", "1"]);
    let ca_of = |sim: &Sim| {
        let config = Kubeconfig::read_from(&sim.kubeconfig).expect("kubeconfig");
        let data = config.clusters[0]
            .cluster
            .as_ref()
            .and_then(|c| c.certificate_authority_data.clone())
            .expect("CA data");
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64")
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_of(&stranger)).expect("write CA");
    let mut config = Kubeconfig::read_from(&sim.kubeconfig).expect("kubeconfig");
    if let Some(cluster) = config.clusters[0].cluster.as_mut() {
        cluster.certificate_authority_data = None;
        cluster.certificate_authority = Some(ca.display().to_string());
    }
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, serde_json::to_vec(&config).expect("json")).expect("write");

    let daemon = Daemon::start(&kubeconfig);
    let mut log = daemon.status_log();
    let refused = log.wait_kind(Duration::from_secs(60), "pods", "ERROR");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("certificate")),
        "{refused}"
    );
    drop(log);

    let tmp = dir.path().join("ca.pem.tmp");
    std::fs::write(&tmp, ca_of(&sim)).expect("write CA");
    std::fs::rename(&tmp, &ca).expect("rotate CA");
    eventually(
        "pods synced with the rotated CA",
        Duration::from_secs(60),
        || {
            let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
            output.status.success() && stdout(&output).lines().count() == 20
        },
    );
}

/// A user of the sim's whose token comes from an exec credential plugin (a
/// script, as aws, gke-gcloud-auth-plugin and kubelogin are programs): it
/// marks `started`, takes `seconds`, prints the token (or fails when the
/// token is empty), marks `done`, and counts its runs in `runs`.
fn exec_plugin(dir: &Path, name: &str, token: &str, seconds: u32) -> String {
    use std::os::unix::fs::PermissionsExt;
    let marks = dir.join(name);
    std::fs::create_dir_all(&marks).expect("mkdir");
    let script = marks.join("plugin.sh");
    let answer = if token.is_empty() {
        "echo 'error: the identity provider refused' >&2; exit 1".to_string()
    } else {
        format!(
            "echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'"
        )
    };
    let m = marks.display();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> {m}/runs\ntouch {m}/started\nsleep {seconds}\ntouch {m}/done\n{answer}\n"
        ),
    )
    .expect("write the plugin");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    format!(
        "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never",
        script.display()
    )
}

/// Exec plugins run off the daemon's locks, one at a time per context, and
/// a failing one is not run again on every request: while one takes its
/// time, `Info` (what every client asks first) and the other contexts
/// answer, before the plugin is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_exec_plugin_stalls_nobody_and_a_failing_one_is_not_rerun() {
    let sim = Sim::start(&["--pods", "20", "--namespaces", "1"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Kubeconfig::read_from(&sim.kubeconfig).expect("kubeconfig");
    let token = std::fs::read_to_string(&sim.kubeconfig)
        .expect("kubeconfig")
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: ").map(str::to_string))
        .expect("the sim's token");
    let slow = exec_plugin(dir.path(), "slow", &token, 3);
    let failing = exec_plugin(dir.path(), "failing", "", 0);
    let server = format!("https://{}", sim.addr());
    let ca = config.clusters[0]
        .cluster
        .as_ref()
        .and_then(|c| c.certificate_authority_data.clone())
        .expect("CA");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1
kind: Config
current-context: plain
clusters:
- name: sim
  cluster:
    server: {server}
    certificate-authority-data: {ca}
- name: sim-insecure
  cluster:
    server: {server}
    insecure-skip-tls-verify: true
users:
- name: plain
  user:
    token: {token}
- name: slow
  user:
    {slow}
- name: failing
  user:
    {failing}
contexts:
- name: plain
  context: {{cluster: sim, user: plain}}
- name: slow
  context: {{cluster: sim, user: slow}}
- name: failing
  context: {{cluster: sim, user: failing}}
- name: insecure
  context: {{cluster: sim-insecure, user: plain}}
"
        ),
    )
    .expect("write the kubeconfig");
    let daemon = Daemon::start(&kubeconfig);
    daemon.wait_synced(Duration::from_secs(60));

    let marks = dir.path().join("slow");
    let socket = daemon.socket.clone();
    let slow_get = std::thread::spawn(move || {
        timoneiro_tests::harness::cli(
            &socket,
            &["get", "pods", "-A", "--no-headers", "--context", "slow"],
        )
    });
    eventually("the plugin runs", Duration::from_secs(30), || {
        marks.join("started").exists()
    });
    let asked = Instant::now();
    let others = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
    let answered = asked.elapsed();
    let asked = Instant::now();
    let listed = contexts(&daemon);
    // A figure for BENCHMARKS.md, not a threshold.
    eprintln!(
        "while an exec plugin ran: get pods {answered:?}, contexts (Info) {:?}",
        asked.elapsed()
    );
    assert!(
        !marks.join("done").exists(),
        "Info and the default context waited for the plugin"
    );
    assert!(others.status.success(), "{}", stderr(&others));
    assert_eq!(stdout(&others).lines().count(), 20);
    assert_eq!(context(&listed, "slow")["cached"], false, "{listed:?}");
    let slow_get = slow_get.join().expect("the slow get");
    assert!(slow_get.status.success(), "{}", stderr(&slow_get));
    assert_eq!(stdout(&slow_get).lines().count(), 20);

    // A plugin that fails: named, and not run again on the next requests.
    for _ in 0..3 {
        let output = daemon.cli(&["get", "pods", "-A", "--context", "failing"]);
        assert!(!output.status.success());
        assert!(
            stderr(&output).contains("the identity provider refused")
                || stderr(&output).contains("exit"),
            "{}",
            stderr(&output)
        );
    }
    let runs = std::fs::read_to_string(dir.path().join("failing/runs")).unwrap_or_default();
    assert_eq!(runs.lines().count(), 1, "the failing plugin ran {runs:?}");

    // insecure-skip-tls-verify: no CA, and served.
    let insecure = daemon.cli(&["get", "pods", "-A", "--no-headers", "--context", "insecure"]);
    assert!(insecure.status.success(), "{}", stderr(&insecure));
    assert_eq!(stdout(&insecure).lines().count(), 20);
}

/// Client-certificate authentication (mutual TLS, as kubeadm's admin.conf):
/// the kubeconfig has no token, the daemon syncs, and keeps syncing after
/// the sim's bearer token is rotated away (the certificate is what counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_authenticates_the_daemon() {
    let sim = Sim::start(&["--pods", "25", "--namespaces", "1", "--client-certificate"]);
    let text = std::fs::read_to_string(&sim.kubeconfig).expect("kubeconfig");
    assert!(
        text.contains("client-certificate-data:") && !text.contains("token:"),
        "{text}"
    );
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(Duration::from_secs(60));
    sim.json("POST", "/sim/token?value=rotated-away").await;
    sim.fault("drop-watches").await;
    let created = sim.create_pod("ns-000", &serde_json::json!({})).await;
    let name = created["name"].as_str().expect("name").to_string();
    eventually("the new pod is seen", Duration::from_secs(30), || {
        daemon
            .cli(&["get", "pods", "-n", "ns-000", &name])
            .status
            .success()
    });
    let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
    assert_eq!(stdout(&output).lines().count(), 26);
}
