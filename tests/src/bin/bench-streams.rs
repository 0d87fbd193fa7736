//! Figures of exec and port-forward, on release binaries against the sim:
//!
//! - keystroke → echo of an interactive shell (a TTY): a byte sent on the
//!   daemon's Exec stream until its echo comes back, through the daemon,
//!   kube's WebSocket client and the API server (the sim's line discipline
//!   echoes at once, so this is our path's cost);
//! - port-forward through the CLI (`timoneiro port-forward`): a new
//!   connection's first answer, and bulk throughput both ways, with the
//!   CPU the daemon and the CLI spend per GiB.
//!
//! `cargo build --release --workspace && target/release/bench-streams`
//! prints a Markdown table (BENCHMARKS.md).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::Value;
use timoneiro_proto::v1;
use timoneiro_proto::v1::exec_input::Input;
use timoneiro_proto::v1::exec_output::Output;
use timoneiro_tests::harness::{Daemon, Sim, cli_command};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

#[derive(Debug, Parser)]
#[command(about = "exec keystroke echo and port-forward throughput, as a Markdown table")]
struct Args {
    /// Pods in the simulated cluster.
    #[arg(long, default_value_t = 2000)]
    pods: usize,
    /// Keystrokes timed.
    #[arg(long, default_value_t = 300)]
    keys: usize,
    /// New connections timed through the forward.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// MiB moved each way for throughput.
    #[arg(long, default_value_t = 512)]
    mib: u64,
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

/// CPU seconds (user + system) a process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15; after "pid (comm)" they are 11 and 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// A running pod whose first container declares a port: namespace, name, port.
async fn pod_with_port(sim: &Sim) -> (String, String, u64) {
    let pods = sim.json("GET", "/api/v1/pods").await;
    pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["status"]["phase"] == "Running")
        .find_map(|p: &Value| {
            let port = p["spec"]["containers"][0]["ports"][0]["containerPort"].as_u64()?;
            let image = p["spec"]["containers"][0]["image"].as_str()?;
            (!image.contains("busybox")).then(|| {
                (
                    p["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    p["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    port,
                )
            })
        })
        .expect("a running pod with a declared port")
}

/// Keystroke → echo on a TTY shell, in milliseconds.
async fn echo_latencies(daemon: &Daemon, namespace: &str, pod: &str, keys: usize) -> Vec<f64> {
    let mut client = timoneiro_client::socket::connect(&daemon.socket)
        .await
        .expect("connect");
    let (tx, rx) = mpsc::channel(16);
    let start = v1::ExecStart {
        namespace: namespace.into(),
        pod: pod.into(),
        command: vec!["sh".into()],
        stdin: true,
        tty: true,
        size: Some(v1::TerminalSize {
            width: 200,
            height: 50,
        }),
        ..v1::ExecStart::default()
    };
    tx.send(v1::ExecInput {
        input: Some(Input::Start(start)),
    })
    .await
    .expect("start");
    let mut outputs = client
        .exec(ReceiverStream::new(rx))
        .await
        .expect("exec")
        .into_inner();
    // The prompt first.
    loop {
        match outputs.message().await.expect("output") {
            Some(v1::ExecOutput {
                output: Some(Output::Stdout(bytes)),
            }) if bytes.ends_with(b"# ") => break,
            Some(_) => {}
            None => panic!("the shell ended before its prompt"),
        }
    }
    let mut samples = Vec::with_capacity(keys);
    for i in 0..keys {
        let key = b'a' + (i % 26) as u8;
        let sent = Instant::now();
        tx.send(v1::ExecInput {
            input: Some(Input::Stdin(vec![key])),
        })
        .await
        .expect("key");
        loop {
            match outputs.message().await.expect("output") {
                Some(v1::ExecOutput {
                    output: Some(Output::Stdout(bytes)),
                }) if bytes.contains(&key) => break,
                Some(_) => {}
                None => panic!("the shell ended"),
            }
        }
        samples.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    let _ = tx
        .send(v1::ExecInput {
            input: Some(Input::Stdin(b"\x15exit\r".to_vec())),
        })
        .await;
    samples
}

/// A running `timoneiro port-forward` and the local port it listens on.
fn forward(daemon: &Daemon, namespace: &str, pod: &str, port: u64) -> (Child, u16) {
    let mut child = cli_command(&daemon.socket)
        .args(["port-forward", "-n", namespace, pod, &format!(":{port}")])
        .stdout(Stdio::piped())
        .spawn()
        .expect("port-forward");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("Forwarding line");
    let local = line
        .strip_prefix("Forwarding from 127.0.0.1:")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not a Forwarding line: {line}"));
    (child, local)
}

/// Send a request and read its answer's body length (Content-Length framing).
fn exchange(socket: &mut TcpStream, request: &[u8], body: Option<&[u8]>) -> usize {
    socket.write_all(request).expect("request");
    if let Some(body) = body {
        socket.write_all(body).expect("body");
    }
    let mut reader = BufReader::new(socket.try_clone().expect("clone"));
    let mut length = 0;
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).expect("header") > 0, "closed");
        if line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().expect("length");
        }
    }
    let mut left = length;
    let mut buffer = vec![0; 1 << 20];
    while left > 0 {
        let n = reader.read(&mut buffer[..left.min(1 << 20)]).expect("body");
        assert!(
            n > 0,
            "the answer was cut after {} of {length} bytes",
            length - left
        );
        left -= n;
    }
    length
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sim = Sim::start(&["--pods", &args.pods.to_string(), "--namespaces", "10"]);
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(Duration::from_secs(300));
    let (namespace, pod, port) = runtime.block_on(pod_with_port(&sim));
    let mut rows: Vec<[String; 3]> = Vec::new();

    let mut echo = runtime.block_on(echo_latencies(&daemon, &namespace, &pod, args.keys));
    rows.push([
        format!("exec: keystroke → echo on a TTY shell ({} keys)", args.keys),
        format!(
            "p50 {:.2} ms · p90 {:.2} ms · p99 {:.2} ms",
            percentile(&mut echo, 0.5),
            percentile(&mut echo, 0.9),
            percentile(&mut echo, 0.99)
        ),
        "≤ 20 ms p50".into(),
    ]);

    let (mut child, local) = forward(&daemon, &namespace, &pod, port);
    let mut first = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let started = Instant::now();
        let mut socket = TcpStream::connect(("127.0.0.1", local)).expect("connect");
        socket.set_nodelay(true).expect("nodelay");
        exchange(&mut socket, b"GET / HTTP/1.1\r\n\r\n", None);
        first.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    rows.push([
        format!(
            "port-forward: new connection → first answer ({} connections)",
            args.connections
        ),
        format!(
            "p50 {:.2} ms · p90 {:.2} ms",
            percentile(&mut first, 0.5),
            percentile(&mut first, 0.9)
        ),
        String::new(),
    ]);

    let bytes = args.mib << 20;
    let (daemon_cpu, cli_cpu) = (cpu_seconds(daemon.pid()), cpu_seconds(child.id()));
    let mut socket = TcpStream::connect(("127.0.0.1", local)).expect("connect");
    let started = Instant::now();
    let got = exchange(
        &mut socket,
        format!("GET /bytes/{bytes} HTTP/1.1\r\n\r\n").as_bytes(),
        None,
    );
    let down = started.elapsed().as_secs_f64();
    assert_eq!(got as u64, bytes);
    let upload = vec![7u8; (bytes / 4) as usize];
    let started = Instant::now();
    let echoed = exchange(
        &mut socket,
        format!(
            "POST /echo HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            upload.len()
        )
        .as_bytes(),
        Some(&upload),
    );
    let both = started.elapsed().as_secs_f64();
    assert_eq!(echoed, upload.len());
    let gib = (bytes as f64 + 2.0 * upload.len() as f64) / (1u64 << 30) as f64;
    rows.push([
        format!("port-forward: download {} MiB", args.mib),
        format!("{:.0} MiB/s", args.mib as f64 / down),
        String::new(),
    ]);
    rows.push([
        format!("port-forward: upload + echo {} MiB", args.mib / 4),
        format!("{:.0} MiB/s each way", (args.mib / 4) as f64 / both),
        String::new(),
    ]);
    rows.push([
        "port-forward: CPU per GiB moved".into(),
        format!(
            "daemon {:.2} s · CLI {:.2} s",
            (cpu_seconds(daemon.pid()) - daemon_cpu) / gib,
            (cpu_seconds(child.id()) - cli_cpu) / gib
        ),
        String::new(),
    ]);
    let _ = child.kill();
    let _ = child.wait();

    println!("| metric | measured | target |");
    println!("|---|---|---|");
    for [metric, value, target] in rows {
        println!("| {metric} | {value} | {target} |");
    }
}
