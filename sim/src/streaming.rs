//! `pods/exec` and `pods/portforward`: the API server's streaming
//! subresources, over the channel WebSocket (`wsstream.rs`).
//!
//! Exec runs the command in the container's simulated shell (`shell.rs`)
//! and ends with the JSON `Status` the kubelet writes on the error channel:
//! Success, NonZeroExitCode with an ExitCode cause, or the InternalError
//! containerd gives for a program the image lacks. Port-forward connects
//! each port to what the pod serves there: a small HTTP server on every
//! port the pod's containers declare; any other port gets the error the
//! kubelet writes when nothing listens.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::logs::{Refusal, container_of};
use crate::resources::Resource;
use crate::server::{failure, quote};
use crate::shell::{self, Container, Input, Output};
use crate::store::Store;
use crate::wsstream::{self, Socket, V4, V5};

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
/// v5: "the stream on channel N is closed" (N in the next byte).
const CLOSE: u8 = 255;

/// The pod at namespace/name, or the API server's 404.
fn pod(store: &Store, namespace: &str, name: &str) -> Result<Value, Box<Response>> {
    let found = Resource::by_plural("pods")
        .and_then(|pods| store.get(pods, &(namespace.to_string(), name.to_string())));
    match found {
        Some(object) => Ok(object.value().clone()),
        None => {
            let details = format!("{{\"name\":{},\"kind\":\"pods\"}}", quote(name));
            Err(Box::new(failure(
                404,
                "NotFound",
                &format!("pods {} not found", quote(name)),
                Some(&details),
                None,
            )))
        }
    }
}

fn flag(query: &str, key: &str) -> bool {
    wsstream::query_values(query, key)
        .first()
        .is_some_and(|v| v == "true" || v == "1")
}

/// What exec asked for.
#[derive(Debug, Clone, Copy)]
struct Streams {
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
}

/// `GET .../pods/NAME/exec?command=...&stdin=&stdout=&stderr=&tty=&container=`.
pub fn exec(
    store: &Arc<Store>,
    request: Request,
    namespace: &str,
    name: &str,
    protocols: &[&'static str],
) -> Response {
    let query = request.uri().query().unwrap_or("").to_string();
    let command = wsstream::query_values(&query, "command");
    if command.is_empty() {
        return failure(
            400,
            "BadRequest",
            "you must specify at least 1 command",
            None,
            None,
        );
    }
    let streams = Streams {
        stdin: flag(&query, "stdin"),
        stdout: flag(&query, "stdout"),
        stderr: flag(&query, "stderr"),
        tty: flag(&query, "tty"),
    };
    if !(streams.stdin || streams.stdout || streams.stderr) {
        return failure(
            400,
            "BadRequest",
            "you must specify at least 1 of stdin, stdout, stderr",
            None,
            None,
        );
    }
    let pod = match pod(store, namespace, name) {
        Ok(pod) => pod,
        Err(response) => return *response,
    };
    let asked = wsstream::query_values(&query, "container")
        .into_iter()
        .next();
    let container = match running_container(&pod, name, asked.as_deref()) {
        Ok(container) => container,
        Err(refusal) => return refusal.response(),
    };
    wsstream::upgrade(request, protocols, move |socket, protocol| {
        session(socket, protocol, container, command, streams)
    })
}

/// The container to exec in, which must be running.
fn running_container(pod: &Value, name: &str, asked: Option<&str>) -> Result<Container, Refusal> {
    let container = container_of(pod, name, asked)?;
    let running = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .flat_map(|key| pod["status"][*key].as_array().into_iter().flatten())
        .find(|s| s["name"] == container.as_str())
        .is_some_and(|s| s["state"]["running"].is_object());
    if !running {
        return Err(Refusal::bad(format!(
            "unable to upgrade connection: container not found ({})",
            quote(&container)
        )));
    }
    let spec = ["containers", "initContainers"]
        .iter()
        .flat_map(|key| pod["spec"][*key].as_array().into_iter().flatten())
        .find(|c| c["name"] == container.as_str());
    let env = spec
        .and_then(|c| c["env"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect();
    Ok(Container {
        pod: name.to_string(),
        image: spec
            .and_then(|c| c["image"].as_str())
            .unwrap_or("")
            .to_string(),
        name: container,
        env,
    })
}

/// The kubelet's last word on the error channel.
fn status(argv: &[String], result: &Result<i32, String>) -> Value {
    match result {
        Ok(0) => json!({"metadata": {}, "status": "Success"}),
        Ok(code) => json!({
            "metadata": {},
            "status": "Failure",
            "message": format!(
                "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
                argv.join(" ")
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        }),
        Err(program) => {
            let cause = format!(
                "error executing command in container: failed to exec in container: failed to start exec {}: OCI runtime exec failed: exec failed: unable to start container process: exec: {}: executable file not found in $PATH: unknown",
                quote(&exec_id(argv)),
                quote(program)
            );
            json!({
                "metadata": {},
                "status": "Failure",
                "message": format!("Internal error occurred: {cause}"),
                "reason": "InternalError",
                "details": {"causes": [{"message": cause}]},
                "code": 500,
            })
        }
    }
}

/// A containerd exec id: 64 hex digits.
fn exec_id(argv: &[String]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    argv.hash(&mut hasher);
    std::time::SystemTime::now().hash(&mut hasher);
    format!("{:016x}", hasher.finish()).repeat(4)
}

async fn session(
    socket: Socket,
    protocol: &'static str,
    container: Container,
    command: Vec<String>,
    streams: Streams,
) {
    let (mut sink, mut source) = socket.split();
    let (in_tx, in_rx) = mpsc::channel(64);
    let (out_tx, mut out_rx) = mpsc::channel::<Output>(64);
    // The kubelet's hello: an empty frame on the lowest channel it writes.
    let hello = if streams.stdout {
        STDOUT
    } else if streams.stderr {
        STDERR
    } else {
        ERROR
    };
    if sink.send(Message::binary(vec![hello])).await.is_err() {
        return;
    }
    let v5 = protocol == V5;
    let reader = tokio::spawn(async move {
        while let Some(Ok(message)) = source.next().await {
            let Message::Binary(frame) = message else {
                if message.is_close() {
                    break;
                }
                continue;
            };
            let input = match (frame.first().copied(), frame.get(1).copied()) {
                (Some(STDIN), _) if streams.stdin => Input::Stdin(frame[1..].to_vec()),
                (Some(RESIZE), _) => match resize(&frame[1..]) {
                    Some((width, height)) => Input::Resize { width, height },
                    None => continue,
                },
                (Some(CLOSE), Some(STDIN)) if v5 => Input::Closed,
                _ => continue,
            };
            if in_tx.send(input).await.is_err() {
                return;
            }
        }
        let _ = in_tx.send(Input::Closed).await;
    });
    let shell = tokio::spawn({
        let command = command.clone();
        async move {
            let mut io = shell::Io::new(in_rx, out_tx, streams.tty, streams.stderr);
            shell::run(&command, &container, &mut io).await
        }
    });
    while let Some(output) = out_rx.recv().await {
        let frame = match output {
            Output::Stdout(bytes) if streams.stdout => wsstream::frame(STDOUT, &bytes),
            Output::Stderr(bytes) if streams.stderr => wsstream::frame(STDERR, &bytes),
            _ => continue,
        };
        if sink.send(Message::binary(frame)).await.is_err() {
            reader.abort();
            shell.abort();
            return;
        }
    }
    let result = shell.await.unwrap_or(Ok(1));
    let status = serde_json::to_vec(&status(&command, &result)).unwrap_or_default();
    let _ = sink
        .send(Message::binary(wsstream::frame(ERROR, &status)))
        .await;
    let _ = sink.close().await;
    reader.abort();
}

/// A resize frame's `{"Width":W,"Height":H}` (Go's field names; Go's
/// decoder matches them case-insensitively).
fn resize(body: &[u8]) -> Option<(u16, u16)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let field = |name: &str| {
        value.as_object()?.iter().find_map(|(k, v)| {
            k.eq_ignore_ascii_case(name)
                .then(|| v.as_u64())
                .flatten()
                .and_then(|n| u16::try_from(n).ok())
        })
    };
    Some((field("width")?, field("height")?))
}

/// `GET .../pods/NAME/portforward?ports=P[,P...]` (ports may repeat too).
pub fn portforward(store: &Arc<Store>, request: Request, namespace: &str, name: &str) -> Response {
    let query = request.uri().query().unwrap_or("").to_string();
    let mut ports = Vec::new();
    for text in wsstream::query_values(&query, "ports")
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|p| !p.is_empty())
    {
        match text.trim().parse::<u16>() {
            Ok(port) if port > 0 => ports.push(port),
            _ => {
                return failure(
                    400,
                    "BadRequest",
                    &format!("invalid port {}", quote(text)),
                    None,
                    None,
                );
            }
        }
    }
    if ports.is_empty() {
        return failure(
            400,
            "BadRequest",
            "at least one port must be specified",
            None,
            None,
        );
    }
    let pod = match pod(store, namespace, name) {
        Ok(pod) => pod,
        Err(response) => return *response,
    };
    if pod["status"]["phase"] != "Running" {
        return failure(
            400,
            "BadRequest",
            &format!(
                "unable to upgrade connection: pod does not exist or is not running ({})",
                pod["status"]["phase"].as_str().unwrap_or("Unknown")
            ),
            None,
            None,
        );
    }
    let served: Vec<u16> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["ports"].as_array().into_iter().flatten())
        .filter_map(|p| p["containerPort"].as_u64())
        .filter_map(|p| u16::try_from(p).ok())
        .collect();
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let pod_name = name.to_string();
    // The kubelet's portforward WebSocket speaks v4 (no v5 there).
    wsstream::upgrade(request, &[V4], move |socket, _| {
        forward(socket, ports, served, pod_name, uid)
    })
}

/// Bytes a port's server sends at most per frame.
const CHUNK: usize = 32 * 1024;

async fn forward(socket: Socket, ports: Vec<u16>, served: Vec<u16>, pod: String, uid: String) {
    let (mut sink, mut source) = socket.split();
    // Each port's data and error channels start with the port number.
    for (i, port) in ports.iter().enumerate() {
        for channel in [2 * i as u8, 2 * i as u8 + 1] {
            let hello = wsstream::frame(channel, &port.to_le_bytes());
            if sink.send(Message::binary(hello)).await.is_err() {
                return;
            }
        }
    }
    let mut servers: Vec<Option<HttpServer>> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        if served.contains(port) {
            servers.push(Some(HttpServer::new(&pod, *port)));
            continue;
        }
        servers.push(None);
        let refused = format!(
            "error forwarding port {port} to pod {uid}, uid : failed to execute portforward in network namespace \"/var/run/netns/cni-{uid}\": failed to connect to localhost:{port} inside namespace \"{uid}\", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused IPv6 dial tcp6 [::1]:{port}: connect: connection refused "
        );
        let frame = wsstream::frame(2 * i as u8 + 1, refused.as_bytes());
        if sink.send(Message::binary(frame)).await.is_err() {
            return;
        }
    }
    if servers.iter().all(Option::is_none) {
        let _ = sink.close().await;
        return;
    }
    while let Some(Ok(message)) = source.next().await {
        let Message::Binary(frame) = message else {
            if message.is_close() {
                break;
            }
            continue;
        };
        let Some((&channel, data)) = frame.split_first() else {
            continue;
        };
        let index = usize::from(channel / 2);
        let Some(Some(server)) = servers.get_mut(index).filter(|_| channel % 2 == 0) else {
            continue;
        };
        server.take(data);
        while let Some(answer) = server.answer() {
            for piece in answer {
                let frame = wsstream::frame(channel, &piece);
                if sink.send(Message::binary(frame)).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = sink.close().await;
}

/// What a simulated pod serves on the ports it declares: HTTP/1.1 with
/// keep-alive. `GET /bytes/N` answers N bytes (for throughput), a request
/// with a body gets its body back, anything else a line naming the pod.
#[derive(Debug)]
struct HttpServer {
    pod: String,
    port: u16,
    buffer: Vec<u8>,
    /// How much of `buffer` is known to hold no end of headers.
    scanned: usize,
    /// The request's head once whole: where it ends, its body's length.
    head: Option<(usize, usize)>,
}

impl HttpServer {
    fn new(pod: &str, port: u16) -> HttpServer {
        HttpServer {
            pod: pod.to_string(),
            port,
            buffer: Vec::new(),
            scanned: 0,
            head: None,
        }
    }

    fn take(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The next whole request's answer, as frames' worth of bytes.
    fn answer(&mut self) -> Option<Answer> {
        // Each byte is looked at once while a body streams in, not on
        // every frame.
        let (end, length) = match self.head {
            Some(head) => head,
            None => {
                let from = self.scanned.saturating_sub(3);
                let Some(at) = self.buffer[from..]
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                else {
                    self.scanned = self.buffer.len();
                    return None;
                };
                let end = from + at + 4;
                let length = String::from_utf8_lossy(&self.buffer[..end])
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0);
                self.head = Some((end, length));
                (end, length)
            }
        };
        if self.buffer.len() < end + length {
            return None;
        }
        let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
        let body: Vec<u8> = self.buffer[end..end + length].to_vec();
        self.buffer.drain(..end + length);
        (self.head, self.scanned) = (None, 0);
        let mut words = head.split_whitespace();
        let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or("/"));
        let (size, body) = match path.strip_prefix("/bytes/").map(str::parse::<u64>) {
            Some(Ok(n)) if method == "GET" => (n.min(1 << 30), None),
            _ if !body.is_empty() => (body.len() as u64, Some(body)),
            _ => {
                let text = format!(
                    "{} answers {method} {path} on port {}\n",
                    self.pod, self.port
                );
                (text.len() as u64, Some(text.into_bytes()))
            }
        };
        let header = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\nServer: timoneiro-sim\r\n\r\n"
        );
        Some(Answer {
            header: Some(header.into_bytes()),
            body,
            sent: 0,
            left: size,
        })
    }
}

/// An answer's bytes, a frame at a time (`/bytes/N` is made as it goes).
#[derive(Debug)]
struct Answer {
    header: Option<Vec<u8>>,
    body: Option<Vec<u8>>,
    /// How much of `body` has gone.
    sent: usize,
    left: u64,
}

impl Iterator for Answer {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if let Some(header) = self.header.take() {
            return Some(header);
        }
        // A frame at most CHUNK long, as the kubelet copies a stream (a
        // client's WebSocket refuses frames over 16 MiB).
        if let Some(body) = &self.body {
            let piece = &body[self.sent..body.len().min(self.sent + CHUNK)];
            if piece.is_empty() {
                self.left = 0;
                return None;
            }
            self.sent += piece.len();
            return Some(piece.to_vec());
        }
        if self.left == 0 {
            return None;
        }
        let n = self.left.min(CHUNK as u64);
        self.left -= n;
        Some(vec![b'x'; n as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubelets_statuses() {
        let argv = ["sh".to_string(), "-c".to_string(), "exit 3".to_string()];
        assert_eq!(
            status(&argv, &Ok(0)).to_string(),
            r#"{"metadata":{},"status":"Success"}"#
        );
        let failed = status(&argv, &Ok(3));
        assert_eq!(failed["reason"], "NonZeroExitCode");
        assert_eq!(
            failed["details"]["causes"][0],
            json!({"reason": "ExitCode", "message": "3"})
        );
        let missing = status(&argv, &Err("bash".into()));
        assert_eq!(missing["reason"], "InternalError");
        assert_eq!(missing["code"], 500);
        assert!(
            missing["message"]
                .as_str()
                .unwrap()
                .ends_with("exec: \"bash\": executable file not found in $PATH: unknown")
        );
    }

    #[test]
    fn a_pods_http_server() {
        let mut server = HttpServer::new("web-1", 8080);
        server.take(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /e HTTP/1.1\r\nContent-Length: 3\r\n\r\nab",
        );
        let first: Vec<u8> = server.answer().unwrap().flatten().collect();
        let first = String::from_utf8(first).unwrap();
        assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
        assert!(
            first.ends_with("\r\n\r\nweb-1 answers GET / on port 8080\n"),
            "{first}"
        );
        // The POST's body is not all there yet.
        assert!(server.answer().is_none());
        server.take(b"c");
        let echoed: Vec<u8> = server.answer().unwrap().flatten().collect();
        assert!(echoed.ends_with(b"\r\n\r\nabc"));
        // A big body goes back in frames of at most CHUNK bytes.
        let big = vec![b'y'; 3 * CHUNK + 5];
        server.take(format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", big.len()).as_bytes());
        server.take(&big);
        let pieces: Vec<Vec<u8>> = server.answer().unwrap().collect();
        assert_eq!(pieces[1..].concat(), big);
        assert!(pieces.iter().all(|p| p.len() <= CHUNK));
        server.take(b"GET /bytes/100000 HTTP/1.1\r\n\r\n");
        let pieces: Vec<Vec<u8>> = server.answer().unwrap().collect();
        assert_eq!(pieces.iter().skip(1).map(Vec::len).sum::<usize>(), 100_000);
        assert!(pieces.iter().skip(1).all(|p| p.len() <= CHUNK));
    }

    #[test]
    fn resize_bodies() {
        assert_eq!(resize(br#"{"Width":120,"Height":40}"#), Some((120, 40)));
        assert_eq!(resize(br#"{"width":80,"height":24}"#), Some((80, 24)));
        assert_eq!(resize(b"{}"), None);
    }
}
