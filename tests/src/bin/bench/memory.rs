//! Daemon RSS per cached pod.

use timoneiro_tests::harness::{Daemon, Sim};

use super::common::*;

/// RSS growth per cached pod (the memory target): a daemon caching
/// pods only (every other kind on demand, so nothing else is cached)
/// against a sim of `pods` pods, minus the same daemon against a sim of
/// none, both once their RSS has settled after the sync.
pub(crate) async fn run(pods: usize) -> Table {
    let mut table = Table(Vec::new());
    let work = tempfile::tempdir().expect("tempdir");
    let config = pods_only_config(work.path());
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
        "≤ 1.0 KiB (issue 21)",
        "client-go informers: ≈36 KiB per pod",
    );
    breakdown(&mut table, pods).await;
    table
}

/// What a cached pod holds, field by field: the sim's pods (recorded
/// shape) decoded from its protobuf list and projected as the daemon does,
/// in this process, their parts' sizes summed. Requested bytes: the
/// allocator rounds each allocation up to its size class, and RSS adds the
/// allocator's own overhead, which the growth above includes.
async fn breakdown(table: &mut Table, pods: usize) {
    use timoneirod::catalog::Builtin;
    use timoneirod::descriptor::Body;
    use timoneirod::row::Row;
    let sim = Sim::start(&["--pods", &pods.to_string(), "--namespaces", "50"]);
    let (status, _, body) = sim
        .raw(
            "GET",
            "/api/v1/pods",
            Some("application/vnd.kubernetes.protobuf"),
        )
        .await;
    assert_eq!(status, 200, "the sim's pod list");
    let kind = Builtin::PODS.descriptor();
    let (parts, codec) = kind
        .cache
        .decode(kind, Body::Protobuf(&body))
        .expect("the pods decode");
    // As the daemon's informer does once the kind is listed: the objects
    // kept while the dictionary trained are compressed again with it.
    codec.listed();
    codec.wait_trained();
    let rows: Vec<Row> = parts
        .into_iter()
        .map(|mut parts| {
            if let Some(again) = codec.recompress(&parts.object) {
                parts.object = again.into_vec();
            }
            Row::new(parts, |ns| std::sync::Arc::from(ns))
        })
        .collect();
    // CompactString keeps up to 24 bytes inline.
    let heap = |s: &str| if s.len() > 24 { s.len() } else { 0 };
    let (slot, index_entry) = timoneirod::row_table::RowTable::slot_bytes();
    let n = rows.len().max(1) as f64;
    let sum = |f: &dyn Fn(&Row) -> usize| rows.iter().map(f).sum::<usize>() as f64 / n;
    let fields: [(&str, f64); 8] = [
        (
            "Row itself (namespace pointer, name inline, lengths) + Arc header",
            (std::mem::size_of::<Row>() + 16) as f64,
        ),
        ("name beyond 24 bytes", sum(&|r| heap(&r.name))),
        (
            "uid beyond the row (none: a UUID is 16 bytes in the row)",
            sum(&|r| r.uid.heap_bytes()),
        ),
        (
            "cells and labels, packed in one allocation (counts, moments, text ends, texts)",
            sum(&|r| r.fields.heap_bytes()),
        ),
        (
            "kept object (protobuf, zstd with the kind's dictionary; the first 1,000, kept while it trained, compressed again with it)",
            sum(&|r| r.object.len()),
        ),
        (
            "search text (the scan arena)",
            sum(&|r| r.search_text().len()),
        ),
        (
            "row table slot (creation time, name key, namespace, text, row)",
            slot as f64,
        ),
        (
            "index entries by uid and by namespace/name (a slot position and a control byte each); each order a query walks (newest, name) adds a key and position, 12 B + B-tree nodes, not made here",
            index_entry as f64,
        ),
    ];
    let total: f64 = fields.iter().map(|(_, bytes)| bytes).sum();
    for (field, bytes) in fields {
        table.row(
            &format!("… per pod: {field}"),
            format!("{bytes:.0} B ({:.0} %)", 100.0 * bytes / total),
            "",
            "",
        );
    }
    table.row(
        &format!("… per pod: the parts above together ({} pods)", rows.len()),
        format!("{:.0} B = {:.2} KiB", total, total / 1024.0),
        "",
        "",
    );
}
