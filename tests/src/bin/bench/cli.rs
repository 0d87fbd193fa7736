//! `timoneiro get pods -A` as a whole process, and where its time goes.

use std::io::Write;
use std::time::Instant;

use timoneiro_cli::objects::{ListFormat, ListWriter};
use timoneiro_cli::table::{pad_line, paged_layout, row_line};
use timoneiro_proto::v1::{ListRequest, ListResponse};

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

/// The parts of one `get pods -A` and one `-o json`, each measured on its
/// own `runs` times.
async fn parts(table: &mut Table, daemon: &timoneiro_tests::harness::Daemon, runs: usize) {
    // Process start, connect and the protocol check: a query of one row.
    let mut fixed = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let output = daemon.cli(&["get", "pods", "-A", "--limit", "1"]);
        fixed.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(output.status.success(), "timoneiro get --limit 1 failed");
    }
    table.row(
        "… process start + connect + protocol check (`get pods -A --limit 1`)",
        format!("p50 {:.1} ms", percentile(&mut fixed, 0.5)),
        "",
        "",
    );
    let mut client = daemon.grpc().await;
    for objects in [false, true] {
        let request = ListRequest {
            kind: "pods".into(),
            all_namespaces: true,
            objects,
            ..ListRequest::default()
        };
        let mut samples: [Vec<f64>; 5] = Default::default();
        let (mut bytes, mut pages) = (0, 0);
        for _ in 0..runs {
            let started = Instant::now();
            let mut stream = client
                .list_pages(request.clone())
                .await
                .expect("ListPages")
                .into_inner();
            let mut answer: Vec<ListResponse> = Vec::new();
            while let Some(page) = stream.message().await.expect("a page") {
                if answer.is_empty() {
                    samples[1].push(started.elapsed().as_secs_f64() * 1000.0);
                }
                answer.push(page);
            }
            samples[2].push(started.elapsed().as_secs_f64() * 1000.0);
            samples[0].push(answer[0].query_micros as f64 / 1000.0);
            bytes = answer
                .iter()
                .map(prost::Message::encoded_len)
                .sum::<usize>();
            pages = answer.len();
            let started = Instant::now();
            let text = print(&answer, objects);
            samples[3].push(started.elapsed().as_secs_f64() * 1000.0);
            let started = Instant::now();
            let mut sink =
                std::io::BufWriter::new(std::fs::File::create("/dev/null").expect("null"));
            sink.write_all(text.as_bytes()).expect("write");
            sink.flush().expect("flush");
            samples[4].push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let [query, first, all, layout, write] = &mut samples;
        let what = if objects { "`-o json`" } else { "table" };
        let rows = [
            format!("… {what}: daemon query (filter, sort, window, widths; its own clock)"),
            format!("… {what}: ListPages call → first page decoded"),
            format!(
                "… {what}: ListPages call → all {pages} pages ({:.1} MB) decoded",
                bytes as f64 / 1e6
            ),
            if objects {
                format!("… {what}: CLI parses the objects and prints the List (one thread)")
            } else {
                format!("… {what}: CLI layout (kubectl's columns, ages)")
            },
            format!("… {what}: CLI write (to /dev/null, buffered)"),
        ];
        for (metric, samples) in rows.iter().zip([query, first, all, layout, write]) {
            table.row(
                metric,
                format!("p50 {:.1} ms", percentile(samples, 0.5)),
                "",
                "",
            );
        }
    }
}

/// What the CLI prints for the pages of an answer: the table padded to the
/// first page's widths, or the List of objects.
fn print(pages: &[ListResponse], objects: bool) -> String {
    let mut text = String::new();
    if objects {
        let (mut writer, head) = ListWriter::begin(ListFormat::Json);
        text.push_str(&head);
        for page in pages {
            for item in
                timoneiro_cli::objects::items(pages[0].kind.as_ref(), &page.rows).expect("objects")
            {
                text.push_str(&writer.item(&item).expect("JSON"));
            }
        }
        text.push_str(&writer.end());
        return text;
    }
    let first = &pages[0];
    let now = first.now_unix_ms;
    let (header, widths) = paged_layout(&first.columns, &first.widths, true);
    text.push_str(&pad_line(&header, &widths));
    text.push('\n');
    for page in pages {
        for row in &page.rows {
            text.push_str(&row_line(row, now, &widths));
            text.push('\n');
        }
    }
    text
}
