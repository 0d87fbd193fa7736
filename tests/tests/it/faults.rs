//! Faults injected in the sim: the daemon marks the affected kinds
//! STALE while it keeps serving its last rows, relists, goes SYNCED again, and
//! its rows end equal to the sim's objects: nothing missing, nothing extra,
//! nothing stale.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use timoneiro_proto::v1::ListRequest;
use timoneiro_tests::harness::{Daemon, Sim, eventually_async, stderr, stdout, synced_cluster};
use timoneirod::catalog::{Catalog, Kind};
use timoneirod::row::RowParts;

/// What a row shows: namespace, name, creation time, cells (text and the
/// moment a relative cell counts from), labels.
type Shown = (
    String,
    String,
    i64,
    Vec<(String, i64)>,
    BTreeMap<String, String>,
);

fn shown(parts: &RowParts) -> Shown {
    (
        parts.namespace.clone(),
        parts.name.clone(),
        parts.created_ms,
        parts
            .cells
            .iter()
            .map(|c| (c.text.to_string(), c.since_ms))
            .collect(),
        parts.labels.iter().cloned().collect(),
    )
}

/// The daemon's rows of a kind, keyed by uid, with the cells `shown` has
/// (the NAMESPACE and NAME columns the answer puts first are left out).
async fn daemon_rows(daemon: &Daemon, kind: &Kind, cells: usize) -> BTreeMap<String, Shown> {
    let mut client = daemon.grpc().await;
    let answer = client
        .list(ListRequest {
            kind: kind.spec().qualified(),
            all_namespaces: true,
            wide: true,
            ..ListRequest::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(answer.rows.len() as u64, answer.total, "every row travels");
    answer
        .rows
        .into_iter()
        .map(|row| {
            let skip = row.cells.len().saturating_sub(cells);
            (
                row.uid,
                (
                    row.namespace,
                    row.name,
                    row.created_unix_ms,
                    row.cells
                        .into_iter()
                        .skip(skip)
                        .map(|c| (c.text, c.since_unix_ms))
                        .collect(),
                    row.labels.into_iter().collect(),
                ),
            )
        })
        .collect()
}

/// How the daemon's rows of `kind` differ from the sim's objects; empty when equal.
pub(crate) async fn difference(sim: &Sim, daemon: &Daemon, kind: &Kind) -> Vec<String> {
    let truth: BTreeMap<String, Shown> = sim
        .rows(kind)
        .await
        .iter()
        .map(|p| (p.uid.clone(), shown(p)))
        .collect();
    let cells = truth.values().next().map_or(0, |s| s.3.len());
    let cached = daemon_rows(daemon, kind, cells).await;
    let mut problems = Vec::new();
    for (uid, row) in &truth {
        match cached.get(uid) {
            None => problems.push(format!("missing {}/{}", row.0, row.1)),
            Some(have) if have != row => {
                problems.push(format!("stale {}/{}: {have:?} != {row:?}", row.0, row.1));
            }
            Some(_) => {}
        }
    }
    for (uid, row) in &cached {
        if !truth.contains_key(uid) {
            problems.push(format!("extra {}/{}", row.0, row.1));
        }
    }
    problems
}

/// Every kind the daemon caches (not PENDING), as the catalog knows it.
fn cached_kinds(daemon: &Daemon) -> Vec<Kind> {
    let status = daemon.cli_json(&["status", "-o", "json"]);
    let catalog = Catalog::builtin();
    status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .filter(|k| k["state"] != "PENDING")
        .filter_map(|k| catalog.resolve(k["kind"].as_str().unwrap_or_default()).ok())
        .collect()
}

/// Wait until, for every cached kind, the daemon's rows equal the sim's
/// objects (the sim must be still); panics with the differences otherwise.
pub(crate) async fn assert_converged(sim: &Sim, daemon: &Daemon, timeout: Duration) {
    let kinds = cached_kinds(daemon);
    assert!(kinds.len() >= 10, "tiers 1-3 are cached: {kinds:?}");
    eventually_async("the daemon to converge to the sim", timeout, || async {
        let mut problems = Vec::new();
        for kind in &kinds {
            for problem in difference(sim, daemon, kind).await {
                problems.push(format!("{}: {problem}", kind.spec().plural));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} differences, first: {:#?}\ndaemon log:\n{}",
            problems.len(),
            &problems[..problems.len().min(10)],
            daemon.log_text()
        ))
    })
    .await;
}

/// kube's watcher resumes a dropped watch from its last resourceVersion,
/// which the sim replays from history: nothing is lost, no relist is needed,
/// and the kinds never stop being SYNCED (a relist would be the waste this
/// daemon exists to avoid). The other faults below make kinds STALE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_watch_resumes_from_its_resource_version_and_loses_nothing() {
    let (sim, daemon) =
        synced_cluster(&["--pods", "300", "--namespaces", "3", "--churn-rate", "50"]);
    let (lists_before, watches_before) = sim.requests_for("pods").await;
    for _ in 0..3 {
        let dropped = sim.fault("drop-watches").await;
        assert!(
            dropped["watches"].as_u64().unwrap_or(0) >= 10,
            "one open watch per cached kind: {dropped}"
        );
        // A watch that ended within a second waits a second before the
        // next (`wire::pace_watch`): wait until they are all open again.
        let dropped = dropped["watches"].as_u64().unwrap_or(0);
        sim.wait_open_watches(dropped, Duration::from_secs(20))
            .await;
    }
    sim.set_churn(0).await;
    assert_converged(&sim, &daemon, Duration::from_secs(20)).await;
    let (lists, watches) = sim.requests_for("pods").await;
    assert!(
        watches >= watches_before + 3,
        "the watch was resumed after each drop ({watches_before} -> {watches})"
    );
    assert_eq!(lists, lists_before, "no relist was needed");
    let status = daemon.cli_json(&["status", "-o", "json"]);
    for kind in status["kinds"].as_array().expect("kinds") {
        assert_ne!(kind["state"], "STALE", "{kind}");
        assert_eq!(
            kind["relists"], 0,
            "the daemon counts no relist either: {kind}"
        );
    }
}

/// Every relist the daemon counted was caused by 410 Gone (a watch or list
/// resourceVersion too old, an expired continue token): its last reason says so.
fn assert_relists_were_gone(daemon: &Daemon) {
    let status = daemon.cli_json(&["status", "-o", "json"]);
    for kind in status["kinds"].as_array().expect("kinds") {
        if kind["relists"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let reason = kind["lastRelistReason"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        assert!(
            reason.contains("too old") || reason.contains("expired"),
            "a relist not caused by 410 Gone: {kind}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_serves_the_last_rows_as_stale_then_recovers() {
    let (sim, daemon) = synced_cluster(&["--pods", "200", "--namespaces", "2"]);
    let before = stdout(&daemon.cli(&["get", "pods", "-A", "--no-headers"]));
    let mut log = daemon.status_log();
    sim.fault("outage?seconds=4").await;
    log.wait_kind(Duration::from_secs(20), "pods", "STALE");

    // While the API server is away, the CLI still answers from the cache and says so.
    let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("pods is STALE"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        stdout(&output).lines().count(),
        before.lines().count(),
        "the last rows are served"
    );

    log.wait_all_synced(Duration::from_secs(60));
    assert_eq!(sim.faults_fired().await["outage"], 1);
    assert_converged(&sim, &daemon, Duration::from_secs(20)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_api_server_under_churn_forces_a_relist_and_converges() {
    let (sim, daemon) =
        synced_cluster(&["--pods", "300", "--namespaces", "3", "--churn-rate", "50"]);
    let mut log = daemon.status_log();
    sim.fault("restart?seconds=1").await;
    log.wait_kind(Duration::from_secs(20), "pods", "STALE");
    log.wait_all_synced(Duration::from_secs(60));
    // Churn went on through the restart; stop it and compare.
    sim.set_churn(0).await;
    assert_converged(&sim, &daemon, Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_in_every_form_makes_the_daemon_relist() {
    // 1200 pods: more than one page of 500, so listing pods sends a continue token.
    let sim = Sim::start(&["--pods", "1200", "--namespaces", "3"]);
    // The daemon's first lists meet an expired continue token and a list 410.
    sim.fault("gone?form=continue&count=1").await;
    sim.fault("gone?form=list&count=2").await;
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(Duration::from_secs(60));
    let fired = sim.faults_fired().await;
    assert_eq!(fired["continue"], 1, "{fired}");
    assert_eq!(fired["list"], 2, "{fired}");
    assert_converged(&sim, &daemon, Duration::from_secs(20)).await;

    // Watches that end cleanly resume from their resourceVersion, which a
    // compaction made too old: 1.36's ERROR event, then an older server's
    // HTTP 410, which only a relist gets past.
    for form in ["watch-event", "watch-http"] {
        // A new pod moves the resourceVersion past the compaction point.
        sim.json("POST", "/sim/pods").await;
        sim.fault(&format!("gone?form={form}")).await;
        sim.json("POST", "/sim/pods").await;
        let mut log = daemon.status_log();
        sim.fault("end-watches").await;
        // Deployments do not change here, so their resourceVersion is before the compaction.
        let stale = log.wait_kind(Duration::from_secs(20), "deployments", "STALE");
        assert!(
            stale["message"]
                .as_str()
                .unwrap_or_default()
                .contains("too old resource version"),
            "STALE says why: {stale}"
        );
        log.wait_all_synced(Duration::from_secs(60));
        let fired = sim.faults_fired().await;
        assert!(
            fired[form].as_u64().unwrap_or(0) >= 1,
            "{form}: the fault fired: {fired}"
        );
        assert_converged(&sim, &daemon, Duration::from_secs(20)).await;
        let status = daemon.cli_json(&["status", "-o", "json"]);
        let deployments = status["kinds"]
            .as_array()
            .expect("kinds")
            .iter()
            .find(|k| k["kind"] == "deployments")
            .cloned()
            .unwrap_or_default();
        assert!(
            deployments["relists"].as_u64().unwrap_or(0) >= 1,
            "{form}: the relist is counted: {deployments}"
        );
        assert_relists_were_gone(&daemon);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_mix_of_faults_under_churn_converges_for_every_kind() {
    let (sim, daemon) =
        synced_cluster(&["--pods", "600", "--namespaces", "4", "--churn-rate", "50"]);
    // Tier 4 kinds opened on demand are cached too.
    assert!(daemon.cli(&["get", "nodes"]).status.success());
    assert!(daemon.cli(&["get", "events", "-A"]).status.success());
    let steady = sim.open_watches().await;
    for fault in [
        "drop-watches",
        "gone?form=watch-http",
        "end-watches",
        "gone?form=list&count=3",
        "gone?form=continue&count=1",
        "gone?form=watch-event",
        "end-watches",
        "outage?seconds=2",
        "drop-watches",
        "restart?seconds=1",
    ] {
        sim.fault(fault).await;
        sim.wait_reachable(Duration::from_secs(10)).await;
        // The daemon's informers are all back before the next fault.
        sim.wait_open_watches(steady, Duration::from_secs(60)).await;
    }
    daemon.status_log().wait_all_synced(Duration::from_secs(90));
    sim.set_churn(0).await;
    assert_converged(&sim, &daemon, Duration::from_secs(30)).await;
}

/// The LIST requests (not watches) the sim has logged, as URIs.
async fn lists_logged(sim: &Sim) -> Vec<String> {
    let log = sim.json("GET", "/sim/requests").await;
    log["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["uri"].as_str())
        .filter(|uri| {
            (uri.starts_with("/api/") || uri.starts_with("/apis/"))
                && !uri.contains("watch=true")
                && uri.contains('?')
        })
        .map(str::to_string)
        .collect()
}

/// The real API server sends every watch a BOOKMARK about once a minute,
/// and for a workload kind it is the whole empty object the Go server
/// writes (`spec.template.metadata` and all: that decoded as a second
/// `metadata` and relisted every workload kind every minute). With a
/// BOOKMARK every second on every watch for a minute, under churn: every
/// watch gets 60 of them, no kind relists (the daemon's count and the
/// sim's request log agree), and every kind stays SYNCED throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_of_bookmarks_on_every_watch_relists_nothing() {
    let sim = Sim::start(&[
        "--pods",
        "300",
        "--churn-rate",
        "5",
        "--bookmark-interval",
        "1",
    ]);
    let daemon = Daemon::start(&sim.kubeconfig);
    let mut log = daemon.status_log();
    // Every built-in kind, tier 4 too (they start on their first query).
    for kind in timoneiro_client::BUILTIN_KINDS {
        let output = daemon.cli(&["get", kind, "-A", "--limit", "1"]);
        assert!(output.status.success(), "{kind}: {}", stderr(&output));
    }
    let synced = log.wait(
        Duration::from_secs(60),
        "every built-in kind SYNCED",
        |kinds| {
            kinds.iter().filter(|k| k["state"] == "SYNCED").count()
                == timoneiro_client::BUILTIN_KINDS.len()
        },
    );
    let watches = synced["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .filter(|k| k["state"] == "SYNCED")
        .count() as u64;
    assert_eq!(
        watches as usize,
        timoneiro_client::BUILTIN_KINDS.len(),
        "{synced}"
    );
    let lists_at_sync = lists_logged(&sim).await.len();
    let bookmarks = || async { sim.json("GET", "/sim/info").await["bookmarks"].as_u64() };
    let first = bookmarks().await.expect("the sim counts bookmarks");
    let start = Instant::now();
    while bookmarks().await.unwrap_or(0) < first + 60 * watches
        && start.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        for status in log.drain() {
            for kind in status["kinds"].as_array().expect("kinds") {
                assert!(
                    kind["state"] == "SYNCED" || kind["state"] == "PENDING",
                    "{} left SYNCED under bookmarks: {kind}\n{}",
                    kind["kind"],
                    daemon.log_text()
                );
            }
        }
    }
    let sent = bookmarks().await.unwrap_or(0) - first;
    assert!(
        sent >= 60 * watches,
        "{sent} bookmarks sent to {watches} watches"
    );
    let status = daemon.cli_json(&["status", "-o", "json"]);
    for kind in status["kinds"].as_array().expect("kinds") {
        if kind["state"] == "PENDING" {
            continue;
        }
        assert_eq!(kind["state"], "SYNCED", "{kind}");
        assert_eq!(kind["relists"], 0, "{kind}\n{}", daemon.log_text());
    }
    let lists = lists_logged(&sim).await;
    assert_eq!(
        lists.len(),
        lists_at_sync,
        "LIST requests after sync: {:?}",
        &lists[lists_at_sync..]
    );
}

/// Wait until pods are STALE because the connection went silent; print how
/// long that took since `silent` (a figure for BENCHMARKS.md).
fn wait_taken_for_dead(log: &mut timoneiro_tests::harness::StatusLog, silent: Instant) {
    let stale = log.wait_kind(Duration::from_secs(30), "pods", "STALE");
    eprintln!("black-hole to STALE: {:?}", silent.elapsed());
    assert!(
        stale["message"]
            .as_str()
            .is_some_and(|m| m.contains("sent nothing")),
        "{stale}"
    );
}

/// A half-open connection (laptop sleep, VPN or NAT drop) says nothing and
/// never closes. With a short `--api-read-timeout`, a quiet but healthy
/// cluster never trips it (each watch asks the server to end it a little
/// sooner and resumes); a silent one turns every cached kind STALE, its
/// last rows still served, and when the server speaks again the kinds relist
/// and converge, a pod made during the silence included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_api_server_turns_kinds_stale_then_they_recover() {
    let sim = Sim::start(&["--pods", "200", "--namespaces", "2"]);
    let daemon = Daemon::start_with(&sim.kubeconfig, &["--api-read-timeout", "4s"]);
    let mut log = daemon.status_log();
    log.wait_all_synced(Duration::from_secs(60));

    // Quiet and healthy: watches renew themselves, nothing goes STALE.
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_secs(12) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        for status in log.drain() {
            for kind in status["kinds"].as_array().expect("kinds") {
                assert!(
                    kind["state"] == "SYNCED" || kind["state"] == "PENDING",
                    "a quiet cluster tripped the read timeout: {kind}\n{}",
                    daemon.log_text()
                );
            }
        }
    }
    let status = daemon.cli_json(&["status", "-o", "json"]);
    for kind in status["kinds"].as_array().expect("kinds") {
        assert_eq!(kind["relists"], 0, "{kind}");
    }

    sim.fault("freeze?seconds=15").await;
    let frozen = Instant::now();
    wait_taken_for_dead(&mut log, frozen);
    // The last rows are still served meanwhile.
    let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 200);
    let created = sim.create_pod("ns-000", &serde_json::json!({})).await;

    log.wait_kind(Duration::from_secs(60), "pods", "SYNCED");
    assert_converged(&sim, &daemon, Duration::from_secs(60)).await;
    let name = created["name"].as_str().expect("name");
    let output = daemon.cli(&["get", "pods", "-n", "ns-000", name]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(sim.faults_fired().await["freeze"] == 1);
}

/// The same silence, made by the network instead of the server: a relay
/// between the daemon and the sim stops forwarding in both directions and
/// closes nothing. Only the daemon's own read timeout can notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_network_turns_kinds_stale_then_they_recover() {
    let sim = Sim::start(&["--pods", "200", "--namespaces", "2"]);
    let relay = timoneiro_tests::relay::Relay::start(sim.addr()).await;
    let kubeconfig = sim.kubeconfig_with("via-relay", &format!("https://{}", relay.addr), &[]);
    let daemon = Daemon::start_with(&kubeconfig, &["--api-read-timeout", "4s"]);
    let mut log = daemon.status_log();
    log.wait_all_synced(Duration::from_secs(60));

    relay.freeze(true);
    let frozen = Instant::now();
    wait_taken_for_dead(&mut log, frozen);
    let created = sim.create_pod("ns-001", &serde_json::json!({})).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    relay.freeze(false);

    log.wait_kind(Duration::from_secs(60), "pods", "SYNCED");
    assert_converged(&sim, &daemon, Duration::from_secs(60)).await;
    let name = created["name"].as_str().expect("name");
    let output = daemon.cli(&["get", "pods", "-n", "ns-001", name]);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// RBAC that allows list but not watch (or anything that fails every watch
/// right after the list) used to relist the kind about every second,
/// forever, flipping SYNCED and ERROR, and switched it to per-namespace
/// lists. Now the list is served, the kind says the watch is forbidden
/// (STALE, not ERROR), and it is listed again only every few minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_watch_keeps_the_list_and_does_not_storm() {
    let sim = Sim::start(&[
        "--pods",
        "120",
        "--namespaces",
        "3",
        "--forbid-watch",
        "pods",
    ]);
    let daemon = Daemon::start(&sim.kubeconfig);
    let mut log = daemon.status_log();
    let stale = log.wait_kind(Duration::from_secs(60), "pods", "STALE");
    let message = stale["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("watch forbidden (403): pods is forbidden: User")
            && message.contains("cannot watch resource")
            && message.contains("listed again every 5m"),
        "{stale}"
    );
    let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 120);

    tokio::time::sleep(Duration::from_secs(20)).await;
    for status in log.drain() {
        let pods = status["kinds"]
            .as_array()
            .and_then(|k| k.iter().find(|k| k["kind"] == "pods").cloned())
            .unwrap_or_default();
        assert_ne!(pods["state"], "ERROR", "{pods}");
    }
    let (lists, watches) = sim.requests_for("pods").await;
    assert_eq!((lists, watches), (1, 1), "one list, one refused watch");
    let log_text = sim.json("GET", "/sim/requests").await.to_string();
    assert!(
        !log_text.contains("/namespaces/ns-000/pods"),
        "fell back to per-namespace lists"
    );
    let status = daemon.cli_json(&["status", "-o", "json"]);
    let pods = status["kinds"]
        .as_array()
        .and_then(|k| k.iter().find(|k| k["kind"] == "pods").cloned())
        .unwrap_or_default();
    assert_eq!(pods["relists"], 0, "{pods}");
}

/// A proxy that ends every watch the moment it starts: the daemon resumes,
/// but waits a moment first instead of asking again at once, forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_that_end_at_once_are_paced() {
    let (sim, _daemon) = synced_cluster(&["--pods", "50", "--namespaces", "1"]);
    let (_, before) = sim.requests_for("pods").await;
    sim.fault("short-watches?seconds=5").await;
    sim.fault("end-watches").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (lists, after) = sim.requests_for("pods").await;
    let watches = after - before;
    // One watch a second at most, plus the one in flight.
    assert!(watches <= 7, "{watches} pod watches in 5 s");
    assert!(watches >= 2, "{watches}: the watch was not resumed");
    assert_eq!(lists, 1, "resuming is not relisting");
}
