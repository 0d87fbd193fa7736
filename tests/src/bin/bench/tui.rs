//! The TUI: launch → first rows, filter keystroke → frame, a new pod → visible.

use std::time::{Duration, Instant};

use timoneiro_tests::harness::{Daemon, Sim, Tmux};

use super::common::*;

pub(crate) async fn run(pods: usize, big: usize, runs: usize) -> Table {
    let mut table = Table(Vec::new());
    let work = tempfile::tempdir().expect("tempdir");
    launch(&mut table, work.path(), pods, runs);
    on_a_big_cluster(&mut table, work.path(), big, runs).await;
    table
}

const WAIT: Duration = Duration::from_secs(600);

/// Launch to first rows, and memory, with a warm daemon.
fn launch(table: &mut Table, work: &std::path::Path, pods: usize, runs: usize) {
    let wait = WAIT;
    eprintln!("starting a sim with {pods} pods and a daemon…");
    let sim = Sim::start(&[
        "--pods",
        &pods.to_string(),
        "--namespaces",
        "20",
        "--churn-rate",
        "50",
    ]);
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(wait);
    let (mut external, mut internal, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let log = work.join(format!("launch-{run}.log"));
        let started = Instant::now();
        let tmux = tui(&daemon.socket, &log, false);
        tmux.poll_for("pod rows", wait, |s| {
            s.contains("Running") && s.contains("Pods (")
        });
        external.push(started.elapsed().as_secs_f64() * 1000.0);
        let settle = Instant::now();
        while settle.elapsed() < Duration::from_millis(1500) {
            tmux.screen();
        }
        if let Some(kib) = tmux.pid().and_then(rss_kib) {
            rss.push(kib as f64 / 1024.0);
        }
        tmux.send(&["q"]);
        tmux.wait_for("exit", wait, |s| !s.contains("Pods ("));
        internal.extend(log_values(&log, "first rows drawn", "elapsed_ms"));
    }
    table.row(
        &format!("launch → pod rows drawn, {pods} pods, warm daemon (TUI's own clock)"),
        format!("{} ({} runs)", p50_p99_ms(&mut internal, 0), internal.len()),
        "≤ 100 ms",
        "kdash: 3.4 s",
    );
    table.row(
        "launch → rows on screen, seen through tmux (adds tmux start and capture)",
        p50_p99_ms(&mut external, 0),
        "",
        "",
    );
    table.row(
        &format!("TUI process RSS, {pods} pods, 1.5 s after launch"),
        format!(
            "p50 {:.1} MiB, max {:.1} MiB",
            percentile(&mut rss, 0.5),
            percentile(&mut rss, 1.0)
        ),
        "≤ 30 MiB",
        "kdash: 1.7 GB",
    );
}

/// Keystrokes in the filter and changes reaching the screen, on a big cluster.
async fn on_a_big_cluster(table: &mut Table, work: &std::path::Path, big: usize, runs: usize) {
    let wait = WAIT;
    eprintln!("starting a sim with {big} pods and a daemon…");
    let sim = Sim::start(&["--pods", &big.to_string(), "--namespaces", "50"]);
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(wait);
    let log = work.join("filter.log");
    let tmux = tui(&daemon.socket, &log, true);
    filter_keystrokes(&tmux, &log).rows(
        table,
        &format!("filter keystroke → new frame drawn, {big} pods"),
        "≤ 16 ms p50",
        "k9s: seconds per key at 10k+",
    );
    new_pods(table, &sim, &tmux, big, runs).await;
    tmux.send(&["q"]);
}

/// Type four filters into the TUI's pod view, key by key, each key once
/// the last one's answer and count are drawn: the TUI's own keystroke →
/// frame times (its log), in ms. Clearing each filter (Esc) is a query too.
pub(crate) fn filter_keystrokes(tmux: &Tmux, log: &std::path::Path) -> Keystrokes {
    let wait = WAIT;
    tmux.wait_for("pod rows", wait, |s| s.contains("Running"));
    for filter in ["running !analytics", "crash", "web 1/1", "^api"] {
        tmux.send(&["/"]);
        for (i, c) in filter.chars().enumerate() {
            let before = log_values(log, "query counted and drawn", "micros").len();
            tmux.send(&["-l", &c.to_string()]);
            let typed: String = filter.chars().take(i + 1).collect();
            tmux.wait_for("the typed filter", wait, |s| {
                s.contains(&format!("/{typed}"))
            });
            // A trailing space does not change the query, and a lone operator
            // ("running !") is refused until its term follows: no answer to wait for.
            if !c.is_whitespace() && !"!^'".contains(c) {
                // Until the count is drawn too (the rows may come before
                // it): a person types a key every 100 ms or more, by when
                // the count of the key before has come.
                let deadline = Instant::now() + wait;
                while log_values(log, "query counted and drawn", "micros").len() <= before
                    && Instant::now() < deadline
                {
                    // The latency is the TUI's own clock (its log): this
                    // wait only paces the next key.
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        tmux.send(&["Escape"]);
        tmux.send(&["Escape"]);
        tmux.wait_for("the filter cleared", wait, |s| !s.contains("filter:"));
    }
    let ms = |message, field| {
        log_values(log, message, field)
            .into_iter()
            .map(|m| m / 1000.0)
            .collect()
    };
    Keystrokes {
        drawn: ms("query answered and drawn", "micros"),
        queried: ms("query answered and drawn", "query_micros"),
        counted: ms("query counted and drawn", "micros"),
    }
}

/// What [`filter_keystrokes`] measured, per answered key, in ms.
pub(crate) struct Keystrokes {
    /// Key → the answer drawn (the TUI's clock).
    pub drawn: Vec<f64>,
    /// Of which the daemon's query (its own clock).
    pub queried: Vec<f64>,
    /// Key → the match count drawn (later than the rows when the daemon
    /// sent the window first).
    pub counted: Vec<f64>,
}

impl Keystrokes {
    /// Both as table rows named after `what`.
    pub(crate) fn rows(mut self, table: &mut Table, what: &str, target: &str, peer: &str) {
        table.row(
            what,
            format!(
                "{} ({} keys)",
                p50_p99_ms(&mut self.drawn, 1),
                self.drawn.len()
            ),
            target,
            peer,
        );
        table.row(
            "… of which the daemon's query (its query_micros)",
            p50_p99_ms(&mut self.queried, 1),
            "",
            "",
        );
        table.row(
            "… and to the match count drawn (after the rows, for a window sent first)",
            p50_p99_ms(&mut self.counted, 1),
            "",
            "",
        );
    }
}

/// A pod created in the sim, until the TUI shows it.
async fn new_pods(table: &mut Table, sim: &Sim, tmux: &Tmux, big: usize, runs: usize) {
    let wait = WAIT;
    let mut visible = Vec::new();
    for _ in 0..runs.max(10) {
        let started = Instant::now();
        let created = sim.json("POST", "/sim/pods").await;
        let name = created["name"].as_str().unwrap_or_default().to_string();
        tmux.poll_for("the new pod", wait, |s| s.contains(&name));
        visible.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    table.row(
        &format!("pod created in the sim → visible in the TUI, {big} pods"),
        format!("{} ({} pods)", p50_p99_ms(&mut visible, 0), visible.len()),
        "≤ 300 ms p50",
        "kdash: 2–6 s",
    );
    if let Some(kib) = tmux.pid().and_then(rss_kib) {
        table.row(
            &format!("TUI process RSS, {big} pods"),
            format!("{:.1} MiB", kib as f64 / 1024.0),
            "",
            "",
        );
    }
}
