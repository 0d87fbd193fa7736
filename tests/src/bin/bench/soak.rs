//! Daemon RSS over a long run under churn.

use std::time::{Duration, Instant};

use super::common::*;

/// RSS of the daemon over a long churn, sampled every `every`.
pub(crate) async fn run(pods: usize, minutes: u64, every: Duration) -> Table {
    let mut table = Table(Vec::new());
    eprintln!("starting a sim with {pods} pods under 50 changes/s and a daemon for {minutes} min…");
    let (sim, daemon) = synced_cluster(pods, 20, 50);
    let started = Instant::now();
    let end = started + Duration::from_secs(minutes * 60);
    let mut samples = Vec::new();
    loop {
        let rss = rss_kib(daemon.pid()).unwrap_or(0) as f64 / 1024.0;
        let rv = sim.json("GET", "/sim/info").await["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let minute = started.elapsed().as_secs_f64() / 60.0;
        eprintln!("{minute:5.1} min: daemon RSS {rss:.0} MiB (sim resourceVersion {rv})");
        samples.push((minute, rss));
        if Instant::now() >= end {
            break;
        }
        tokio::time::sleep(every).await;
    }
    for (minute, rss) in &samples {
        table.row(
            &format!("daemon RSS at {minute:.1} min of 50 changes/s, {pods} pods"),
            format!("{rss:.0} MiB"),
            "",
            "",
        );
    }
    let steady: Vec<f64> = samples
        .iter()
        .filter(|(m, _)| *m >= 5.0)
        .map(|(_, r)| *r)
        .collect();
    if let (Some(first), Some(max)) = (steady.first(), steady.iter().copied().reduce(f64::max)) {
        table.row(
            "growth after the first 5 minutes (max − value at 5 min)",
            format!("{:.0} MiB", max - first),
            "no growth beyond the steady state",
            "",
        );
    }
    table
}
