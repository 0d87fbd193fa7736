//! Warm restarts: a daemon stopped as systemd stops it writes a snapshot of
//! its caches; the next one serves it at once, STALE, while it lists again.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use timoneiro_tests::harness::{
    Daemon, Sim, eventually, eventually_async, stderr, stdout, synced_cluster,
};

/// The sim's pods as `namespace/name`.
async fn sim_pods(sim: &Sim) -> BTreeSet<String> {
    let list = sim.json("GET", "/api/v1/pods").await;
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|pod| {
            format!(
                "{}/{}",
                pod["metadata"]["namespace"].as_str().unwrap_or_default(),
                pod["metadata"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// The pods `timoneiro get pods -A` prints, as `namespace/name`.
fn listed(output: &std::process::Output) -> BTreeSet<String> {
    stdout(output)
        .lines()
        .filter_map(|line| {
            let mut cells = line.split_whitespace();
            Some(format!("{}/{}", cells.next()?, cells.next()?))
        })
        .collect()
}

/// The snapshot files of a daemon (one per context and server).
fn snapshots(daemon: &Daemon) -> Vec<PathBuf> {
    let dir = Daemon::cache_home(&daemon.socket).join("timoneiro");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|e| e == "snapshot"));
    files
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// The pod `namespace/name` created (`POST /sim/pods`).
fn created_pod(created: &Value) -> String {
    format!(
        "{}/{}",
        created["namespace"].as_str().expect("namespace"),
        created["name"].as_str().expect("name")
    )
}

/// Wait until `get pods -A` is no longer STALE and shows `new_pod`, and
/// `status` says pods SYNCED.
fn wait_synced_with(daemon: &Daemon, new_pod: &str) {
    eventually(
        "the pods synced again, the new pod with them",
        Duration::from_secs(90),
        || {
            let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
            let pods = listed(&output);
            if output.status.success()
                && !stderr(&output).contains("STALE")
                && pods.contains(new_pod)
            {
                Ok(())
            } else {
                Err(format!("{} pods: {}", pods.len(), stderr(&output)))
            }
        },
    );
    let status = daemon.cli_json(&["status", "-o", "json"]);
    let pods = status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|k| k["kind"] == "pods")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(pods["state"], "SYNCED", "{pods}");
}

fn log(daemon: &Daemon) -> String {
    std::fs::read_to_string(&daemon.log).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_daemon_serves_its_snapshot_at_once_then_lists() {
    let (sim, mut daemon) = synced_cluster(&["--pods", "300", "--namespaces", "3"]);
    let before = sim_pods(&sim).await;
    assert_eq!(
        listed(&daemon.cli(&["get", "pods", "-A", "--no-headers"])),
        before
    );

    // SIGTERM writes the snapshot: a file only its user reads, in a
    // directory only its user enters.
    assert!(daemon.terminate().success(), "{}", log(&daemon));
    let (lists, _) = sim.requests_for("pods").await;
    let files = snapshots(&daemon);
    assert_eq!(files.len(), 1, "{files:?}\n{}", log(&daemon));
    assert_eq!(mode(&files[0]), 0o600);
    assert_eq!(mode(files[0].parent().expect("dir")), 0o700);
    assert!(
        log(&daemon).contains("snapshot written"),
        "{}",
        log(&daemon)
    );

    // The cluster changes while no daemon runs, then its API server goes
    // away: whatever the next daemon shows at first is the snapshot.
    let created = sim.json("POST", "/sim/pods").await;
    let new_pod = created_pod(&created);
    assert!(!before.contains(&new_pod));
    sim.fault("outage?seconds=20").await;
    let daemon = daemon.restart(&sim.kubeconfig);
    // Asked once the pods' first attempt has failed (a user a moment after
    // a reboot with the network down), not in the instant before it: the
    // snapshot's rows are still served.
    eventually(
        "the pods' first attempt failed",
        Duration::from_secs(30),
        || {
            let text = log(&daemon);
            if text.contains("informer failed; relisting after backoff kind=pods") {
                Ok(())
            } else {
                Err(text)
            }
        },
    );
    let output = daemon.cli(&["get", "pods", "-A", "--no-headers", "--timeout", "2s"]);
    assert!(
        output.status.success(),
        "{}\n{}",
        stderr(&output),
        log(&daemon)
    );
    assert_eq!(listed(&output), before, "the snapshot's pods, at once");
    assert!(
        stderr(&output).contains("STALE (rows from the snapshot of"),
        "{}",
        stderr(&output)
    );
    assert!(
        log(&daemon).contains("snapshot restored"),
        "{}",
        log(&daemon)
    );

    // Once the API server is back, the watch resumes from the snapshot's
    // resourceVersion: the new pod comes as a watch event, and the pods are
    // never listed again.
    sim.wait_reachable(Duration::from_secs(60)).await;
    wait_synced_with(&daemon, &new_pod);
    assert_eq!(
        sim.requests_for("pods").await.0,
        lists,
        "no pod LIST after the restart"
    );
    assert!(
        log(&daemon).contains("kind=pods")
            && log(&daemon).contains("resumed from the snapshot, no list"),
        "{}",
        log(&daemon)
    );
}

/// A snapshot older than the API server's history (here: compacted while
/// no daemon ran) is served at once all the same; its watch gets 410 Gone,
/// and the kind is listed as on a first start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_older_than_the_servers_history_is_listed_again() {
    let (sim, mut daemon) = synced_cluster(&["--pods", "200", "--namespaces", "2"]);
    assert!(daemon.terminate().success(), "{}", log(&daemon));
    let (lists, _) = sim.requests_for("pods").await;
    let created = sim.json("POST", "/sim/pods").await;
    let new_pod = created_pod(&created);
    sim.json("POST", "/sim/compact").await;
    let daemon = daemon.restart(&sim.kubeconfig);
    wait_synced_with(&daemon, &new_pod);
    assert_eq!(
        listed(&daemon.cli(&["get", "pods", "-A", "--no-headers"])),
        sim_pods(&sim).await
    );
    assert!(
        sim.requests_for("pods").await.0 > lists,
        "pods listed again"
    );
}

/// A kind nothing changes in resumes after a restart from the last
/// BOOKMARK its watch got, not from its list's resourceVersion: the
/// server compacts its history while the kind is quiet (etcd, every five
/// minutes), and a watch from the list's version would get 410 Gone and
/// list the kind again for nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_kind_resumes_from_its_last_bookmark() {
    let (sim, daemon) = synced_cluster(&[
        "--pods",
        "60",
        "--namespaces",
        "2",
        "--bookmark-interval",
        "1",
    ]);
    // Pods change, services do not: the cluster's resourceVersion moves
    // past the services' list, whose version then leaves the history.
    sim.json("POST", "/sim/pods").await;
    sim.json("POST", "/sim/compact").await;
    // Each open watch gets a BOOKMARK a second: wait for two rounds.
    let info = sim.json("GET", "/sim/info").await;
    let count = |info: &Value, key: &str| info[key].as_u64().expect(key);
    let (sent, watches) = (count(&info, "bookmarks"), count(&info, "openWatches"));
    eventually_async(
        "two BOOKMARKs for every watch since the compaction",
        Duration::from_secs(30),
        || async {
            let now = count(&sim.json("GET", "/sim/info").await, "bookmarks");
            if now >= sent + 2 * watches {
                Ok(())
            } else {
                Err(format!("{} of {} sent", now - sent, 2 * watches))
            }
        },
    )
    .await;

    let (lists, _) = sim.requests_for("services").await;
    let daemon = daemon.restart(&sim.kubeconfig);
    daemon.wait_status(Duration::from_secs(60), "services SYNCED", |kinds| {
        kinds
            .iter()
            .any(|k| k["kind"] == "services" && k["state"] == "SYNCED")
    });
    assert_eq!(
        sim.requests_for("services").await.0,
        lists,
        "no service LIST after the restart\n{}",
        log(&daemon)
    );
    assert!(
        log(&daemon)
            .lines()
            .any(|line| line.contains("kind=services")
                && line.contains("resumed from the snapshot, no list")),
        "{}",
        log(&daemon)
    );
}

/// A damaged snapshot, or one written for another API server, is never
/// used: the daemon says so in its log and lists as if there were none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_or_foreign_snapshots_are_ignored() {
    let (sim, mut daemon) = synced_cluster(&["--pods", "120", "--namespaces", "2"]);
    let (other, mut stranger) = synced_cluster(&["--pods", "50", "--namespaces", "1"]);
    let pods = sim_pods(&sim).await;
    assert!(daemon.terminate().success());
    assert!(stranger.terminate().success());
    let ours = snapshots(&daemon).pop().expect("a snapshot");
    let theirs = snapshots(&stranger)
        .pop()
        .expect("the other daemon's snapshot");

    // Damaged: bytes in the middle changed.
    let mut bytes = std::fs::read(&ours).expect("read");
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 16] {
        *byte ^= 0x5a;
    }
    std::fs::write(&ours, &bytes).expect("write");
    let mut daemon = daemon.restart(&sim.kubeconfig);
    let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(listed(&output), pods, "listed from the API server");
    assert!(!stderr(&output).contains("STALE"), "{}", stderr(&output));
    let text = log(&daemon);
    assert!(
        text.contains("snapshot ignored") && text.contains("damaged"),
        "{text}"
    );
    assert!(!text.contains("snapshot restored"), "{text}");

    // Foreign: a whole snapshot, but of the other sim's cluster.
    assert!(daemon.terminate().success());
    std::fs::copy(&theirs, &ours).expect("copy");
    let daemon = daemon.restart(&sim.kubeconfig);
    let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(listed(&output), pods);
    let text = log(&daemon);
    assert!(
        text.contains("snapshot ignored") && text.contains("written by the context"),
        "{text}"
    );
    drop(other);
}
