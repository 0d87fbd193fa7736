//! Timoneiro's benchmark: starts the sim, the daemon and the clients as
//! release processes and prints a table of the numbers the issues ask for.
//!
//!   cargo build --release --workspace
//!   target/release/bench tui --pods 10000 --big 100000
//!   target/release/bench query --pods 100000
//!   target/release/bench cli --pods 10000
//!   target/release/bench sync --pods 100000
//!   target/release/bench wire --pods 10000
//!   target/release/bench memory --pods 100000
//!   target/release/bench load --pods 10000
//!   target/release/bench soak --pods 10000 --minutes 30
//!
//! Nothing here is a test: timings on shared machines are noisy, so they are
//! reported (with p50/p99), never asserted.

use std::path::Path;
use std::time::{Duration, Instant};

use timoneiro_tests::harness::{Daemon, Sim, Tmux, bin};

/// The daemon's allocator, so what `bench wire` measures decoding in this
/// process is what decoding costs in the daemon.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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

/// A sim of `pods` pods over `namespaces` namespaces (with `churn` changes
/// per second) and a daemon synced on it.
fn synced_cluster(pods: usize, namespaces: usize, churn: u32) -> (Sim, Daemon) {
    let sim = Sim::start(&[
        "--pods",
        &pods.to_string(),
        "--namespaces",
        &namespaces.to_string(),
        "--churn-rate",
        &churn.to_string(),
    ]);
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(Duration::from_secs(600));
    (sim, daemon)
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
    let (_sim, daemon) = synced_cluster(pods, 50, 0);
    let mut client = timoneiro_client::socket::connect(&daemon.socket)
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
    // The costliest filter the daemon accepts (issue 18: 64 terms), each
    // term matching nearly every row: how long one query holds the store.
    let widest = ["running"; 64].join(" ");
    let cases: &[(&str, &str, &str)] = &[
        ("List 50 rows, no filter", "", ""),
        ("List 50 rows, sorted by name", "", "NAME"),
        ("fuzzy filter \"running\"", "running", ""),
        ("fuzzy filter \"web 1/1\"", "web 1/1", ""),
        ("filter \"crash !analytics\"", "crash !analytics", ""),
        ("anchored filter \"^api\"", "^api", ""),
        ("widest filter accepted, 64 × \"running\"", &widest, ""),
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

/// The pod sync time a fresh daemon reports (its own clock: start → SYNCED).
fn pod_sync_seconds(daemon: &Daemon) -> f64 {
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
fn settled_rss_kib(daemon: &Daemon) -> u64 {
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

/// RSS growth per cached pod (issue 5's memory metric): a daemon caching
/// pods only (every other kind on demand, so nothing else is cached)
/// against a sim of `pods` pods, minus the same daemon against a sim of
/// none, both once their RSS has settled after the sync.
fn bench_memory(pods: usize) -> Table {
    let mut table = Table(Vec::new());
    let work = tempfile::tempdir().expect("tempdir");
    let config = work.path().join("config.toml");
    let mut text = String::from("[tiers]\n");
    for builtin in timoneirod::catalog::Builtin::ALL {
        let kind = builtin.kind();
        if builtin != timoneirod::catalog::Builtin::PODS {
            text.push_str(&format!("{} = 4\n", kind.spec().plural));
        }
    }
    std::fs::write(&config, text).expect("config");
    let mut rss = Vec::new();
    for n in [0, pods] {
        eprintln!("starting a sim with {n} pods and a daemon caching pods only…");
        let sim = Sim::start(&["--pods", &n.to_string(), "--namespaces", "50"]);
        let daemon = Daemon::start_configured(&sim.kubeconfig, &config);
        pod_sync_seconds(&daemon);
        let kib = settled_rss_kib(&daemon);
        eprintln!("{n} pods: daemon RSS {:.1} MiB", kib as f64 / 1024.0);
        rss.push(kib);
    }
    let growth = rss[1].saturating_sub(rss[0]);
    table.row(
        &format!(
            "daemon RSS growth per cached pod at {pods} pods (pods only; settled RSS {:.0} MiB with them, {:.0} MiB without)",
            rss[1] as f64 / 1024.0,
            rss[0] as f64 / 1024.0
        ),
        format!("{:.2} KiB", growth as f64 / pods as f64),
        "≤ 1.5 KiB",
        "client-go informers: ≈36 KiB per pod",
    );
    table
}

/// Every page of the pod list in one encoding: time, bodies.
async fn pages(sim: &Sim, protobuf: bool) -> (Duration, Vec<Vec<u8>>) {
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

/// Decode every page into whole pods (`Lean<Pod>`, no managedFields),
/// or (`informer`) do what the informer does with each pod before it
/// projects and compresses: JSON decodes whole and is written again for
/// `Get`; protobuf decodes pruned to what projections read and keeps its
/// bytes. CPU time on one thread, and the pods decoded.
fn decode_pages(bodies: &[Vec<u8>], protobuf: bool, informer: bool) -> (Duration, usize) {
    use k8s_openapi::api::core::v1::Pod;
    use timoneiro_kpb as kpb;
    use timoneirod::lean::Lean;
    let started = Instant::now();
    let mut pods = 0;
    for body in bodies {
        let items: Vec<Lean<Pod>> = match (protobuf, informer) {
            (true, true) => {
                timoneirod::wire::decode_list(body)
                    .expect("protobuf page")
                    .1
            }
            (true, false) => {
                let envelope = kpb::Envelope::parse(body).expect("protobuf page");
                let ty = envelope.message_type().expect("type");
                let items = ty.items().expect("a list");
                let kind = envelope.kind.strip_suffix("List").unwrap_or(envelope.kind);
                kpb::List::parse(envelope.raw)
                    .expect("list")
                    .items
                    .iter()
                    .map(|item| Lean {
                        object: timoneirod::wire::decode_object(
                            items,
                            item,
                            envelope.api_version,
                            kind,
                            None,
                        )
                        .expect("pod"),
                        protobuf: None,
                    })
                    .collect()
            }
            (false, _) => {
                serde_json::from_slice::<kube::core::ObjectList<Lean<Pod>>>(body)
                    .expect("JSON page")
                    .items
            }
        };
        pods += items.len();
        if informer && !protobuf {
            for item in &items {
                std::hint::black_box(serde_json::to_vec(item).expect("JSON"));
            }
        }
        std::hint::black_box(items);
    }
    (started.elapsed(), pods)
}

/// JSON against protobuf for the pod list: bytes, decode CPU per pod, the
/// raw paged list and the daemon's pod sync time in each encoding.
async fn bench_wire(pods: usize, runs: usize) -> Table {
    let mut table = Table(Vec::new());
    eprintln!("starting a sim with {pods} pods…");
    let sim = Sim::start(&["--pods", &pods.to_string(), "--namespaces", "50"]);
    // Warm up: the sim encodes each object's protobuf once, on first use.
    pages(&sim, true).await;
    let mut results = Vec::new();
    let mut last_bodies = Vec::new();
    for protobuf in [false, true] {
        let name = if protobuf { "protobuf" } else { "json" };
        let (mut fetch, mut sync) = (Vec::new(), Vec::new());
        let mut bodies = Vec::new();
        for run in 0..runs {
            let elapsed;
            (elapsed, bodies) = pages(&sim, protobuf).await;
            fetch.push(elapsed.as_secs_f64());
            let daemon = Daemon::start_with(&sim.kubeconfig, &["--wire", name]);
            let seconds = pod_sync_seconds(&daemon);
            sync.push(seconds);
            eprintln!(
                "{name} run {run}: list {:.2} s, daemon sync {seconds:.2} s",
                elapsed.as_secs_f64(),
            );
        }
        results.push((
            name,
            bodies.iter().map(Vec::len).sum::<usize>(),
            percentile(&mut fetch, 0.5),
            0.0,
            percentile(&mut sync, 0.5),
            0.0,
        ));
        last_bodies.push(bodies);
    }
    // Decode CPU: the two encodings in turn, so a change in the machine's
    // load while the benchmark runs falls on both alike.
    let (mut decode, mut informer) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for round in 0..runs.max(3) {
        for (i, bodies) in last_bodies.iter().enumerate() {
            let protobuf = i == 1;
            let (cpu, decoded) = decode_pages(bodies, protobuf, false);
            assert_eq!(decoded, pods, "every pod decodes");
            decode[i].push(cpu.as_secs_f64() * 1e6 / pods as f64);
            let (cpu, _) = decode_pages(bodies, protobuf, true);
            informer[i].push(cpu.as_secs_f64() * 1e6 / pods as f64);
            eprintln!(
                "{} decode round {round}: {:.1} µs/pod (informer's {:.1})",
                results[i].0,
                decode[i].last().copied().unwrap_or_default(),
                informer[i].last().copied().unwrap_or_default(),
            );
        }
    }
    for (i, result) in results.iter_mut().enumerate() {
        result.3 = percentile(&mut decode[i], 0.5);
        result.5 = percentile(&mut informer[i], 0.5);
    }
    let (json, pb) = (&results[0], &results[1]);
    for (name, bytes, fetch, decode, sync, informer) in &results {
        table.row(
            &format!("{name}: pod list bytes ({pods} pods, pages of 500)"),
            format!(
                "{:.1} MB ({:.0} B/pod)",
                *bytes as f64 / 1e6,
                *bytes as f64 / pods as f64
            ),
            "",
            "",
        );
        table.row(
            &format!("{name}: decode CPU per pod (one thread, whole Lean<Pod>)"),
            format!("p50 {decode:.1} µs"),
            "",
            "",
        );
        table.row(
            &format!("{name}: the informer's decode per pod (json: whole + JSON for Get; protobuf: pruned + bytes kept)"),
            format!("p50 {informer:.1} µs"),
            "",
            "",
        );
        table.row(
            &format!("{name}: raw paged list / daemon pod sync"),
            format!("p50 {fetch:.2} s / {sync:.2} s"),
            "",
            "",
        );
    }
    table.row(
        "protobuf ÷ json: bytes",
        format!("{:.2}×", pb.1 as f64 / json.1 as f64),
        "≤ 0.7×",
        "",
    );
    table.row(
        "protobuf ÷ json: decode CPU per pod (whole objects)",
        format!("{:.2}×", pb.3 / json.3),
        "≤ 0.6×",
        "",
    );
    table.row(
        "protobuf ÷ json: the informer's decode per pod",
        format!("{:.2}×", pb.5 / json.5),
        "",
        "",
    );
    table.row(
        "protobuf ÷ json: daemon pod sync",
        format!("{:.2}×", pb.4 / json.4),
        "",
        "",
    );
    table
}

/// Pod sync time against the raw paged list of the same sim.
async fn bench_sync(pods: usize, runs: usize) -> Table {
    let mut table = Table(Vec::new());
    eprintln!("starting a sim with {pods} pods…");
    let sim = Sim::start(&["--pods", &pods.to_string(), "--namespaces", "50"]);
    // Warm up: the sim encodes each object's protobuf once, on first use.
    pages(&sim, true).await;
    let (mut raw_json, mut raw_protobuf, mut synced) = (Vec::new(), Vec::new(), Vec::new());
    let (mut count, mut json_bytes, mut protobuf_bytes) = (0, 0, 0);
    for run in 0..runs {
        let (json, bodies) = pages(&sim, false).await;
        json_bytes = bodies.iter().map(Vec::len).sum::<usize>();
        let (protobuf, bodies) = pages(&sim, true).await;
        (count, protobuf_bytes) = (bodies.len(), bodies.iter().map(Vec::len).sum::<usize>());
        raw_json.push(json.as_secs_f64());
        raw_protobuf.push(protobuf.as_secs_f64());
        eprintln!(
            "run {run}: raw paged list {:.2} s JSON, {:.2} s protobuf; starting a daemon…",
            json.as_secs_f64(),
            protobuf.as_secs_f64()
        );
        let daemon = Daemon::start(&sim.kubeconfig);
        synced.push(pod_sync_seconds(&daemon));
    }
    let json_p50 = percentile(&mut raw_json, 0.5);
    let protobuf_p50 = percentile(&mut raw_protobuf, 0.5);
    let sync_p50 = percentile(&mut synced, 0.5);
    table.row(
        &format!("raw paged list of {pods} pods, protobuf (the daemon's wire; limit 500, {count} pages, {:.0} MB, bodies read, not decoded)", protobuf_bytes as f64 / 1e6),
        format!("p50 {protobuf_p50:.2} s ({runs} runs)"),
        "",
        "",
    );
    table.row(
        &format!(
            "raw paged list of {pods} pods, JSON ({:.0} MB)",
            json_bytes as f64 / 1e6
        ),
        format!("p50 {json_p50:.2} s"),
        "",
        "",
    );
    table.row(
        &format!("pods informer sync, {pods} pods (the daemon's own clock: start → SYNCED)"),
        format!(
            "p50 {sync_p50:.2} s = {:.1}× the raw protobuf list ({:.1}× the JSON one)",
            sync_p50 / protobuf_p50,
            sync_p50 / json_p50
        ),
        "≤ 1.3×",
        "",
    );
    table
}

fn count_requests(log: &serde_json::Value, since: usize) -> (usize, usize) {
    let requests = log["requests"].as_array().cloned().unwrap_or_default();
    let new = &requests[since.min(requests.len())..];
    let discovery = new
        .iter()
        .filter(|r| {
            let uri = r["uri"].as_str().unwrap_or("");
            uri == "/api" || uri == "/apis" || uri.contains("customresourcedefinitions")
        })
        .count();
    (new.len(), discovery)
}

/// API server requests with 1 and with 10 clients, and change latency
/// through WatchList during churn.
async fn bench_load(pods: usize, window: Duration, samples: usize) -> Table {
    use futures::StreamExt;
    use timoneiro_proto::v1::ListRequest;
    let mut table = Table(Vec::new());
    eprintln!("starting a sim with {pods} pods under 50 changes/s and a daemon…");
    let (sim, daemon) = synced_cluster(pods, 20, 50);
    let socket = daemon.socket.clone();
    let request = ListRequest {
        kind: "pods".into(),
        all_namespaces: true,
        limit: 50,
        ..ListRequest::default()
    };
    // Clients: `timoneiro get` loops and WatchList streams, as CLIs and TUIs.
    let run_clients = |clients: usize, stop: Instant| {
        let mut tasks = Vec::new();
        for i in 0..clients {
            let socket = socket.clone();
            let request = request.clone();
            tasks.push(tokio::spawn(async move {
                let mut answers = 0u64;
                if i % 2 == 0 {
                    while Instant::now() < stop {
                        let output = tokio::process::Command::new(bin("timoneiro"))
                            .args(["get", "pods", "-A", "--limit", "50", "--socket"])
                            .arg(&socket)
                            .output()
                            .await
                            .expect("timoneiro get");
                        assert!(output.status.success());
                        answers += 1;
                    }
                } else {
                    let mut client = timoneiro_client::socket::connect(&socket)
                        .await
                        .expect("connect");
                    let mut stream = client
                        .watch_list(request)
                        .await
                        .expect("watch")
                        .into_inner();
                    while Instant::now() < stop {
                        match tokio::time::timeout(Duration::from_millis(200), stream.next()).await
                        {
                            Ok(Some(Ok(_))) => answers += 1,
                            Ok(_) => panic!("the WatchList stream ended"),
                            Err(_) => {}
                        }
                    }
                }
                answers
            }));
        }
        tasks
    };
    let mut counts = Vec::new();
    for clients in [1usize, 10] {
        let before = sim.json("GET", "/sim/requests").await["requests"]
            .as_array()
            .map_or(0, Vec::len);
        let stop = Instant::now() + window;
        let mut answers = 0;
        for task in run_clients(clients, stop) {
            answers += task.await.expect("client");
        }
        let (all, discovery) = count_requests(&sim.json("GET", "/sim/requests").await, before);
        eprintln!(
            "{clients} clients: {answers} answers, {all} API server requests ({discovery} discovery)"
        );
        counts.push((clients, answers, all, discovery));
    }
    let ratio = |(_, _, all, _): (usize, u64, usize, usize)| all;
    let (one, ten) = (counts[0], counts[1]);
    table.row(
        &format!("API server requests in {:?}: 1 client vs 10 clients (CLI loops + WatchList streams), 50 changes/s", window),
        format!(
            "1 client: {} ({} answers), 10 clients: {} ({} answers); {}",
            ratio(one),
            one.1,
            ratio(ten),
            ten.1,
            if ratio(one) == 0 { "neither caused one".to_string() } else { format!("{:.1}×", ratio(ten) as f64 / ratio(one) as f64) }
        ),
        "1.0×",
        &format!("discovery refreshes (every 30 s, not caused by clients): {} and {}", one.3, ten.3),
    );

    // Change latency: a pod created in the sim → the WatchList answer that
    // has it. The pods go to a namespace of their own, so churn elsewhere
    // cannot push them out of the window.
    let latency_request = ListRequest {
        kind: "pods".into(),
        namespace: "bench-latency".into(),
        limit: 50,
        ..ListRequest::default()
    };
    let mut client = timoneiro_client::socket::connect(&socket)
        .await
        .expect("connect");
    let mut stream = client
        .watch_list(latency_request)
        .await
        .expect("watch")
        .into_inner();
    let _ = stream.next().await;
    let mut latencies = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        let created = sim.json("POST", "/sim/pods?namespace=bench-latency").await;
        let name = created["name"].as_str().unwrap_or_default().to_string();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "pod {name} never arrived"
            );
            let answer = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("an answer within 10 s")
                .expect("stream open")
                .expect("answer");
            if answer.rows.iter().any(|r| r.name == name) {
                break;
            }
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    table.row(
        &format!("pod created in the sim → WatchList answer with it, {pods} pods, 50 changes/s"),
        format!(
            "p50 {:.0} ms, p99 {:.0} ms ({samples} pods)",
            percentile(&mut latencies, 0.5),
            percentile(&mut latencies, 0.99)
        ),
        "≤ 300 ms p99",
        "",
    );
    table
}

/// RSS of the daemon over a long churn, sampled every `every`.
async fn bench_soak(pods: usize, minutes: u64, every: Duration) -> Table {
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
    let help = args.iter().any(|a| a == "--help" || a == "-h");
    let what = args
        .first()
        .map(String::as_str)
        .filter(|_| !help)
        .unwrap_or("help");
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
        "sync" => bench_sync(value("--pods", 100_000), value("--runs", 3)).await,
        "wire" => bench_wire(value("--pods", 10_000), value("--runs", 3)).await,
        "memory" => bench_memory(value("--pods", 100_000)),
        "load" => {
            bench_load(
                value("--pods", 10_000),
                Duration::from_secs(value("--seconds", 60) as u64),
                value("--samples", 100),
            )
            .await
        }
        "soak" => {
            bench_soak(
                value("--pods", 10_000),
                value("--minutes", 30) as u64,
                Duration::from_secs(value("--every", 60) as u64),
            )
            .await
        }
        _ => {
            eprintln!(
                "usage: bench tui [--pods 10000] [--big 100000] [--runs 10]\n       bench query [--pods 100000] [--runs 30]\n       bench cli [--pods 10000] [--runs 30]\n       bench sync [--pods 100000] [--runs 3]\n       bench wire [--pods 10000] [--runs 3]\n       bench memory [--pods 100000]\n       bench load [--pods 10000] [--seconds 60] [--samples 100]\n       bench soak [--pods 10000] [--minutes 30] [--every 60]\n(build first: cargo build --release --workspace)"
            );
            std::process::exit(if help { 0 } else { 2 });
        }
    };
    println!("| metric | measured | target | for reference |");
    println!("|---|---|---|---|");
    for [metric, value, target, reference] in table.0 {
        println!("| {metric} | {value} | {target} | {reference} |");
    }
}
