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

/// One whole CLI process: its wall time, its peak RSS and what it printed.
pub(crate) struct Measured {
    pub(crate) millis: f64,
    pub(crate) peak_kib: u64,
    pub(crate) stdout_bytes: usize,
    pub(crate) lines: usize,
}

/// Run `timoneiro ARGS` against `daemon`, its stdout read as it comes (a
/// pipe, as `| wc -l` would), and measure it. It runs under `bench peak`
/// (this program again), whose only child it is, so the kernel's
/// `ru_maxrss` of its children is the CLI's own peak.
pub(crate) fn measured_cli(daemon: &Daemon, args: &[&str]) -> Measured {
    use std::io::Read;
    let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
        .arg("peak")
        .arg(bin("timoneiro"))
        .args(args)
        .env("TIMONEIRO_SOCKET", &daemon.socket)
        .env(timoneiro_client::autostart::NO_AUTOSTART_ENV, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run bench peak");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let (mut stdout_bytes, mut lines) = (0, 0);
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = stdout.read(&mut buffer).expect("read the CLI's stdout");
        if n == 0 {
            break;
        }
        stdout_bytes += n;
        lines += buffer[..n].iter().filter(|b| **b == b'\n').count();
    }
    let output = child.wait_with_output().expect("bench peak");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "timoneiro {args:?} failed: {report}"
    );
    let field = |name: &str| -> f64 {
        report
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("bench peak said no {name}: {report}"))
    };
    Measured {
        millis: field("millis="),
        peak_kib: field("peak_kib=") as u64,
        stdout_bytes,
        lines,
    }
}

/// `bench peak PROGRAM ARGS…`: run PROGRAM as this process's only child,
/// its stdout ours, and report on stderr its wall time and peak RSS.
pub(crate) fn peak(program: &[String]) -> Result<(), ()> {
    let started = Instant::now();
    let status = std::process::Command::new(&program[0])
        .args(&program[1..])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run the measured program");
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    // Linux counts ru_maxrss in KiB.
    eprintln!("millis={millis} peak_kib={}", usage.max_rss());
    if status.success() {
        Ok(())
    } else {
        eprintln!("{} failed: {status}", program[0]);
        Err(())
    }
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

/// A daemon config (in `dir`) that caches pods only: every other kind is
/// on demand (tier 4), so nothing else is cached.
pub(crate) fn pods_only_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("config.toml");
    let mut text = String::from("[tiers]\n");
    for builtin in timoneirod::catalog::Builtin::ALL {
        if builtin != timoneirod::catalog::Builtin::PODS {
            text.push_str(&format!("{} = 4\n", builtin.kind().spec().plural));
        }
    }
    std::fs::write(&config, text).expect("config");
    config
}

/// The rows a benchmark prints: metric, measured, target, for reference.
pub(crate) struct Table(pub(crate) Vec<[String; 4]>);

impl Table {
    pub(crate) fn row(&mut self, metric: &str, value: String, target: &str, reference: &str) {
        // As it comes too: a long benchmark that fails later keeps its numbers.
        eprintln!("{metric}: {value}");
        self.0
            .push([metric.into(), value, target.into(), reference.into()]);
    }
}

/// The pod sync time a fresh daemon reports (its own clock: start → SYNCED).
pub(crate) fn pod_sync_seconds(daemon: &Daemon) -> f64 {
    pod_sync_seconds_within(daemon, Duration::from_secs(600))
}

/// [`pod_sync_seconds`], waiting up to `wait`.
pub(crate) fn pod_sync_seconds_within(daemon: &Daemon, wait: Duration) -> f64 {
    let status = daemon.wait_status(wait, "pods SYNCED", |kinds| {
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
    let mut bodies = Vec::new();
    let took = each_page(sim, protobuf, |body| bodies.push(body)).await;
    (took, bodies)
}

/// Read every page of the pod list in one encoding, handing each body to
/// `each` (a million pods' pages need not be held): the time it took.
pub(crate) async fn each_page(
    sim: &Sim,
    protobuf: bool,
    mut each: impl FnMut(Vec<u8>),
) -> Duration {
    use timoneiro_kpb as kpb;
    let accept = if protobuf {
        kpb::MEDIA_TYPE
    } else {
        "application/json"
    };
    let started = Instant::now();
    let mut token = String::new();
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
        each(body);
        if token.is_empty() {
            break;
        }
    }
    started.elapsed()
}

/// A window of 50 pods, all namespaces, with `filter` and `sort`, asked
/// `runs` times: a table row of the daemon's own `query_micros` (the
/// first run apart: a column's first sort makes its keys, an order's
/// first walk its index).
pub(crate) async fn list_window_row(
    table: &mut Table,
    client: &mut timoneiro_proto::v1::timoneiro_client::TimoneiroClient<tonic::transport::Channel>,
    (name, filter, sort, target): (&str, &str, &str, &str),
    pods: usize,
    runs: usize,
) {
    let mut micros = Vec::new();
    let mut matched = 0;
    for _ in 0..runs {
        let request = timoneiro_proto::v1::ListRequest {
            kind: "pods".into(),
            all_namespaces: true,
            filter: filter.into(),
            sort_by: sort.into(),
            limit: 50,
            ..Default::default()
        };
        let response = client.list(request).await.expect("list").into_inner();
        matched = response.matched;
        micros.push(response.query_micros as f64 / 1000.0);
    }
    let first = micros[0];
    table.row(
        &format!("{name}, {pods} pods, daemon-side ({matched} match)"),
        format!("{}; first run {first:.2} ms", p50_p99_ms(&mut micros, 2)),
        target,
        "",
    );
}

/// "p50 X ms, p99 Y ms" of `samples` (milliseconds), with `decimals`.
pub(crate) fn p50_p99_ms(samples: &mut [f64], decimals: usize) -> String {
    let p50 = percentile(samples, 0.5);
    let p99 = percentile(samples, 0.99);
    format!("p50 {p50:.decimals$} ms, p99 {p99:.decimals$} ms")
}
