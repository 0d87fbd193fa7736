//! Load: 100 CLI processes querying at once plus 10 `WatchList`
//! streams, under 50 changes/s of churn, for a minute. No request fails, a
//! stream whose reader stalls is skipped forward (it gets the newest state,
//! not a backlog) without slowing the others, and the daemon's memory stays
//! bounded.
//!
//! A test binary of its own: cargo runs test binaries one after another, so
//! this load does not starve the other end-to-end tests.
//! `TIMONEIRO_LOAD_SECONDS` changes the minute (e.g. for a longer soak).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use timoneiro_proto::v1::ListRequest;
use timoneiro_tests::harness::{stderr, synced_cluster};

/// The daemon's resident memory, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn watch_request(filter: &str) -> ListRequest {
    ListRequest {
        kind: "pods".into(),
        all_namespaces: true,
        filter: filter.into(),
        limit: 50,
        ..ListRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_of_100_cli_clients_and_10_streams_under_churn() {
    let seconds: u64 = std::env::var("TIMONEIRO_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let (sim, daemon) =
        synced_cluster(&["--pods", "3000", "--namespaces", "10", "--churn-rate", "50"]);
    let socket = daemon.socket.clone();
    let pid = daemon.pid();
    let rss_before = rss_kib(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(seconds);

    // 100 CLI clients, each running queries back to back as processes.
    let queries = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for i in 0..100 {
        let socket = socket.clone();
        let stop = stop.clone();
        let queries = queries.clone();
        clients.push(std::thread::spawn(move || {
            let args: Vec<String> = match i % 4 {
                0 => vec!["get".into(), "pods".into(), "-A".into()],
                1 => vec![
                    "get".into(),
                    "pods".into(),
                    "-A".into(),
                    "--filter".into(),
                    format!(
                        "{} !kube-system",
                        ["a", "e", "o", "i", "n", "s", "r"][i % 7]
                    ),
                ],
                2 => vec![
                    "get".into(),
                    "deploy".into(),
                    "-A".into(),
                    "-o".into(),
                    "wide".into(),
                ],
                _ => vec![
                    "get".into(),
                    "pods".into(),
                    "-A".into(),
                    "-o".into(),
                    "json".into(),
                    "--limit".into(),
                    "20".into(),
                ],
            };
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut failures = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let output = timoneiro_tests::harness::cli(&socket, &args);
                queries.fetch_add(1, Ordering::SeqCst);
                if !output.status.success() || !stderr(&output).is_empty() {
                    failures.push(format!("{args:?}: {:?} {}", output.status, stderr(&output)));
                }
            }
            failures
        }));
    }

    // 10 streams read as fast as they can; count their updates.
    let mut streams = Vec::new();
    for i in 0..10 {
        let socket = socket.clone();
        let stop = stop.clone();
        streams.push(tokio::spawn(async move {
            let mut client = timoneiro_client::socket::connect(&socket)
                .await
                .expect("connect");
            let filter = if i % 2 == 0 { "" } else { "app" };
            let mut stream = client
                .watch_list(watch_request(filter))
                .await
                .expect("watch_list")
                .into_inner();
            let mut updates = 0u64;
            while !stop.load(Ordering::SeqCst) {
                match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
                    Ok(Some(Ok(_))) => updates += 1,
                    Ok(Some(Err(status))) => return Err(format!("stream {i}: {status}")),
                    Ok(None) => return Err(format!("stream {i} ended")),
                    Err(_) => return Err(format!("stream {i}: no update for 30 s under churn")),
                }
            }
            Ok(updates)
        }));
    }

    // One reader that stalls: it reads once, then not at all for a third of
    // the run. It watches every pod (no window), so any answer sent after a
    // pod was created has it, however slowly the loaded daemon answers.
    let mut client = timoneiro_client::socket::connect(&socket)
        .await
        .expect("connect");
    let mut slow = client
        .watch_list(ListRequest {
            limit: 0,
            ..watch_request("")
        })
        .await
        .expect("watch_list")
        .into_inner();
    slow.next().await.expect("first").expect("ok");
    let stall = Duration::from_secs((seconds / 3).max(5));
    let rss_mid_start = rss_kib(pid);
    tokio::time::sleep(stall).await;
    // A pod created now: the stalled reader sees it after the few answers
    // queued in the stream's buffers, not after one answer per version it
    // missed (a hundred or more by now).
    let marker = sim.json("POST", "/sim/pods").await["name"]
        .as_str()
        .expect("name")
        .to_string();
    let mut backlog = 0;
    loop {
        let answer = tokio::time::timeout(Duration::from_secs(30), slow.next())
            .await
            .expect("the stalled stream resumes")
            .expect("open")
            .expect("ok");
        if answer.rows.iter().any(|r| r.name == marker) {
            break;
        }
        backlog += 1;
        assert!(
            backlog < 50,
            "a stalled reader gets a backlog of every version it missed"
        );
    }

    tokio::time::sleep(deadline.saturating_duration_since(Instant::now())).await;
    let rss_after = rss_kib(pid);
    stop.store(true, Ordering::SeqCst);
    let mut failures = Vec::new();
    for client in clients {
        failures.extend(client.join().expect("client thread"));
    }
    let mut updates = Vec::new();
    for stream in streams {
        match stream.await.expect("stream task") {
            Ok(n) => updates.push(n),
            Err(error) => failures.push(error),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures, first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let done = queries.load(Ordering::SeqCst);
    assert!(done >= 100, "the CLI clients ran: {done}");
    // While the slow reader stalled, every other stream kept getting updates
    // (churn changes pods all the time; they get at most one answer per 100 ms).
    let fewest = updates.iter().copied().min().unwrap_or(0);
    assert!(
        fewest > backlog,
        "fast streams got {updates:?} updates, the stalled one a backlog of {backlog}"
    );
    // Memory: bounded under load (no per-request or per-version growth).
    eprintln!(
        "load: {done} CLI queries, stream updates {updates:?}, stalled backlog {backlog}, RSS {rss_before} -> {rss_mid_start} -> {rss_after} KiB"
    );
    assert!(
        rss_after < rss_before * 2 + 64 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
    assert!(daemon.cli(&["get", "pods", "-A"]).status.success());
}
