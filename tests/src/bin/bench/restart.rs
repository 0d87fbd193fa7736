//! Warm restarts: a daemon restarted on its snapshot against a cold start,
//! time to the first rows of `get pods -A` and to pods SYNCED.

use std::time::{Duration, Instant};

use timoneiro_tests::harness::Daemon;

use super::common::*;

/// Restart a synced daemon `runs` times on its snapshot, and start cold
/// daemons as many times: from the process's start to `get pods -A`
/// printing every pod, and to pods SYNCED.
pub(crate) async fn run(pods: usize, runs: usize) -> Table {
    let mut table = Table(Vec::new());
    eprintln!("starting a sim with {pods} pods and a daemon…");
    let (sim, mut daemon) = synced_cluster(pods, 20, 0);
    let [mut warm_window, mut warm_rows, mut warm_synced] = [Vec::new(), Vec::new(), Vec::new()];
    let [mut cold_window, mut cold_rows, mut cold_synced] = [Vec::new(), Vec::new(), Vec::new()];
    let mut restored = String::new();
    let mut written = String::new();
    for _ in 0..runs {
        let stopping = Instant::now();
        assert!(daemon.terminate().success(), "the daemon failed to stop");
        let stop_ms = stopping.elapsed().as_secs_f64() * 1000.0;
        let log = std::fs::read_to_string(&daemon.log).unwrap_or_default();
        written = log
            .lines()
            .rev()
            .find(|l| l.contains("snapshot written"))
            .map(|l| format!("{l} (SIGTERM to exit: {stop_ms:.0} ms)"))
            .unwrap_or_default();
        let dir = std::mem::replace(&mut daemon.dir, tempfile::tempdir().expect("tempdir"));
        let started = Instant::now();
        daemon = Daemon::start_at(&sim.kubeconfig, daemon.socket.clone(), dir);
        let (window, rows, synced) = first_rows_and_sync(&daemon, pods, started);
        warm_window.push(window);
        warm_rows.push(rows);
        warm_synced.push(synced);
        restored = std::fs::read_to_string(&daemon.log)
            .unwrap_or_default()
            .lines()
            .find(|l| l.contains("snapshot restored"))
            .unwrap_or_default()
            .to_string();
        let started = Instant::now();
        let cold = Daemon::start_with(&sim.kubeconfig, &["--no-snapshots"]);
        let (window, rows, synced) = first_rows_and_sync(&cold, pods, started);
        cold_window.push(window);
        cold_rows.push(rows);
        cold_synced.push(synced);
    }
    eprintln!("{written}\n{restored}");
    let p50 =
        |samples: &mut Vec<f64>| format!("p50 {:.0} ms ({runs} runs)", percentile(samples, 0.5));
    table.row(
        "daemon start → `get pods -A --limit 50` prints 50 pods, warm (its snapshot)",
        p50(&mut warm_window),
        "rows within milliseconds of a restart (issue 21)",
        "no peer keeps a cache across restarts",
    );
    table.row(
        "daemon start → `get pods -A --limit 50` prints 50 pods, cold (--no-snapshots)",
        p50(&mut cold_window),
        "",
        "",
    );
    table.row(
        &format!("daemon start → `get pods -A` prints all {pods} pods, warm (its snapshot)"),
        p50(&mut warm_rows),
        "rows within milliseconds of a restart (issue 21)",
        "no peer keeps a cache across restarts",
    );
    table.row(
        &format!("daemon start → `get pods -A` prints all {pods} pods, cold (--no-snapshots)"),
        p50(&mut cold_rows),
        "",
        "",
    );
    table.row(
        "daemon start → pods SYNCED, warm (the watch resumed: no LIST)",
        p50(&mut warm_synced),
        "",
        "",
    );
    table.row(
        "daemon start → pods SYNCED, cold (a full LIST)",
        p50(&mut cold_synced),
        "",
        "",
    );
    table
}

/// Milliseconds from `started` to `get pods -A --limit 50` printing 50
/// rows, to `get pods -A` printing `pods` rows, and to pods SYNCED.
fn first_rows_and_sync(daemon: &Daemon, pods: usize, started: Instant) -> (f64, f64, f64) {
    // Polled every millisecond (a cold CLI waits for the sync itself).
    let rows_within = |args: &[&str], want: usize| loop {
        let output = daemon.cli(args);
        let lines = output.stdout.iter().filter(|b| **b == b'\n').count();
        if output.status.success() && lines >= want {
            break started.elapsed().as_secs_f64() * 1000.0;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "no rows in 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    let window = rows_within(
        &[
            "get",
            "pods",
            "-A",
            "--no-headers",
            "--limit",
            "50",
            "--timeout",
            "600s",
        ],
        50.min(pods),
    );
    let rows = rows_within(
        &["get", "pods", "-A", "--no-headers", "--timeout", "600s"],
        pods,
    );
    daemon.wait_status(Duration::from_secs(600), "pods SYNCED", |kinds| {
        kinds
            .iter()
            .any(|k| k["kind"] == "pods" && k["state"] == "SYNCED")
    });
    (window, rows, started.elapsed().as_secs_f64() * 1000.0)
}
