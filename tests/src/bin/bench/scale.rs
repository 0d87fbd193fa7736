//! A million pods: the sim (packed), a daemon caching pods, the CLI and
//! the TUI on it.

use std::time::{Duration, Instant};

use timoneiro_proto::v1::{DescribeRequest, GetRequest, ListRequest, ObjectFormat};
use timoneiro_tests::harness::{Daemon, Sim};

use super::common::*;

/// Seeding a million pods and making their protobuf takes minutes.
const WAIT: Duration = Duration::from_secs(3600);

pub(crate) async fn run(pods: usize, namespaces: usize, runs: usize) -> Table {
    let mut table = Table(Vec::new());
    let work = tempfile::tempdir().expect("tempdir");
    eprintln!("seeding a packed sim with {pods} pods in {namespaces} namespaces…");
    let started = Instant::now();
    let sim = Sim::start_within(
        &[
            "--pods",
            &pods.to_string(),
            "--namespaces",
            &namespaces.to_string(),
            "--pack",
        ],
        WAIT,
    );
    let seeded = started.elapsed();
    // The sim makes each object's protobuf on its first list: list once
    // so that the daemon's sync is timed against a warm server.
    eprintln!("sim seeded in {seeded:.0?}; listing its pods once (it makes their protobuf)…");
    let (mut bytes, mut pages) = (0, 0);
    let first = each_page(&sim, true, |body| {
        bytes += body.len();
        pages += 1;
    })
    .await;
    let raw = each_page(&sim, true, |_| {}).await;
    table.row(
        &format!("the sim: {pods} pods seeded (packed) / first protobuf list / a raw paged protobuf list ({pages} pages, {:.0} MB)", bytes as f64 / 1e6),
        format!(
            "{:.0} s / {:.1} s / {:.1} s; sim RSS {:.1} GiB",
            seeded.as_secs_f64(),
            first.as_secs_f64(),
            raw.as_secs_f64(),
            rss_kib(sim.pid()).unwrap_or(0) as f64 / 1024.0 / 1024.0
        ),
        "",
        "what the daemon's sync reads",
    );

    eprintln!("starting a daemon caching pods only…");
    let config = pods_only_config(work.path());
    let daemon = Daemon::start_configured(&sim.kubeconfig, &config);
    let sync = pod_sync_seconds_within(&daemon, WAIT);
    table.row(
        &format!("pods sync, {pods} pods (daemon's clock: start → SYNCED)"),
        format!(
            "{sync:.1} s ({:.2}× the raw paged list)",
            sync / raw.as_secs_f64()
        ),
        "",
        "",
    );
    let kib = settled_rss_kib(&daemon);
    table.row(
        &format!("daemon RSS, {pods} pods cached (pods only, settled)"),
        format!(
            "{:.2} GiB ({:.2} KiB per pod, baseline included)",
            kib as f64 / 1024.0 / 1024.0,
            kib as f64 / pods as f64
        ),
        "≤ 1.2 GiB (issue 21)",
        "client-go informers: ≈36 KiB per pod",
    );
    queries(&mut table, &daemon, pods, runs).await;
    lookups(&mut table, &daemon, pods, runs).await;
    table.row(
        "daemon RSS after those queries (the walked orders and STATUS's sort keys made)",
        format!(
            "{:.2} GiB",
            rss_kib(daemon.pid()).unwrap_or(0) as f64 / 1024.0 / 1024.0
        ),
        "≤ 1.2 GiB (issue 21)",
        "",
    );

    let measured = measured_cli(&daemon, &["get", "pods", "-A"]);
    table.row(
        &format!(
            "`timoneiro get pods -A` piped to `wc -l`, {pods} pods: {} lines ({:.0} MB), whole process",
            measured.lines,
            measured.stdout_bytes as f64 / 1e6
        ),
        format!(
            "{:.2} s, peak RSS {:.1} MiB",
            measured.millis / 1000.0,
            measured.peak_kib as f64 / 1024.0
        ),
        "streams: bounded memory",
        "",
    );

    eprintln!("typing filters into the TUI…");
    let log = work.path().join("tui.log");
    let tmux = tui(&daemon.socket, &log, true);
    super::tui::filter_keystrokes(&tmux, &log).rows(
        &mut table,
        &format!("TUI filter keystroke → new frame drawn, {pods} pods (TUI's own clock)"),
        "≤ 50 ms",
        "",
    );
    tmux.send(&["q"]);
    table
}

/// Daemon-side List windows, sorts and fuzzy filters (its `query_micros`).
async fn queries(table: &mut Table, daemon: &Daemon, pods: usize, runs: usize) {
    let mut client = timoneiro_client::socket::connect(&daemon.socket)
        .await
        .expect("connect");
    let cases: &[(&str, &str, &str, &str)] = &[
        ("List 50 rows, no filter", "", "", "≤ 1 ms"),
        ("List 50 rows, sorted by name", "", "NAME", "≤ 1 ms"),
        ("List 50 rows, sorted by STATUS", "", "STATUS", "≤ 1 ms"),
        ("fuzzy filter \"running\"", "running", "", "≤ 60 ms"),
        ("fuzzy filter \"web 1/1\"", "web 1/1", "", "≤ 60 ms"),
        (
            "filter \"crash !analytics\"",
            "crash !analytics",
            "",
            "≤ 60 ms",
        ),
    ];
    for &case in cases {
        list_window_row(table, &mut client, case, pods, runs).await;
    }
}

/// One pod by name (`Get`, `Describe`), round trips from this process:
/// an index lookup, not a scan of a million rows.
async fn lookups(table: &mut Table, daemon: &Daemon, pods: usize, runs: usize) {
    let mut client = timoneiro_client::socket::connect(&daemon.socket)
        .await
        .expect("connect");
    let request = ListRequest {
        kind: "pods".into(),
        all_namespaces: true,
        sort_by: "-NAME".into(),
        limit: runs as u32,
        ..ListRequest::default()
    };
    let rows = client.list(request).await.expect("list").into_inner().rows;
    let (mut gets, mut describes) = (Vec::new(), Vec::new());
    for row in &rows {
        let started = Instant::now();
        client
            .get(GetRequest {
                kind: "pods".into(),
                namespace: row.namespace.clone(),
                name: row.name.clone(),
                format: ObjectFormat::Yaml as i32,
                ..GetRequest::default()
            })
            .await
            .expect("get");
        gets.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        client
            .describe(DescribeRequest {
                kind: "pods".into(),
                namespace: row.namespace.clone(),
                name: row.name.clone(),
                ..DescribeRequest::default()
            })
            .await
            .expect("describe");
        describes.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    table.row(
        &format!("Get one pod as YAML, {pods} pods (round trip)"),
        p50_p99_ms(&mut gets, 2),
        "an index, not a scan",
        "",
    );
    table.row(
        &format!("Describe one pod, {pods} pods (round trip; its events come from the server: events are not cached here)"),
        p50_p99_ms(&mut describes, 1),
        "",
        "",
    );
}
