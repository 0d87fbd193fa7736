//! The pods informer sync against the raw paged list it reads.

use timoneiro_tests::harness::{Daemon, Sim};

use super::common::*;

/// Pod sync time against the raw paged list of the same sim.
pub(crate) async fn run(pods: usize, runs: usize) -> Table {
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
