//! What the benchmarks share: percentiles, RSS, the result table, a synced
//! cluster, the TUI in tmux, and the raw paged list a sync is compared to.

use std::path::Path;
use std::time::{Duration, Instant};

use timoneiro_tests::harness::{Daemon, Sim, Tmux, bin};

pub(crate) fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let index = ((samples.len() - 1) as f64 * p).round() as usize;
    samples[index]
}

pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) fn tui(socket: &Path, log: &Path, debug: bool) -> Tmux {
    let command = format!(
        "exec env TIMONEIRO_SOCKET={} TIMONEIRO_LOG={} NO_COLOR=1 {} -A --log-file {}",
        socket.display(),
        if debug { "timoneiro_tui=debug" } else { "info" },
        bin("timoneiro-tui").display(),
        log.display()
    );
    Tmux::start(&command, 200, 50)
}

pub(crate) fn log_values(log: &Path, message: &str, field: &str) -> Vec<f64> {
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

/// A sim of `pods` pods over `namespaces` namespaces (with `churn` changes
/// per second) and a daemon synced on it.
pub(crate) fn synced_cluster(pods: usize, namespaces: usize, churn: u32) -> (Sim, Daemon) {
    timoneiro_tests::harness::synced_cluster_within(
        &[
            "--pods",
            &pods.to_string(),
            "--namespaces",
            &namespaces.to_string(),
            "--churn-rate",
            &churn.to_string(),
        ],
        Duration::from_secs(600),
    )
}

/// The rows a benchmark prints: metric, measured, target, for reference.
pub(crate) struct Table(pub(crate) Vec<[String; 4]>);

impl Table {
    pub(crate) fn row(&mut self, metric: &str, value: String, target: &str, reference: &str) {
        self.0
            .push([metric.into(), value, target.into(), reference.into()]);
    }
}

/// The pod sync time a fresh daemon reports (its own clock: start → SYNCED).
pub(crate) fn pod_sync_seconds(daemon: &Daemon) -> f64 {
    let status = daemon.wait_status(Duration::from_secs(600), "pods SYNCED", |kinds| {
        kinds
            .iter()
            .any(|k| k["kind"] == "pods" && k["state"] == "SYNCED")
    });
    status["kinds"]
        .as_array()
        .and_then(|kinds| kinds.iter().find(|k| k["kind"] == "pods"))
        .and_then(|k| k["syncMillis"].as_f64())
        .map_or(f64::NAN, |ms| ms / 1000.0)
}

/// The daemon's RSS once it has stopped moving (the sync's garbage
/// returned by jemalloc's background purge): KiB.
pub(crate) fn settled_rss_kib(daemon: &Daemon) -> u64 {
    let mut samples: Vec<u64> = Vec::new();
    for _ in 0..120 {
        std::thread::sleep(Duration::from_secs(1));
        samples.push(rss_kib(daemon.pid()).unwrap_or(0));
        if let [.., a, b, c, d, e] = samples[..] {
            let (lo, hi) = (a.min(b).min(c).min(d).min(e), a.max(b).max(c).max(d).max(e));
            if hi - lo <= hi / 200 {
                return e;
            }
        }
    }
    samples.last().copied().unwrap_or(0)
}

/// Every page of the pod list in one encoding: time, bodies.
pub(crate) async fn pages(sim: &Sim, protobuf: bool) -> (Duration, Vec<Vec<u8>>) {
    use timoneiro_kpb as kpb;
    let accept = if protobuf {
        kpb::MEDIA_TYPE
    } else {
        "application/json"
    };
    let started = Instant::now();
    let mut token = String::new();
    let mut bodies = Vec::new();
    loop {
        let mut path = "/api/v1/pods?limit=500".to_string();
        if !token.is_empty() {
            path.push_str("&continue=");
            path.push_str(&token);
        }
        let (status, _, body) = sim.raw("GET", &path, Some(accept)).await;
        assert_eq!(status, 200, "list page");
        token = if protobuf {
            let envelope = kpb::Envelope::parse(&body).expect("protobuf list");
            let list = kpb::List::parse(envelope.raw).expect("list");
            let meta: k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta =
                kpb::decode(kpb::list_meta(), list.metadata).expect("list metadata");
            meta.continue_.unwrap_or_default()
        } else {
            let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_string();
            head.split("\"continue\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default()
                .to_string()
        };
        bodies.push(body);
        if token.is_empty() {
            break;
        }
    }
    (started.elapsed(), bodies)
}

/// "p50 X ms, p99 Y ms" of `samples` (milliseconds), with `decimals`.
pub(crate) fn p50_p99_ms(samples: &mut [f64], decimals: usize) -> String {
    let p50 = percentile(samples, 0.5);
    let p99 = percentile(samples, 0.99);
    format!("p50 {p50:.decimals$} ms, p99 {p99:.decimals$} ms")
}
