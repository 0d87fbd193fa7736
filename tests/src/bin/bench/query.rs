//! Daemon-side List: windows, sorts and filters over a big cache.

use super::common::*;

/// Daemon-side List time (the daemon's own `query_micros`) over a big cluster.
pub(crate) async fn run(pods: usize, runs: usize) -> Table {
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
            "≤ 1.5 KiB per pod",
            "client-go informers: ≈36 KiB per pod",
        );
    }
    // The costliest filter the daemon accepts (64 terms), each
    // term matching nearly every row: how long one query holds the store.
    let widest = ["running"; 64].join(" ");
    let cases: &[(&str, &str, &str)] = &[
        ("List 50 rows, no filter", "", ""),
        ("List 50 rows, sorted by name", "", "NAME"),
        ("List 50 rows, sorted by namespace", "", "NAMESPACE"),
        ("List 50 rows, sorted by READY", "", "READY"),
        ("List 50 rows, sorted by STATUS", "", "STATUS"),
        ("List 50 rows, sorted by -RESTARTS", "", "-RESTARTS"),
        ("List 50 rows, sorted by AGE", "", "AGE"),
        ("List 50 rows, sorted by IP", "", "IP"),
        ("List 50 rows, sorted by NODE", "", "NODE"),
        ("fuzzy filter \"running\"", "running", ""),
        ("fuzzy filter \"web 1/1\"", "web 1/1", ""),
        ("filter \"crash !analytics\"", "crash !analytics", ""),
        ("anchored filter \"^api\"", "^api", ""),
        ("widest filter accepted, 64 × \"running\"", &widest, ""),
    ];
    for &(name, filter, sort) in cases {
        let target = if filter.is_empty() {
            "≤ 1 ms p50"
        } else {
            "≤ 10 ms p50"
        };
        list_window_row(
            &mut table,
            &mut client,
            (name, filter, sort, target),
            pods,
            runs,
        )
        .await;
    }
    table
}
