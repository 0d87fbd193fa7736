//! `timoneiro get pods -A` as a whole process.

use std::time::Instant;

use super::common::*;

/// `timoneiro get pods -A` as a whole process, printing every row to a pipe.
pub(crate) fn run(pods: usize, runs: usize) -> Table {
    let mut table = Table(Vec::new());
    eprintln!("starting a sim with {pods} pods and a daemon…");
    let (_sim, daemon) = synced_cluster(pods, 20, 0);
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
        format!("{} ({runs} runs)", p50_p99_ms(&mut millis, 1)),
        "≤ 60 ms p50",
        "`kubectl get pods -A`: ≈3.6 s at 10k pods",
    );
    table
}
