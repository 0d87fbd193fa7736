//! Timoneiro's benchmark: starts the sim, the daemon and the clients as
//! release processes and prints a table of the numbers the issues ask for.
//!
//!   cargo build --release --workspace
//!   target/release/bench tui --pods 10000 --big 100000
//!   target/release/bench query --pods 100000
//!   target/release/bench cli --pods 10000
//!
//! Nothing here is a test: timings on shared machines are noisy, so they are
//! reported (with p50/p99), never asserted.

use std::path::Path;
use std::time::{Duration, Instant};

use timoneiro_tests::harness::{Daemon, Sim, Tmux, bin};

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let index = ((samples.len() - 1) as f64 * p).round() as usize;
    samples[index]
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn tui(socket: &Path, log: &Path, debug: bool) -> Tmux {
    let command = format!(
        "exec env TIMONEIRO_SOCKET={} TIMONEIRO_LOG={} NO_COLOR=1 {} -A --log-file {}",
        socket.display(),
        if debug { "timoneiro_tui=debug" } else { "info" },
        bin("timoneiro-tui").display(),
        log.display()
    );
    Tmux::start(&command, 200, 50)
}

fn log_values(log: &Path, message: &str, field: &str) -> Vec<f64> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(message))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{field}=")))
                .and_then(|v| v.parse().ok())
        })
        .collect()
}

struct Table(Vec<[String; 4]>);

impl Table {
    fn row(&mut self, metric: &str, value: String, target: &str, reference: &str) {
        self.0
            .push([metric.into(), value, target.into(), reference.into()]);
    }
}

async fn bench_tui(pods: usize, big: usize, runs: usize) -> Table {
    let mut table = Table(Vec::new());
    let wait = Duration::from_secs(600);
    let work = tempfile::tempdir().expect("tempdir");

    // Launch to first rows and memory, with a warm daemon.
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
        let log = work.path().join(format!("launch-{run}.log"));
        let started = Instant::now();
        let tmux = tui(&daemon.socket, &log, false);
        tmux.wait_for("pod rows", wait, |s| {
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
        format!(
            "p50 {:.0} ms, p99 {:.0} ms ({} runs)",
            percentile(&mut internal, 0.5),
            percentile(&mut internal, 0.99),
            internal.len()
        ),
        "≤ 100 ms",
        "kdash: 3.4 s",
    );
    table.row(
        "launch → rows on screen, seen through tmux (adds tmux start and capture)",
        format!(
            "p50 {:.0} ms, p99 {:.0} ms",
            percentile(&mut external, 0.5),
            percentile(&mut external, 0.99)
        ),
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
    drop(daemon);
    drop(sim);

    // Keystrokes in the filter and changes reaching the screen, on a big cluster.
    eprintln!("starting a sim with {big} pods and a daemon…");
    let sim = Sim::start(&["--pods", &big.to_string(), "--namespaces", "50"]);
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(wait);
    let log = work.path().join("filter.log");
    let tmux = tui(&daemon.socket, &log, true);
    tmux.wait_for("pod rows", wait, |s| s.contains("Running"));
    let mut keys = Vec::new();
    for filter in ["running !analytics", "crash", "web 1/1", "^api"] {
        tmux.send(&["/"]);
        for (i, c) in filter.chars().enumerate() {
            let before = log_values(&log, "query answered and drawn", "micros").len();
            tmux.send(&["-l", &c.to_string()]);
            let typed: String = filter.chars().take(i + 1).collect();
            tmux.wait_for("the typed filter", wait, |s| {
                s.contains(&format!("/{typed}"))
            });
            // A trailing space does not change the query, and a lone operator
            // ("running !") is refused until its term follows: no answer to wait for.
            if !c.is_whitespace() && !"!^'".contains(c) {
                let deadline = Instant::now() + wait;
                while log_values(&log, "query answered and drawn", "micros").len() <= before
                    && Instant::now() < deadline
                {
                    std::thread::yield_now();
                }
            }
        }
        tmux.send(&["Escape"]);
        tmux.send(&["Escape"]);
        tmux.wait_for("the filter cleared", wait, |s| !s.contains("filter:"));
    }
    keys.extend(
        log_values(&log, "query answered and drawn", "micros")
            .into_iter()
            .map(|m| m / 1000.0),
    );
    table.row(
        &format!("filter keystroke → new frame drawn, {big} pods"),
        format!(
            "p50 {:.1} ms, p99 {:.1} ms ({} keys)",
            percentile(&mut keys, 0.5),
            percentile(&mut keys, 0.99),
            keys.len()
        ),
        "≤ 16 ms p50",
        "k9s: seconds per key at 10k+",
    );
    let mut visible = Vec::new();
    for _ in 0..runs.max(10) {
        let started = Instant::now();
        let created = sim.json("POST", "/sim/pods").await;
        let name = created["name"].as_str().unwrap_or_default().to_string();
        tmux.wait_for("the new pod", wait, |s| s.contains(&name));
        visible.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    table.row(
        &format!("pod created in the sim → visible in the TUI, {big} pods"),
        format!(
            "p50 {:.0} ms, p99 {:.0} ms ({} pods)",
            percentile(&mut visible, 0.5),
            percentile(&mut visible, 0.99),
            visible.len()
        ),
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
    tmux.send(&["q"]);
    table
}

/// `timoneiro get pods -A` as a whole process, printing every row to a pipe.
fn bench_cli(pods: usize, runs: usize) -> Table {
    let mut table = Table(Vec::new());
    eprintln!("starting a sim with {pods} pods and a daemon…");
    let sim = Sim::start(&["--pods", &pods.to_string(), "--namespaces", "20"]);
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(Duration::from_secs(600));
    let mut millis = Vec::new();
    let mut lines = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let output = daemon.cli(&["get", "pods", "-A"]);
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(output.status.success(), "timoneiro get failed");
        lines = output.stdout.iter().filter(|b| **b == b'\n').count();
    }
    table.row(
        &format!(
            "`timoneiro get pods -A`, {} rows to a pipe, whole process",
            lines.saturating_sub(1)
        ),
        format!(
            "p50 {:.1} ms, p99 {:.1} ms ({runs} runs)",
            percentile(&mut millis, 0.5),
            percentile(&mut millis, 0.99)
        ),
        "≤ 60 ms p50",
        "`kubectl get pods -A`: ≈3.6 s at 10k pods",
    );
    table
}

/// Daemon-side List time (the daemon's own `query_micros`) over a big cluster.
async fn bench_query(pods: usize, runs: usize) -> Table {
    use timoneiro_proto::v1::ListRequest;
    let mut table = Table(Vec::new());
    eprintln!("starting a sim with {pods} pods and a daemon…");
    let sim = Sim::start(&["--pods", &pods.to_string(), "--namespaces", "50"]);
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(Duration::from_secs(600));
    let mut client = timoneiro_proto::socket::connect(&daemon.socket)
        .await
        .expect("connect");
    if let Some(kib) = rss_kib(daemon.pid()) {
        let status = daemon.cli_json(&["status", "-o", "json"]);
        let objects: u64 = status["kinds"].as_array().map_or(0, |kinds| {
            kinds
                .iter()
                .map(|k| k["objects"].as_u64().unwrap_or(0))
                .sum()
        });
        table.row(
            &format!("daemon RSS with {pods} pods synced ({objects} objects of all kinds)"),
            format!(
                "{:.0} MiB, {:.1} KiB per object (upper bound: includes the process baseline)",
                kib as f64 / 1024.0,
                kib as f64 / objects.max(1) as f64
            ),
            "≤ 1.5 KiB per pod (issue 5)",
            "client-go informers: ≈36 KiB per pod",
        );
    }
    let cases: &[(&str, &str, &str)] = &[
        ("List 50 rows, no filter", "", ""),
        ("List 50 rows, sorted by name", "", "NAME"),
        ("fuzzy filter \"running\"", "running", ""),
        ("fuzzy filter \"web 1/1\"", "web 1/1", ""),
        ("filter \"crash !analytics\"", "crash !analytics", ""),
        ("anchored filter \"^api\"", "^api", ""),
    ];
    for (name, filter, sort) in cases {
        let mut micros = Vec::new();
        let mut matched = 0;
        for _ in 0..runs {
            let request = ListRequest {
                kind: "pods".into(),
                all_namespaces: true,
                filter: (*filter).into(),
                sort_by: (*sort).into(),
                limit: 50,
                ..ListRequest::default()
            };
            let response = client.list(request).await.expect("list").into_inner();
            matched = response.matched;
            micros.push(response.query_micros as f64 / 1000.0);
        }
        table.row(
            &format!("{name}, {pods} pods, daemon-side ({matched} match)"),
            format!(
                "p50 {:.2} ms, p99 {:.2} ms",
                percentile(&mut micros, 0.5),
                percentile(&mut micros, 0.99)
            ),
            if filter.is_empty() {
                "≤ 1 ms p50"
            } else {
                "≤ 10 ms p50"
            },
            "",
        );
    }
    table
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let what = args.first().map(String::as_str).unwrap_or("help");
    let table = match what {
        "tui" => {
            bench_tui(
                value("--pods", 10_000),
                value("--big", 100_000),
                value("--runs", 10),
            )
            .await
        }
        "query" => bench_query(value("--pods", 100_000), value("--runs", 30)).await,
        "cli" => bench_cli(value("--pods", 10_000), value("--runs", 30)),
        _ => {
            eprintln!(
                "usage: bench tui [--pods 10000] [--big 100000] [--runs 10]\n       bench query [--pods 100000] [--runs 30]\n       bench cli [--pods 10000] [--runs 30]\n(build first: cargo build --release --workspace)"
            );
            std::process::exit(2);
        }
    };
    println!("| metric | measured | target | for reference |");
    println!("|---|---|---|---|");
    for [metric, value, target, reference] in table.0 {
        println!("| {metric} | {value} | {target} | {reference} |");
    }
}
