//! Clear errors: bad input and exit codes, a broken kubeconfig, a forbidden
//! kind, a kind that never syncs, a wrong CA or token.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use timoneiro_tests::harness::{
    Daemon, Sim, kubeconfig_for, starts_by_itself, stderr, stdout, synced_cluster,
};

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
    let (_dir, kubeconfig) = kubeconfig_for(addr);
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
