//! `timoneiro get pods -A` as a whole process, and where its time goes.

use std::io::Write;
use std::time::Instant;

use timoneiro_proto::v1::ListRequest;

use super::common::*;

/// `timoneiro get pods -A` as a whole process, printing every row to a
/// pipe; then the same answer taken apart: process start and connect, the
/// daemon's query, the answer's encoding + socket + decoding, the layout,
/// the write.
pub(crate) async fn run(pods: usize, runs: usize) -> Table {
    let mut table = Table(Vec::new());
    eprintln!("starting a sim with {pods} pods and a daemon…");
    let (_sim, daemon) = synced_cluster(pods, 20, 0);
    for (args, what, target, reference) in [
        (
            &["get", "pods", "-A"][..],
            "`timoneiro get pods -A`",
            "≤ 30 ms p50, ≤ 16 MiB peak (issue 21, real server)",
            "`kubectl get pods -A`: ≈3.6 s at 10k pods",
        ),
        (
            &["get", "pods", "-A", "-o", "json"][..],
            "`timoneiro get pods -A -o json`",
            "≤ 0.6 s, ≤ 64 MiB peak (issue 21, real server)",
            "kubectl: 17 s, 2 GB at 10k pods (issue 21)",
        ),
    ] {
        let mut millis = Vec::new();
        let mut peaks = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let measured = measured_cli(&daemon, args);
            millis.push(measured.millis);
            peaks.push(measured.peak_kib as f64 / 1024.0);
            last = Some(measured);
        }
        let last = last.expect("at least one run");
        table.row(
            &format!(
                "{what}, {} lines ({:.1} MB) to a pipe, whole process",
                last.lines,
                last.stdout_bytes as f64 / 1e6
            ),
            format!(
                "{} ({runs} runs); peak RSS p50 {:.1} MiB",
                p50_p99_ms(&mut millis, 1),
                percentile(&mut peaks, 0.5)
            ),
            target,
            reference,
        );
    }
    parts(&mut table, &daemon, runs).await;
    table
}

/// The parts of one `get pods -A`, each measured on its own `runs` times.
async fn parts(table: &mut Table, daemon: &timoneiro_tests::harness::Daemon, runs: usize) {
    // Process start, connect and the protocol check: a query of one row.
    let mut fixed = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let output = daemon.cli(&["get", "pods", "-A", "--limit", "1"]);
        fixed.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(output.status.success(), "timoneiro get --limit 1 failed");
    }
    let mut client = daemon.grpc().await;
    let request = ListRequest {
        kind: "pods".into(),
        all_namespaces: true,
        ..ListRequest::default()
    };
    let (mut query, mut rpc, mut layout, mut write) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let answer = client
            .list(request.clone())
            .await
            .expect("List")
            .into_inner();
        rpc.push(started.elapsed().as_secs_f64() * 1000.0);
        query.push(answer.query_micros as f64 / 1000.0);
        bytes = prost::Message::encoded_len(&answer);
        let started = Instant::now();
        let now = timoneiro_client::render::now_unix_ms();
        let text = timoneiro_cli::table::render(&answer.columns, &answer.rows, now, true);
        layout.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let mut sink = std::io::BufWriter::new(std::fs::File::create("/dev/null").expect("null"));
        for line in &text {
            writeln!(sink, "{line}").expect("write");
        }
        sink.flush().expect("flush");
        write.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let p50 = |samples: &mut Vec<f64>| percentile(samples, 0.5);
    let query_p50 = p50(&mut query);
    let rpc_p50 = p50(&mut rpc);
    table.row(
        "… process start + connect + protocol check (`get pods -A --limit 1`)",
        format!("p50 {:.1} ms", p50(&mut fixed)),
        "",
        "",
    );
    table.row(
        "… daemon: query (filter, sort, window; its own clock)",
        format!("p50 {query_p50:.1} ms"),
        "",
        "",
    );
    table.row(
        &format!(
            "… answer: build, encode ({:.1} MB), socket, decode (List call minus query)",
            bytes as f64 / 1e6
        ),
        format!("p50 {:.1} ms", rpc_p50 - query_p50),
        "",
        "",
    );
    table.row(
        "… CLI layout (kubectl's columns, ages)",
        format!("p50 {:.1} ms", p50(&mut layout)),
        "",
        "",
    );
    table.row(
        "… CLI write (to /dev/null, buffered)",
        format!("p50 {:.1} ms", p50(&mut write)),
        "",
        "",
    );
}
