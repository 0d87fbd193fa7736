//! Real processes for end-to-end tests: the simulator, the daemon and the
//! CLI, each on temporary sockets and ports. Readiness comes from the
//! processes themselves (the sim's "listening" line, the daemon's
//! "timoneirod listening" log line, the status stream), never from sleeping.
//!
//! The binaries are the ones `cargo test --workspace` builds next to this
//! test (each binary crate has integration tests of its own, which makes
//! cargo build it).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Path of a workspace binary built by cargo next to the test executable.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // Tests run from target/<profile>/deps/, binaries (the bench) from target/<profile>/.
    let here = exe.parent().expect("exe dir");
    let path = [
        here.join(name),
        here.parent().map(|p| p.join(name)).unwrap_or_default(),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| here.join(name));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` (cargo test --workspace builds it)",
        path.display()
    );
    refuse_stale(name, &path);
    path
}

/// Set to run binaries older than their sources anyway (a benchmark of an
/// older build).
pub const ALLOW_STALE_ENV: &str = "TIMONEIRO_ALLOW_STALE";

/// The sources cargo built `binary` from: its dep-info file (`NAME.d`
/// beside it), `binary: source source…` with spaces in paths escaped.
fn sources_of(binary: &Path) -> Vec<PathBuf> {
    let info = binary.with_extension("d");
    let Ok(text) = std::fs::read_to_string(&info) else {
        return Vec::new();
    };
    let Some((_, sources)) = text.split_once(": ") else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut chars = sources.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    paths.push(PathBuf::from(std::mem::take(&mut current)));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        paths.push(PathBuf::from(current));
    }
    paths
}

/// Panic when `binary` is older than a source it is built from: `cargo
/// test -p timoneiro-tests` does not rebuild the other packages' binaries,
/// and a test of a stale daemon proves nothing.
fn refuse_stale(name: &str, binary: &Path) {
    static CHECKED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    if std::env::var_os(ALLOW_STALE_ENV).is_some() {
        return;
    }
    let mut checked = CHECKED.lock().unwrap_or_else(|p| p.into_inner());
    if checked.iter().any(|c| c == name) {
        return;
    }
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if let Some(built) = modified(binary) {
        for source in sources_of(binary) {
            if modified(&source).is_some_and(|changed| changed > built) {
                let release = binary.components().any(|c| c.as_os_str() == "release");
                let build = if release {
                    "cargo build --release --workspace"
                } else {
                    "cargo build --workspace --all-targets"
                };
                panic!(
                    "{} is older than {}, one of its sources: run `{build}` first (`cargo \
                     test -p timoneiro-tests` does not rebuild other packages' binaries; \
                     {ALLOW_STALE_ENV}=1 runs it anyway)",
                    binary.display(),
                    source.display()
                );
            }
        }
    }
    checked.push(name.to_string());
}

/// Read lines of a child's pipe on a thread, forwarding them over a channel
/// and appending them to a log file.
/// What a probe of [`eventually`] answers: done with a value, or not yet
/// (with why, for the panic message when time runs out).
pub trait Probe<T> {
    /// The value, or why not yet.
    fn outcome(self) -> Result<T, String>;
}

impl<T> Probe<T> for Option<T> {
    fn outcome(self) -> Result<T, String> {
        self.ok_or_else(|| "not yet".to_string())
    }
}

impl<T, E: std::fmt::Display> Probe<T> for Result<T, E> {
    fn outcome(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

impl Probe<()> for bool {
    fn outcome(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err("not yet".to_string())
        }
    }
}

/// The pause before the next try: 10 ms, doubling up to 250 ms, so a quick
/// condition is seen at once and a slow one is not polled in a tight loop.
fn next_pause(pause: Duration) -> Duration {
    (pause * 2).min(Duration::from_millis(250))
}

/// Try `probe` until it is done, pausing between tries; after `timeout`,
/// panic naming `what` and the probe's last answer. The one waiting loop of
/// the tests (its async twin is [`eventually_async`]).
pub fn eventually<T, P: Probe<T>>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> P,
) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        let last = match probe().outcome() {
            Ok(done) => return done,
            Err(why) => why,
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}: {last}"
        );
        std::thread::sleep(pause);
        pause = next_pause(pause);
    }
}

/// [`eventually`] for a probe that awaits (asks the sim or the daemon).
pub async fn eventually_async<T, P: Probe<T>, F: std::future::Future<Output = P>>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        let last = match probe().await.outcome() {
            Ok(done) => return done,
            Err(why) => why,
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}: {last}"
        );
        tokio::time::sleep(pause).await;
        pause = next_pause(pause);
    }
}

fn pump(pipe: impl Read + Send + 'static, log: PathBuf) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .ok();
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(file) = file.as_mut() {
                let _ = writeln!(file, "{line}");
            }
            let _ = tx.send(line);
        }
    });
    rx
}

/// Wait for a line containing `needle`, or panic with `what` after `timeout`.
fn wait_for_line(
    rx: &mpsc::Receiver<String>,
    needle: &str,
    timeout: Duration,
    what: &str,
) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(remaining) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{what}: no line containing {needle:?} within {timeout:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{what}: the process exited before printing {needle:?}")
            }
        }
    }
}

/// A running `timoneiro-sim`.
pub struct Sim {
    child: Child,
    /// https://127.0.0.1:PORT (or http:// with `--http`)
    pub url: String,
    /// The kubeconfig the sim wrote.
    pub kubeconfig: PathBuf,
    /// Temporary directory holding the kubeconfig and logs.
    pub dir: tempfile::TempDir,
}

impl Sim {
    /// Start a sim with extra arguments (e.g. `["--pods", "2000"]`).
    pub fn start(args: &[&str]) -> Sim {
        Sim::start_within(args, Duration::from_secs(120))
    }

    /// [`Sim::start`], waiting up to `timeout` for it to seed and listen
    /// (a benchmark's million pods).
    pub fn start_within(args: &[&str], timeout: Duration) -> Sim {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(bin("timoneiro-sim"))
            .args(args)
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start timoneiro-sim");
        let stdout = child.stdout.take().expect("stdout");
        let lines = pump(stdout, dir.path().join("sim.log"));
        let line = wait_for_line(&lines, "listening on", timeout, "timoneiro-sim");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("https://") || w.starts_with("http://"))
            .expect("url in the sim's first line")
            .to_string();
        Sim {
            child,
            url,
            kubeconfig,
            dir,
        }
    }

    /// The sim's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The sim's address (127.0.0.1:PORT).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.url
            .split("://")
            .nth(1)
            .and_then(|a| a.parse().ok())
            .expect("the sim's address")
    }

    /// A copy of the sim's kubeconfig, named `name`, whose cluster has
    /// `server` for its server and `extra` lines added (e.g.
    /// `tls-server-name: localhost`, `proxy-url: socks5://…`).
    pub fn kubeconfig_with(&self, name: &str, server: &str, extra: &[&str]) -> PathBuf {
        let text = std::fs::read_to_string(&self.kubeconfig).expect("read the kubeconfig");
        let mut changed = 0;
        let mut out = String::new();
        for line in text.lines() {
            match line.trim_start().strip_prefix("server: ") {
                Some(_) => {
                    changed += 1;
                    let indent = &line[..line.len() - line.trim_start().len()];
                    out.push_str(&format!("{indent}server: {server}\n"));
                    for extra in extra {
                        out.push_str(&format!("{indent}{extra}\n"));
                    }
                }
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        assert_eq!(changed, 1, "one server in the sim's kubeconfig");
        let path = self.dir.path().join(name);
        std::fs::write(&path, out).expect("write the kubeconfig");
        path
    }

    /// A kube client for the sim, as any Kubernetes tool would make one.
    pub async fn client(&self) -> kube::Client {
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .expect("config");
        kube::Client::try_from(config).expect("client")
    }

    /// Send a request to the sim; returns status, headers and body.
    pub async fn raw(
        &self,
        method: &str,
        path_and_query: &str,
        accept: Option<&str>,
    ) -> (u16, http::HeaderMap, Vec<u8>) {
        self.send(method, path_and_query, accept, Vec::new()).await
    }

    /// A request with a body.
    pub async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        accept: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, http::HeaderMap, Vec<u8>) {
        let client = self.client().await;
        let mut request = http::Request::builder().method(method).uri(path_and_query);
        if let Some(accept) = accept {
            request = request.header(http::header::ACCEPT, accept);
        }
        let request = request
            .body(kube::client::Body::from(body))
            .expect("request");
        let response = client.send(request).await.expect("send");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect_bytes()
            .await
            .expect("body")
            .to_vec();
        (status, headers, body)
    }

    /// A JSON answer of the sim.
    pub async fn json(&self, method: &str, path_and_query: &str) -> Value {
        let (status, _, body) = self.raw(method, path_and_query, None).await;
        assert!(
            status < 300,
            "{method} {path_and_query}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).expect("JSON body")
    }

    /// Create a pod: a fresh one of the sim's, with `patch` merged over it
    /// (RFC 7386), in `namespace`.
    pub async fn create_pod(&self, namespace: &str, patch: &Value) -> Value {
        let path = format!("/sim/pods?namespace={namespace}");
        let body = serde_json::to_vec(patch).expect("JSON");
        let (status, _, body) = self.send("POST", &path, None, body).await;
        assert!(
            status < 300,
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).expect("JSON body")
    }

    /// Inject a fault (see `timoneiro-sim --help`): `sim.fault("drop-watches")`,
    /// `sim.fault("gone?form=watch-http&count=1")`, `sim.fault("outage?seconds=2")`.
    pub async fn fault(&self, what: &str) -> Value {
        self.json("POST", &format!("/sim/faults/{what}")).await
    }

    /// Wait until the sim answers again (after an outage or restart fault).
    pub async fn wait_reachable(&self, timeout: Duration) {
        let client = self.client().await;
        eventually_async("the sim to answer again", timeout, || {
            let request = http::Request::get("/sim/info")
                .body(kube::client::Body::from(Vec::new()))
                .expect("request");
            let client = client.clone();
            async move { client.send(request).await.map(drop) }
        })
        .await;
    }

    /// (lists, watches) the sim received for a core resource so far (its
    /// request log: list pages count one each).
    pub async fn requests_for(&self, plural: &str) -> (usize, usize) {
        let log = self.json("GET", "/sim/requests").await;
        let prefix = format!("/api/v1/{plural}?");
        let uris: Vec<String> = log["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter_map(|r| r["uri"].as_str())
            .filter(|uri| uri.starts_with(&prefix))
            .map(str::to_string)
            .collect();
        let watches = uris.iter().filter(|u| u.contains("watch=true")).count();
        (uris.len() - watches, watches)
    }

    /// How many watches are open on the sim now.
    pub async fn open_watches(&self) -> u64 {
        self.json("GET", "/sim/info").await["openWatches"]
            .as_u64()
            .expect("the sim counts open watches")
    }

    /// Wait until at least `count` watches are open on the sim (the
    /// daemon's informers are back after a fault).
    pub async fn wait_open_watches(&self, count: u64, timeout: Duration) {
        eventually_async(
            &format!("{count} open watches on the sim"),
            timeout,
            || async {
                let open = self.open_watches().await;
                if open >= count {
                    Ok(())
                } else {
                    Err(format!("{open} open"))
                }
            },
        )
        .await;
    }

    /// How many times each fault fired so far.
    pub async fn faults_fired(&self) -> Value {
        self.json("GET", "/sim/info").await["faultsFired"].clone()
    }

    /// The sim's objects of a kind, projected as the daemon projects them.
    pub async fn rows(&self, kind: &timoneirod::catalog::Kind) -> Vec<timoneirod::row::RowParts> {
        let spec = kind.spec();
        let path = if spec.group.is_empty() {
            format!("/api/{}/{}", spec.version, spec.plural)
        } else {
            format!("/apis/{}/{}/{}", spec.group, spec.version, spec.plural)
        };
        // Secrets as the daemon sees them: the sim's Table of them.
        let (path, accept) = match kind.builtin() {
            Some(timoneirod::catalog::Builtin::SECRETS) => (
                format!("{path}?includeObject=Metadata"),
                Some(timoneirod::table::ACCEPT),
            ),
            _ => (path, None),
        };
        let (status, _, body) = self.raw("GET", &path, accept).await;
        let text = String::from_utf8(body).expect("UTF-8 list");
        assert_eq!(status, 200, "GET {path}: {text}");
        crate::fixtures::project_text(kind, &path, &text)
    }

    /// Set the churn rate (0 pauses); returns the sim's resourceVersion at that moment.
    pub async fn set_churn(&self, rate: u32) -> String {
        let answer = self.json("POST", &format!("/sim/churn?rate={rate}")).await;
        answer["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `timoneirod`.
pub struct Daemon {
    child: Child,
    /// Its socket.
    pub socket: PathBuf,
    /// Its stderr (logs), for failure messages.
    pub log: PathBuf,
    /// Holds the socket directory.
    pub dir: tempfile::TempDir,
}

impl Daemon {
    /// A gRPC client on the daemon's socket.
    pub async fn grpc(
        &self,
    ) -> timoneiro_proto::v1::timoneiro_client::TimoneiroClient<tonic::transport::Channel> {
        timoneiro_client::socket::connect(&self.socket)
            .await
            .expect("connect to the daemon's socket")
    }

    /// Start a daemon on `kubeconfig` with a socket in a fresh temporary directory.
    pub fn start(kubeconfig: &Path) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("run/timoneirod.sock");
        Self::start_at(kubeconfig, socket, dir)
    }

    /// Start a daemon with extra arguments (e.g. `["--namespace", "web"]`).
    pub fn start_with(kubeconfig: &Path, args: &[&str]) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("run/timoneirod.sock");
        let mut command = Self::command(kubeconfig, &socket);
        command.args(args);
        Self::spawn(command, socket, dir)
    }

    /// Start a daemon with these environment variables (e.g. `HTTPS_PROXY`).
    pub fn start_env(kubeconfig: &Path, env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("run/timoneirod.sock");
        let mut command = Self::command(kubeconfig, &socket);
        command.envs(env.iter().copied());
        Self::spawn(command, socket, dir)
    }

    /// Start a daemon that may open at most `files` file descriptors
    /// (`prlimit --nofile`, util-linux), to run it out of them.
    pub fn start_with_file_limit(kubeconfig: &Path, files: u32) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("run/timoneirod.sock");
        let inner = Self::command(kubeconfig, &socket);
        let mut command = Command::new("prlimit");
        command
            .arg(format!("--nofile={files}:{files}"))
            .arg("--")
            .arg(inner.get_program())
            .args(inner.get_args())
            .stdout(Stdio::null());
        for (key, value) in inner.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        Self::spawn(command, socket, dir)
    }

    /// Start a daemon that reads this config file (`TIMONEIRO_CONFIG`).
    pub fn start_configured(kubeconfig: &Path, config: &Path) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("run/timoneirod.sock");
        let mut command = Self::command(kubeconfig, &socket);
        command.env("TIMONEIRO_CONFIG", config);
        Self::spawn(command, socket, dir)
    }

    /// Start a daemon on a given socket.
    pub fn start_at(kubeconfig: &Path, socket: PathBuf, dir: tempfile::TempDir) -> Daemon {
        Self::spawn(Self::command(kubeconfig, &socket), socket, dir)
    }

    fn spawn(mut command: Command, socket: PathBuf, dir: tempfile::TempDir) -> Daemon {
        let log = dir.path().join("daemon.log");
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .expect("start timoneirod");
        let stderr = child.stderr.take().expect("stderr");
        let lines = pump(stderr, log.clone());
        wait_for_line(
            &lines,
            "timoneirod listening",
            Duration::from_secs(60),
            "timoneirod",
        );
        Daemon {
            child,
            socket,
            log,
            dir,
        }
    }

    /// Where a daemon on `socket` keeps its snapshots: `cache/timoneiro`
    /// beside the socket's directory (the daemon's temporary directory).
    pub fn cache_home(socket: &Path) -> PathBuf {
        let dir = socket.parent().unwrap_or(socket);
        dir.parent().unwrap_or(dir).join("cache")
    }

    /// Stop the daemon as systemd or Ctrl-C does (SIGTERM), wait for it to
    /// exit, and start a new one on the same kubeconfig, socket and
    /// directory (so on the same snapshots).
    pub fn restart(mut self, kubeconfig: &Path) -> Daemon {
        self.terminate();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        Daemon::start_at(kubeconfig, self.socket.clone(), dir)
    }

    /// Send SIGTERM and wait up to a minute for the daemon to exit; its
    /// exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        if let Some(status) = self.child.try_wait().expect("wait for the daemon") {
            return status;
        }
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
        eventually(
            "the daemon exits after SIGTERM",
            Duration::from_secs(60),
            || self.child.try_wait().expect("wait for the daemon"),
        )
    }

    /// The command that starts a daemon (not started).
    pub fn command(kubeconfig: &Path, socket: &Path) -> Command {
        let mut command = Command::new(bin("timoneirod"));
        command
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--socket")
            .arg(socket)
            .env_remove("TIMONEIRO_SOCKET")
            .env("TIMONEIRO_LOG", "info")
            // Snapshots beside the socket's directory, never the machine's cache.
            .env("XDG_CACHE_HOME", Self::cache_home(socket))
            .stdout(Stdio::null());
        // The machine's proxy settings are not the test's.
        for proxy in PROXY_VARIABLES {
            command.env_remove(proxy);
        }
        command
    }

    /// Run the CLI against this daemon.
    pub fn cli(&self, args: &[&str]) -> Output {
        cli(&self.socket, args)
    }

    /// Run the CLI and parse its stdout as JSON, panicking on failure.
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let output = self.cli(args);
        assert!(
            output.status.success(),
            "timoneiro {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON output")
    }

    /// Wait, on the daemon's status stream, until every kind is SYNCED.
    pub fn wait_synced(&self, timeout: Duration) -> Value {
        self.wait_status(timeout, "every kind of tiers 1-3 SYNCED", |kinds| {
            kinds
                .iter()
                .all(|k| k["state"] == "SYNCED" || !starts_by_itself(k))
        })
    }

    /// Wait, on the daemon's status stream, until `done` holds for the kinds.
    pub fn wait_status(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Value]) -> bool,
    ) -> Value {
        self.status_log().wait(timeout, what, done)
    }

    /// Follow the daemon's status stream from now on (`timoneiro status --watch`).
    pub fn status_log(&self) -> StatusLog {
        let mut child = cli_command(&self.socket)
            .args(["status", "--watch", "-o", "json", "--socket"])
            .arg(&self.socket)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("timoneiro status --watch");
        let lines = pump(
            child.stdout.take().expect("stdout"),
            self.dir.path().join("status.log"),
        );
        StatusLog {
            child,
            lines,
            daemon_log: self.log.clone(),
        }
    }

    /// Send a signal and wait for the daemon to exit.
    pub fn signal(&mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} {pid}");
        self.child.wait().expect("wait")
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The daemon's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A daemon's status updates in the order it sent them: waiting for one
/// state and then another proves the kinds went through both, however
/// briefly they stayed.
pub struct StatusLog {
    child: Child,
    lines: mpsc::Receiver<String>,
    daemon_log: PathBuf,
}

impl StatusLog {
    /// Read updates until `done` holds for the kinds of one; returns that
    /// status, or panics with the daemon's log after `timeout`.
    pub fn wait(
        &mut self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Value]) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(remaining) {
                Ok(line) => {
                    let status: Value = serde_json::from_str(&line).expect("status JSON");
                    let kinds = status["kinds"].as_array().cloned().unwrap_or_default();
                    if !kinds.is_empty() && done(&kinds) {
                        return status;
                    }
                }
                Err(_) => panic!(
                    "not {what} within {timeout:?}; daemon log:\n{}",
                    std::fs::read_to_string(&self.daemon_log).unwrap_or_default()
                ),
            }
        }
    }

    /// Every status update received so far, without waiting.
    pub fn drain(&mut self) -> Vec<Value> {
        let mut statuses = Vec::new();
        while let Ok(line) = self.lines.try_recv() {
            statuses.push(serde_json::from_str(&line).expect("status JSON"));
        }
        statuses
    }

    /// Wait until `kind` is in `state`; returns its status entry.
    pub fn wait_kind(&mut self, timeout: Duration, kind: &str, state: &str) -> Value {
        let status = self.wait(timeout, &format!("{kind} {state}"), |kinds| {
            kinds
                .iter()
                .any(|k| k["kind"] == kind && k["state"] == state)
        });
        status["kinds"]
            .as_array()
            .and_then(|kinds| kinds.iter().find(|k| k["kind"] == kind).cloned())
            .unwrap_or_default()
    }

    /// Wait until every kind of tiers 1–3 (and every kind already started) is SYNCED.
    pub fn wait_all_synced(&mut self, timeout: Duration) -> Value {
        self.wait(timeout, "every started kind SYNCED", |kinds| {
            kinds.iter().all(|k| {
                k["state"] == "SYNCED" || (!starts_by_itself(k) && k["state"] == "PENDING")
            })
        })
    }
}

impl Drop for StatusLog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The variables that choose a proxy (Go's, as kubectl reads them).
pub const PROXY_VARIABLES: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// A kubeconfig (in a temporary directory, kept as long as the value)
/// whose one context points at `addr` over HTTPS with a bearer token: an
/// API server that is not there, or does not answer.
pub fn kubeconfig_for(addr: std::net::SocketAddr) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        timoneiro_sim::kubeconfig(addr, "token", "default", None, None),
    )
    .expect("write the kubeconfig");
    (dir, kubeconfig)
}

/// How long a test waits for a daemon to sync a sim (generous: the
/// suite runs two test binaries at once on two cores).
pub const SYNC_WAIT: Duration = Duration::from_secs(120);

/// A sim started with `args` and a daemon on it with every kind of tiers
/// 1–3 synced: the start of most end-to-end tests.
pub fn synced_cluster(args: &[&str]) -> (Sim, Daemon) {
    synced_cluster_within(args, SYNC_WAIT)
}

/// [`synced_cluster`], waiting up to `timeout` for the sync (a benchmark's
/// big cluster).
pub fn synced_cluster_within(args: &[&str], timeout: Duration) -> (Sim, Daemon) {
    let sim = Sim::start(args);
    let daemon = Daemon::start(&sim.kubeconfig);
    daemon.wait_synced(timeout);
    (sim, daemon)
}

/// Run the CLI against a socket (never starting a daemon itself: tests
/// start their own; the autostart test removes the variable).
pub fn cli(socket: &Path, args: &[&str]) -> Output {
    cli_command(socket)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run timoneiro")
}

/// The CLI on a socket, not started; autostart off.
pub fn cli_command(socket: &Path) -> Command {
    let mut command = Command::new(bin("timoneiro"));
    command
        .env("TIMONEIRO_SOCKET", socket)
        .env(timoneiro_client::autostart::NO_AUTOSTART_ENV, "1");
    command
}

/// Stdout of a CLI run as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Stderr of a CLI run as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A program running in its own tmux server, driven as a person would:
/// keys in with `send-keys`, the screen out with `capture-pane`.
pub struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Start `command` (a shell command line) in a detached session of `width`×`height`.
    pub fn start(command: &str, width: u16, height: u16) -> Tmux {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("tmux.sock");
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args([
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                command,
            ])
            .status()
            .expect("tmux (install it: apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket, _dir: dir }
    }

    /// Type keys (tmux key names: "Enter", "Escape", or literal text).
    pub fn send(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success(), "send-keys {keys:?}");
    }

    /// The pid of the program in the pane (start it with `exec` so it is not a shell).
    pub fn pid(&self) -> Option<u32> {
        let output = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["display", "-p", "-t", "t", "#{pane_pid}"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&output.stdout).trim().parse().ok()
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        let output = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// For measurements: like [`Tmux::wait_for`], but polls every
    /// millisecond, so the time it returns at is within a capture of when
    /// the screen changed.
    pub fn poll_for(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what} within {timeout:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Wait until the screen satisfies `done`; panic with the screen after `timeout`.
    /// (tmux has no change notification for a pane: its content is polled,
    /// with [`eventually`]'s pauses.)
    pub fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        eventually(&format!("the screen to show {what}"), timeout, || {
            let screen = self.screen();
            if done(&screen) {
                Ok(screen)
            } else {
                Err(format!("the screen is\n{screen}"))
            }
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
    }
}

/// Whether a kind (from `status -o json`) starts without being asked for:
/// tiers 1-3 do, tier 4 and discovered kinds wait for their first query.
pub fn starts_by_itself(kind: &Value) -> bool {
    kind["tier"].as_u64().is_some_and(|tier| tier < 4)
}
