//! Clients that misuse the socket: a request larger than the
//! daemon accepts, bytes that are not gRPC, and a daemon of another protocol
//! version. Each gets a specific answer, and the daemon keeps serving others.

use std::pin::Pin;
use std::time::Duration;

use futures::Stream;
use timoneiro_proto::v1::timoneiro_server::{Timoneiro, TimoneiroServer};
use timoneiro_proto::v1::{self, ListRequest};
use timoneiro_tests::harness::{Daemon, Sim, eventually, kubeconfig_for, stderr, synced_cluster};
use tonic::{Request, Response, Status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_foreign_requests_are_refused_and_the_daemon_keeps_serving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_sim, daemon) = synced_cluster(&["--pods", "50", "--namespaces", "1"]);

    // 2 MiB of filter: over the daemon's 1 MiB request limit.
    let mut client = daemon.grpc().await;
    let error = client
        .list(ListRequest {
            kind: "pods".into(),
            filter: "x".repeat(2 << 20),
            ..ListRequest::default()
        })
        .await
        .expect_err("refused");
    assert!(
        error.message().contains("too large"),
        "{:?}: {}",
        error.code(),
        error.message()
    );

    // HTTP/1.1 and then noise on the socket: the daemon closes that connection.
    let mut stream = tokio::net::UnixStream::connect(&daemon.socket)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /pods HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01\x02garbage")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "the daemon ends a connection that is not gRPC"
    );

    // Others are served as before, on the same connection and on new ones.
    let pods = client
        .list(ListRequest {
            kind: "pods".into(),
            all_namespaces: true,
            ..ListRequest::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(pods.total, 50);
    assert!(daemon.cli(&["get", "pods", "-A"]).status.success());
}

/// A daemon of another release: it answers Info with another protocol
/// version and nothing else.
struct OtherRelease;

type Never<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl Timoneiro for OtherRelease {
    async fn info(
        &self,
        _: Request<v1::InfoRequest>,
    ) -> Result<Response<v1::InfoResponse>, Status> {
        Ok(Response::new(v1::InfoResponse {
            daemon_version: "0.0.1".into(),
            protocol_version: timoneiro_proto::PROTOCOL_VERSION + 1,
            ..v1::InfoResponse::default()
        }))
    }
    async fn list(&self, _: Request<ListRequest>) -> Result<Response<v1::ListResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    type WatchListStream = Never<v1::ListResponse>;
    async fn watch_list(
        &self,
        _: Request<ListRequest>,
    ) -> Result<Response<Self::WatchListStream>, Status> {
        Err(Status::unimplemented("other release"))
    }
    type ListPagesStream = Never<v1::ListResponse>;
    async fn list_pages(
        &self,
        _: Request<ListRequest>,
    ) -> Result<Response<Self::ListPagesStream>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn get(&self, _: Request<v1::GetRequest>) -> Result<Response<v1::GetResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn describe(
        &self,
        _: Request<v1::DescribeRequest>,
    ) -> Result<Response<v1::DescribeResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn top(&self, _: Request<v1::TopRequest>) -> Result<Response<v1::TopResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn status(
        &self,
        _: Request<v1::StatusRequest>,
    ) -> Result<Response<v1::StatusResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn api_resources(
        &self,
        _: Request<v1::ApiResourcesRequest>,
    ) -> Result<Response<v1::ApiResourcesResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    type WatchStatusStream = Never<v1::StatusResponse>;
    async fn watch_status(
        &self,
        _: Request<v1::StatusRequest>,
    ) -> Result<Response<Self::WatchStatusStream>, Status> {
        Err(Status::unimplemented("other release"))
    }
    type LogsStream = Never<v1::LogsResponse>;
    async fn logs(
        &self,
        _: Request<v1::LogsRequest>,
    ) -> Result<Response<Self::LogsStream>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn delete(
        &self,
        _: Request<v1::DeleteRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn scale(
        &self,
        _: Request<v1::ScaleRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn restart(
        &self,
        _: Request<v1::RestartRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn cordon(
        &self,
        _: Request<v1::CordonRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn trigger_cron_job(
        &self,
        _: Request<v1::TriggerCronJobRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    type ExecStream = Never<v1::ExecOutput>;
    async fn exec(
        &self,
        _: Request<tonic::Streaming<v1::ExecInput>>,
    ) -> Result<Response<Self::ExecStream>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn resolve_forward(
        &self,
        _: Request<v1::ResolveForwardRequest>,
    ) -> Result<Response<v1::ResolveForwardResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
    type PortForwardStream = Never<v1::ForwardOutput>;
    async fn port_forward(
        &self,
        _: Request<tonic::Streaming<v1::ForwardInput>>,
    ) -> Result<Response<Self::PortForwardStream>, Status> {
        Err(Status::unimplemented("other release"))
    }
    type DrainStream = Never<v1::DrainProgress>;
    async fn drain(
        &self,
        _: Request<v1::DrainRequest>,
    ) -> Result<Response<Self::DrainStream>, Status> {
        Err(Status::unimplemented("other release"))
    }
    async fn replace(
        &self,
        _: Request<v1::ReplaceRequest>,
    ) -> Result<Response<v1::ActionResponse>, Status> {
        Err(Status::unimplemented("other release"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_of_another_protocol_version_is_named_and_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A directory of the user's alone, as the daemon makes (clients refuse others).
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod 700");
    let socket = dir.path().join("old.sock");
    let listener = tokio::net::UnixListener::bind(&socket).expect("bind");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TimoneiroServer::new(OtherRelease))
            .serve_with_incoming(tokio_stream::wrappers::UnixListenerStream::new(listener)),
    );
    let socket_for_cli = socket.clone();
    let output = tokio::task::spawn_blocking(move || {
        timoneiro_tests::harness::cli(&socket_for_cli, &["get", "pods"])
    })
    .await
    .expect("cli");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let expected = format!(
        "timoneirod 0.0.1 at {} speaks protocol {}",
        socket.display(),
        timoneiro_proto::PROTOCOL_VERSION + 1
    );
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("restart the daemon from the same release"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreachable_api_server_and_bad_limits_are_named() {
    // Bind then drop: a port nothing listens on.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let (_dir, kubeconfig) = kubeconfig_for(addr);
    let daemon = Daemon::start(&kubeconfig);
    let output = daemon.cli(&["get", "pods", "--timeout", "10s"]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Connection refused"),
        "{}",
        stderr(&output)
    );
    for limit in ["-1", "many"] {
        let output = daemon.cli(&["get", "pods", "--limit", limit]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains("--limit"), "{}", stderr(&output));
    }
}

/// Input that is legal gRPC but pathological: each is refused at once with
/// what is wrong, before anything starts (the unused kind stays PENDING),
/// and a huge list of names is a lookup per row, not a scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pathological_queries_are_refused_before_anything_starts() {
    let (_sim, daemon) = synced_cluster(&["--pods", "50", "--namespaces", "1"]);
    let mut client = daemon.grpc().await;
    // Tier 4: started by its first query only.
    let unused = "ingresses";
    let refusals = [
        ListRequest {
            kind: unused.into(),
            filter: "x".repeat(100_000),
            ..ListRequest::default()
        },
        ListRequest {
            kind: unused.into(),
            filter: (0..65)
                .map(|i| format!("t{i}"))
                .collect::<Vec<_>>()
                .join(" "),
            ..ListRequest::default()
        },
        ListRequest {
            kind: unused.into(),
            label_selector: format!(
                "app in ({})",
                (0..1001)
                    .map(|i| format!("v{i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            ..ListRequest::default()
        },
        ListRequest {
            kind: unused.into(),
            names: (0..1001).map(|i| format!("n{i}")).collect(),
            ..ListRequest::default()
        },
        ListRequest {
            kind: ".".repeat(100_000),
            ..ListRequest::default()
        },
    ];
    let expected = [
        "the filter is 100000 bytes long; at most 1024",
        "more than 64 terms",
        "more than 1000 values in one set",
        "1001 names asked for; at most 1000",
        "a kind name of 100000 characters",
    ];
    for (request, expected) in refusals.into_iter().zip(expected) {
        let started = std::time::Instant::now();
        let error = client.list(request).await.expect_err("refused");
        assert_eq!(error.code(), tonic::Code::InvalidArgument, "{error:?}");
        assert!(error.message().contains(expected), "{}", error.message());
        eprintln!("refused in {:?}: {expected}", started.elapsed());
    }
    let status = daemon.cli_json(&["status", "-o", "json"]);
    let kind = status["kinds"]
        .as_array()
        .and_then(|k| k.iter().find(|k| k["kind"] == unused).cloned())
        .unwrap_or_default();
    assert_eq!(
        kind["state"], "PENDING",
        "started by a refused query: {kind}"
    );

    // At the limits, answered: 1000 names and 1000 selector values.
    let mut names: Vec<String> = (0..999).map(|i| format!("absent-{i}")).collect();
    let first = client
        .list(ListRequest {
            kind: "pods".into(),
            all_namespaces: true,
            limit: 1,
            ..ListRequest::default()
        })
        .await
        .expect("a pod")
        .into_inner()
        .rows[0]
        .name
        .clone();
    names.push(first.clone());
    let answer = client
        .list(ListRequest {
            kind: "pods".into(),
            all_namespaces: true,
            names,
            label_selector: format!(
                "app notin ({})",
                (0..1000)
                    .map(|i| format!("v{i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            ..ListRequest::default()
        })
        .await
        .expect("at the limits")
        .into_inner();
    assert_eq!(
        answer
            .rows
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        [first.as_str()]
    );
}

/// Out of file descriptors (EMFILE), `accept` fails until one is freed. The
/// daemon pauses between failed accepts instead of retrying (and logging)
/// as fast as the loop turns, and serves again once connections close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_file_descriptors_pauses_accepting() {
    let sim = Sim::start(&["--pods", "20", "--namespaces", "1"]);
    let daemon = Daemon::start_with_file_limit(&sim.kubeconfig, 128);
    daemon.wait_synced(Duration::from_secs(60));
    let failed = |daemon: &Daemon| daemon.log_text().matches("accept failed").count();
    // Hold connections until the daemon has no descriptor left for more.
    let mut held = Vec::new();
    for _ in 0..200 {
        held.push(
            tokio::net::UnixStream::connect(&daemon.socket)
                .await
                .expect("connect (the backlog takes it)"),
        );
    }
    let before = eventually(
        "the daemon to run out of descriptors",
        Duration::from_secs(20),
        || {
            let failed = failed(&daemon);
            (failed > 0).then_some(failed)
        },
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let in_two_seconds = failed(&daemon) - before;
    // 200 ms apart: about 10 in two seconds; a spinning loop logs thousands.
    assert!(
        in_two_seconds <= 20,
        "{in_two_seconds} failed accepts logged in 2 s"
    );
    drop(held);
    eventually("the daemon to serve again", Duration::from_secs(20), || {
        daemon.cli(&["status"]).status.success()
    });
}
