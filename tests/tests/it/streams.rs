//! exec and port-forward end to end: CLI and TUI → daemon → kube's
//! WebSocket client → the sim's `pods/exec` and `pods/portforward`.
//!
//! What a test expects comes from the API server's side (the pods' specs
//! as the sim holds them: names, env, ports, uids; what a pod's port
//! serves) and from kubectl's documented behaviour, cited where used —
//! never from the daemon's or the client's code. kube's WebSocket client is
//! the other side of the sim's framing, so the sim's frames are checked by
//! code that is not ours.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;
use timoneiro_tests::harness::{
    Daemon, Sim, Tmux, bin, cli_command, stderr, stdout, synced_cluster,
};

const WAIT: Duration = Duration::from_secs(30);

/// A sim of 200 pods started with `args` too, and a daemon synced on it.
fn synced(args: &[&str]) -> (Sim, Daemon) {
    synced_cluster(&[&["--pods", "200", "--namespaces", "2"], args].concat())
}

/// `timoneiro exec -n NAMESPACE POD -- sh -c SCRIPT`.
fn exec_sh(daemon: &Daemon, namespace: &str, pod: &str, script: &str) -> std::process::Output {
    daemon.cli(&["exec", "-n", namespace, pod, "--", "sh", "-c", script])
}

/// Every pod the API server holds.
async fn server_pods(sim: &Sim) -> Vec<Value> {
    let list = sim.json("GET", "/api/v1/pods").await;
    list["items"].as_array().cloned().unwrap_or_default()
}

fn name(object: &Value) -> (String, String) {
    (
        object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .into(),
        object["metadata"]["name"].as_str().unwrap_or("").into(),
    )
}

/// A pod whose every container runs, and that `test` accepts.
fn running_pod<'a>(pods: &'a [Value], what: &str, test: impl Fn(&Value) -> bool) -> &'a Value {
    pods.iter()
        .filter(|p| {
            p["status"]["phase"] == "Running" && p["metadata"]["deletionTimestamp"].is_null()
        })
        .filter(|p| {
            p["status"]["containerStatuses"]
                .as_array()
                .is_some_and(|s| s.iter().all(|c| c["state"]["running"].is_object()))
        })
        .find(|p| test(p))
        .unwrap_or_else(|| panic!("the sim has no running pod with {what}"))
}

fn containers(pod: &Value) -> Vec<Value> {
    pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_runs_in_the_container_and_exits_with_the_commands_code() {
    let (sim, daemon) = synced(&[]);
    let pods = server_pods(&sim).await;

    // The container's environment is its spec's (a recorded postgres pod).
    let db = running_pod(&pods, "an env value", |p| {
        containers(p)[0]["env"]
            .as_array()
            .is_some_and(|env| env.iter().any(|e| e["value"].is_string()))
    });
    let (namespace, pod) = name(db);
    let env = &containers(db)[0]["env"];
    let output = daemon.cli(&["exec", "-n", &namespace, &pod, "--", "env"]);
    assert!(output.status.success(), "{}", stderr(&output));
    for var in env
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["value"].is_string())
    {
        let line = format!(
            "{}={}",
            var["name"].as_str().unwrap_or(""),
            var["value"].as_str().unwrap_or("")
        );
        assert!(
            stdout(&output).lines().any(|l| l == line),
            "{line} not in:\n{}",
            stdout(&output)
        );
    }
    assert!(stdout(&output).contains(&format!("HOSTNAME={pod}")));

    // kubectl exec exits with the command's code and says so on stderr
    // (client-go's remotecommand turns the kubelet's NonZeroExitCode
    // status into an exit error; kubectl prints "command terminated with
    // exit code N").
    let output = exec_sh(&daemon, &namespace, &pod, "echo out; exit 3");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(stdout(&output), "out\n");
    assert_eq!(stderr(&output), "command terminated with exit code 3\n");

    // -i passes stdin, to its end (v5's CLOSE signal lets the output finish).
    let mut child = cli_command(&daemon.socket)
        .args(["exec", "-i", "-n", &namespace, &pod, "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("exec");
    let text: String = (0..2000).map(|i| format!("line {i}\n")).collect();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("exec -i");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output) == text,
        "stdin did not come back whole: {} of {} bytes",
        output.stdout.len(),
        text.len()
    );

    // -t without a terminal on stdin: kubectl's warning, and no TTY.
    let output = cli_command(&daemon.socket)
        .args(["exec", "-it", "-n", &namespace, &pod, "--", "stty", "size"])
        .stdin(Stdio::null())
        .output()
        .expect("exec -it");
    assert!(
        stderr(&output)
            .contains("Unable to use a TTY - input is not a terminal or the right kind of file"),
        "{}",
        stderr(&output)
    );

    // Without -c, the pod's first container, as kubectl says.
    let multi = running_pod(&pods, "two containers", |p| {
        containers(p).len() > 1
            && p["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"].is_null()
    });
    let (namespace, pod) = name(multi);
    let names: Vec<String> = containers(multi)
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("").to_string())
        .collect();
    let output = daemon.cli(&["exec", "-n", &namespace, &pod, "--", "hostname"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{pod}\n"));
    assert!(
        stderr(&output).contains(&format!(
            "Defaulted container {:?} out of: {}",
            names[0],
            names.join(", ")
        )),
        "{}",
        stderr(&output)
    );

    // A program the image lacks: the runtime's InternalError, exit 1.
    let busybox = running_pod(&pods, "a busybox image", |p| {
        containers(p).len() == 1
            && containers(p)[0]["image"]
                .as_str()
                .is_some_and(|i| i.starts_with("busybox"))
    });
    let (namespace, pod) = name(busybox);
    let output = daemon.cli(&["exec", "-n", &namespace, &pod, "--", "bash"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("exec: \"bash\": executable file not found in $PATH"),
        "{}",
        stderr(&output)
    );

    // kubectl refuses a finished pod before it asks the server.
    let done = pods
        .iter()
        .find(|p| p["status"]["phase"] == "Succeeded" || p["status"]["phase"] == "Failed")
        .expect("a completed pod");
    let (namespace, pod) = name(done);
    let output = daemon.cli(&["exec", "-n", &namespace, &pod, "--", "ls"]);
    assert_eq!(output.status.code(), Some(1));
    let phase = done["status"]["phase"].as_str().unwrap_or("");
    assert!(
        stderr(&output).contains(&format!(
            "cannot exec into a container in a completed pod; current phase is {phase}"
        )),
        "{}",
        stderr(&output)
    );

    // Each exec is in the daemon's audit log.
    assert!(
        daemon
            .log_text()
            .lines()
            .any(|l| l.contains("timoneirod::audit") && l.contains("verb=\"exec\"")),
        "no audit line"
    );
}

/// Read one HTTP/1.1 answer with a Content-Length: its body.
fn http_body(reader: &mut BufReader<TcpStream>) -> Vec<u8> {
    let mut length = None;
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).expect("a header line");
        assert!(read > 0, "the connection ended before the answer");
        if line == "\r\n" {
            break;
        }
        if let Some((key, value)) = line.split_once(':')
            && key.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length.expect("a Content-Length")];
    reader.read_exact(&mut body).expect("the body");
    body
}

/// A running `timoneiro port-forward`, and the local ports it printed.
struct Forward {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Forward {
    /// Start `port-forward ARGS`, which name `ports` port pairs.
    fn start(daemon: &Daemon, args: &[&str], ports: usize) -> (Forward, Vec<(u16, u16)>) {
        let mut child = cli_command(&daemon.socket)
            .arg("port-forward")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("port-forward");
        let (tx, lines) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let forward = Forward { child, lines };
        let mut pairs = Vec::new();
        while pairs.len() < ports {
            let line = forward.next_line("a Forwarding line");
            // kubectl's line: "Forwarding from 127.0.0.1:8080 -> 80".
            let rest = line
                .strip_prefix("Forwarding from 127.0.0.1:")
                .unwrap_or_else(|| panic!("not kubectl's Forwarding line: {line}"));
            let (local, remote) = rest.split_once(" -> ").expect("LOCAL -> REMOTE");
            pairs.push((
                local.parse().expect("local port"),
                remote.parse().expect("remote port"),
            ));
        }
        (forward, pairs)
    }

    fn next_line(&self, what: &str) -> String {
        self.lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("port-forward never printed {what}"))
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn declares(pod: &Value, port: u64) -> bool {
    containers(pod)
        .iter()
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .any(|p| p["containerPort"].as_u64() == Some(port))
}

#[tokio::test(flavor = "multi_thread")]
async fn port_forward_tunnels_local_connections_to_the_pods_port() {
    let (sim, daemon) = synced(&[]);
    let pods = server_pods(&sim).await;
    // A pod with a named port (its spec says which number it is).
    let pod = running_pod(&pods, "a named port", |p| {
        containers(p)[0]["ports"][0]["name"].is_string()
    });
    let (namespace, pod_name) = name(pod);
    let port = &containers(pod)[0]["ports"][0];
    let (port_name, number) = (
        port["name"].as_str().unwrap_or("").to_string(),
        port["containerPort"].as_u64().unwrap_or(0),
    );
    let pair = format!(":{port_name}");
    let (forward, pairs) =
        Forward::start(&daemon, &["-n", &namespace, &pod_name, &pair, ":9999"], 2);
    assert_eq!(
        pairs[0].1 as u64, number,
        "the named port is the spec's number"
    );

    // What the pod serves on that port comes back through the tunnel,
    // byte for byte, both ways, on one kept-alive connection.
    let socket = TcpStream::connect(("127.0.0.1", pairs[0].0)).expect("connect to the forward");
    let mut writer = socket.try_clone().expect("clone");
    let mut reader = BufReader::new(socket);
    writer
        .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    let body = http_body(&mut reader);
    assert_eq!(
        String::from_utf8_lossy(&body),
        format!("{pod_name} answers GET /hello on port {number}\n")
    );
    writer
        .write_all(b"GET /bytes/3000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    let body = http_body(&mut reader);
    assert_eq!(body.len(), 3_000_000);
    assert!(body.iter().all(|b| *b == b'x'));
    // Over 16 MiB: more than one WebSocket frame may carry (tungstenite refuses it).
    let upload: Vec<u8> = (0..17_000_000u32).map(|i| (i % 251) as u8).collect();
    writer
        .write_all(
            format!(
                "POST /echo HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
                upload.len()
            )
            .as_bytes(),
        )
        .expect("request");
    writer.write_all(&upload).expect("upload");
    assert!(http_body(&mut reader) == upload, "the echo differs");
    assert_eq!(
        forward.next_line("kubectl's Handling line"),
        format!("Handling connection for {}", pairs[0].0)
    );

    // A port nothing listens on: the kubelet's error, and the connection ends.
    let mut refused = TcpStream::connect(("127.0.0.1", pairs[1].0)).expect("connect");
    refused.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut rest = Vec::new();
    let _ = refused.read_to_end(&mut rest);
    assert!(rest.is_empty());
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("");
    let error = loop {
        let line = forward.next_line("the error line");
        if line.starts_with("error:") {
            break line;
        }
    };
    assert!(
        error.contains(&format!("error forwarding port 9999 to pod {uid}")),
        "{error}"
    );
    drop(forward);

    // A service: one of its selector's running pods, at its target port
    // (kubectl's translateServicePortToTargetPort).
    let services = sim.json("GET", "/api/v1/services").await;
    let (service, target, selected) = services["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|s| {
            let selector = s["spec"]["selector"].as_object()?;
            let (namespace, _) = name(s);
            let port = s["spec"]["ports"]
                .as_array()?
                .iter()
                .find(|p| p["targetPort"].is_u64())?;
            let target = port["targetPort"].as_u64()?;
            let selected: Vec<&Value> = pods
                .iter()
                .filter(|p| {
                    p["metadata"]["namespace"] == namespace.as_str()
                        && p["status"]["phase"] == "Running"
                })
                .filter(|p| {
                    selector
                        .iter()
                        .all(|(k, v)| &p["metadata"]["labels"][k] == v)
                })
                .collect();
            // Whichever running pod is picked must serve the port.
            let service_port = port["port"].as_u64()?;
            (!selected.is_empty() && selected.iter().all(|p| declares(p, target))).then(|| {
                let names = selected.iter().map(|p| name(p).1).collect::<Vec<_>>();
                (s.clone(), (service_port, target), names)
            })
        })
        .expect("a service whose pods all declare its target port");
    let (namespace, service_name) = name(&service);
    let pair = format!(":{}", target.0);
    let (_forward, pairs) = Forward::start(
        &daemon,
        &["-n", &namespace, &format!("svc/{service_name}"), &pair],
        1,
    );
    assert_eq!(
        pairs[0].1 as u64, target.1,
        "the service port's target port"
    );
    let socket = TcpStream::connect(("127.0.0.1", pairs[0].0)).expect("connect");
    let mut writer = socket.try_clone().expect("clone");
    let mut reader = BufReader::new(socket);
    writer
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .expect("request");
    let answer = String::from_utf8_lossy(&http_body(&mut reader)).into_owned();
    assert!(
        selected
            .iter()
            .any(|p| answer == format!("{p} answers GET / on port {}\n", target.1)),
        "{answer:?} is not from one of {selected:?}"
    );

    // kubectl's words for a port the service does not have.
    let output = daemon.cli(&[
        "port-forward",
        "-n",
        &namespace,
        &format!("svc/{service_name}"),
        "1",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!(
            "Service {service_name} does not have a service port 1"
        )),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tui_opens_a_shell_and_forwards_a_port_and_comes_back() {
    let (sim, daemon) = synced(&[]);
    let pods = server_pods(&sim).await;
    let pod = running_pod(&pods, "a declared port in a bash image", |p| {
        containers(p).len() == 1
            && containers(p)[0]["ports"][0]["containerPort"].is_u64()
            && containers(p)[0]["image"]
                .as_str()
                .is_some_and(|i| i.starts_with("nginx"))
    });
    let (namespace, pod_name) = name(pod);
    let port = containers(pod)[0]["ports"][0]["containerPort"]
        .as_u64()
        .unwrap_or(0);
    let command = format!(
        "TIMONEIRO_SOCKET={} NO_COLOR=1 {} pods -n {namespace} --log-file {}",
        daemon.socket.display(),
        bin("timoneiro-tui").display(),
        daemon.dir.path().join("tui.log").display()
    );
    let tmux = Tmux::start(&command, 160, 30);
    tmux.wait_for("pod rows", WAIT, |s| s.contains("Running"));
    tmux.send(&["/", &format!("^{pod_name}$"), "Enter"]);
    tmux.wait_for("the one pod", WAIT, |s| {
        s.contains(&pod_name) && s.contains("Pods (1/")
    });

    // s: a shell on the terminal (bash in this image), typed into as a
    // person would; exit comes back to the same view.
    tmux.send(&["s"]);
    tmux.wait_for("bash's prompt", WAIT, |s| {
        s.contains(&format!("root@{pod_name}:/#"))
    });
    tmux.send(&["hostname", "Enter"]);
    tmux.wait_for("the shell's answers", WAIT, |s| {
        s.lines().any(|l| l == pod_name)
    });
    tmux.send(&["exit", "Enter"]);
    tmux.wait_for("the same view again", WAIT, |s| {
        s.contains("Pods (1/") && s.contains(&format!("shell in pods/{pod_name} ended"))
    });

    // shift-f: the pod's declared port is offered; Enter forwards it.
    tmux.send(&["F"]);
    tmux.wait_for("the port question", WAIT, |s| {
        s.contains(&format!("Forward pods/{pod_name}")) && s.contains(&format!("{port}:{port}"))
    });
    // Any free local port instead: `:PORT`.
    for _ in 0..12 {
        tmux.send(&["BSpace"]);
    }
    tmux.send(&[&format!(":{port}"), "Enter"]);
    let screen = tmux.wait_for("the forward", WAIT, |s| s.contains("forwarding 127.0.0.1:"));
    let local: u16 = screen
        .split("forwarding 127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("the local port on screen");
    let socket = TcpStream::connect(("127.0.0.1", local)).expect("connect");
    let mut writer = socket.try_clone().expect("clone");
    let mut reader = BufReader::new(socket);
    writer
        .write_all(b"GET /tui HTTP/1.1\r\n\r\n")
        .expect("request");
    assert_eq!(
        String::from_utf8_lossy(&http_body(&mut reader)),
        format!("{pod_name} answers GET /tui on port {port}\n")
    );
    // :pf lists it with its connection; ctrl-d stops it.
    tmux.send(&[":pf", "Enter"]);
    tmux.wait_for("the forwards", WAIT, |s| {
        s.contains("Port-forwards")
            && s.lines().any(|l| {
                // NAMESPACE POD PORTS URL CONNECTIONS AGE LAST ERROR
                let words: Vec<&str> = l.split_whitespace().collect();
                let url = format!("http://127.0.0.1:{local}");
                let at = words.iter().position(|w| *w == url);
                words.contains(&format!("{local}:{port}").as_str())
                    && at.and_then(|i| words.get(i + 1)) == Some(&"1")
            })
    });
    tmux.send(&["C-d"]);
    tmux.wait_for("stopped", WAIT, |s| {
        s.contains(&format!("stopped forwarding 127.0.0.1:{local}"))
    });
    assert!(
        TcpStream::connect(("127.0.0.1", local)).is_err(),
        "still listening"
    );
}

/// An API server before 1.30 speaks v4.channel.k8s.io only: kube's client
/// falls back to it, and the exit code still comes back (v4's error channel
/// carries the same Status).
#[tokio::test(flavor = "multi_thread")]
async fn exec_falls_back_to_v4_on_an_older_api_server() {
    let (sim, daemon) = synced(&["--exec-v4-only"]);
    let pods = server_pods(&sim).await;
    let pod = running_pod(&pods, "one container", |p| containers(p).len() == 1);
    let (namespace, pod) = name(pod);
    let output = exec_sh(&daemon, &namespace, &pod, "echo out; exit 4");
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert_eq!(stdout(&output), "out\n");
}
