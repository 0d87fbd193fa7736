//! Decoding a paged list, JSON against protobuf, bare and through the informer.

use std::time::{Duration, Instant};

use timoneiro_tests::harness::{Daemon, Sim};

use super::common::*;

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
pub(crate) async fn run(pods: usize, runs: usize) -> Table {
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
    rows(&mut table, &results, pods);
    table
}

/// One encoding's figures: name, list bytes, raw list seconds, decode µs
/// per pod, daemon sync seconds, the informer's decode µs per pod.
type Figures = (&'static str, usize, f64, f64, f64, f64);

/// The table: each encoding's figures, then protobuf against JSON.
fn rows(table: &mut Table, results: &[Figures], pods: usize) {
    let (json, pb) = (&results[0], &results[1]);
    for (name, bytes, fetch, decode, sync, informer) in results {
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
}
