//! Many CLI clients and watch streams at once, under churn.

use std::time::{Duration, Instant};

use timoneiro_tests::harness::{Sim, bin};

use super::common::*;

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
pub(crate) async fn run(pods: usize, window: Duration, samples: usize) -> Table {
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
    let mut counts = Vec::new();
    for clients in [1usize, 10] {
        let before = sim.json("GET", "/sim/requests").await["requests"]
            .as_array()
            .map_or(0, Vec::len);
        let stop = Instant::now() + window;
        let mut answers = 0;
        for task in run_clients(&socket, &request, clients, stop) {
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

    let mut latencies = change_latencies(&sim, &socket, samples).await;
    table.row(
        &format!("pod created in the sim → WatchList answer with it, {pods} pods, 50 changes/s"),
        format!("{} ({samples} pods)", p50_p99_ms(&mut latencies, 0)),
        "≤ 300 ms p99",
        "",
    );
    table
}

/// `clients` clients until `stop`: half `timoneiro get` loops (as CLIs),
/// half WatchList streams (as TUIs). Each task counts its answers.
fn run_clients(
    socket: &std::path::Path,
    request: &timoneiro_proto::v1::ListRequest,
    clients: usize,
    stop: Instant,
) -> Vec<tokio::task::JoinHandle<u64>> {
    use futures::StreamExt;
    let mut tasks = Vec::new();
    for i in 0..clients {
        let socket = socket.to_path_buf();
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
                    match tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
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
}

/// A pod created in the sim → the WatchList answer that has it, `samples`
/// times. The pods go to a namespace of their own, so churn elsewhere
/// cannot push them out of the window.
async fn change_latencies(sim: &Sim, socket: &std::path::Path, samples: usize) -> Vec<f64> {
    use futures::StreamExt;
    use timoneiro_proto::v1::ListRequest;
    let latency_request = ListRequest {
        kind: "pods".into(),
        namespace: "bench-latency".into(),
        limit: 50,
        ..ListRequest::default()
    };
    let mut client = timoneiro_client::socket::connect(socket)
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
    latencies
}
