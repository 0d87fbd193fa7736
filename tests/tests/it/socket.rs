//! The socket: private to its user, one daemon per socket, cleaned up, and
//! clients that refuse a socket they cannot trust.

use std::collections::BTreeSet;
use std::time::Duration;

use timoneiro_tests::harness::{Daemon, Sim, eventually, stderr, stdout, synced_cluster};

/// Inodes of the TCP sockets in LISTEN state (IPv4 and IPv6).
fn tcp_listening_inodes() -> BTreeSet<String> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    // st is the 4th field; 0A is LISTEN; the inode is the 10th.
                    (fields.get(3) == Some(&"0A")).then(|| fields.get(9).map(|i| i.to_string()))?
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Inodes of the sockets a process holds open.
fn socket_inodes(pid: u32) -> BTreeSet<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd dir")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().to_string();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_is_private_single_and_cleaned_up() {
    use std::os::unix::fs::PermissionsExt;
    let sim = Sim::start(&["--pods", "50", "--namespaces", "1"]);
    let mut daemon = Daemon::start(&sim.kubeconfig);
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&daemon.socket), 0o600, "socket");
    assert_eq!(
        mode(daemon.socket.parent().expect("dir")),
        0o700,
        "socket directory"
    );
    // Nothing listens on TCP: the sockets the daemon holds are none of the
    // listening ones in /proc/net/tcp{,6}.
    daemon.wait_synced(Duration::from_secs(60));
    let listening = tcp_listening_inodes();
    assert!(
        !listening.is_empty(),
        "the sim listens, so the check can see listeners"
    );
    let held = socket_inodes(daemon.pid());
    assert!(
        !held.is_empty(),
        "the daemon holds sockets (its own and the API server's)"
    );
    assert!(
        held.is_disjoint(&listening),
        "timoneirod listens on TCP: {:?}",
        held.intersection(&listening).collect::<Vec<_>>()
    );

    // A second daemon on the same socket refuses to steal it.
    let second = Daemon::command(&sim.kubeconfig, &daemon.socket)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run");
    assert!(!second.status.success());
    assert!(
        stderr(&second).contains("already serving"),
        "{}",
        stderr(&second)
    );
    assert!(
        daemon.cli(&["status"]).status.success(),
        "the first daemon still serves"
    );

    // SIGTERM: graceful exit, socket removed.
    let status = daemon.signal("TERM");
    assert!(status.success(), "exit status {status:?}");
    assert!(!daemon.socket.exists(), "socket removed on shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_daemon_leaves_a_socket_that_does_not_block_the_next() {
    let sim = Sim::start(&["--pods", "50", "--namespaces", "1"]);
    let mut daemon = Daemon::start(&sim.kubeconfig);
    let socket = daemon.socket.clone();
    daemon.signal("KILL");
    assert!(socket.exists(), "SIGKILL leaves the socket file behind");
    let output = daemon.cli(&["status"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not running"),
        "{}",
        stderr(&output)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let next = Daemon::start_at(&sim.kubeconfig, socket, dir);
    next.wait_synced(Duration::from_secs(60));
    assert!(
        next.log_text().contains("removing a stale socket"),
        "{}",
        next.log_text()
    );
}

/// Only the daemon's own user may talk to it. The socket's 0700 directory
/// already keeps others out; this opens the directory up on purpose to prove
/// the second line of defence, the peer-credential check, as another user.
/// Our own CLI would not even try (its directory is not the other user's,
/// see the next test), so the other user knocks with curl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_is_refused_even_when_the_socket_is_reachable() {
    use std::os::unix::fs::PermissionsExt;
    if rustix::process::getuid().as_raw() != 0 {
        eprintln!(
            "skipped: switching to another user needs root (the unit test of peer_allowed still runs)"
        );
        return;
    }
    let (_sim, daemon) = synced_cluster(&["--pods", "10", "--namespaces", "1"]);
    let open = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    open(daemon.dir.path(), 0o755);
    open(daemon.socket.parent().expect("socket dir"), 0o755);
    open(&daemon.socket, 0o666);

    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["curl", "-sS", "--max-time", "10", "--http2-prior-knowledge"])
        .arg("--unix-socket")
        .arg(&daemon.socket)
        .args([
            "-X",
            "POST",
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
        ])
        .args([
            "--data-binary",
            "",
            "http://timoneirod/timoneiro.v1.Timoneiro/Info",
        ])
        .output()
        .expect("setpriv curl");
    assert!(
        !output.status.success() && stdout(&output).is_empty(),
        "another user was answered: {} {}",
        stdout(&output),
        stderr(&output)
    );
    eventually("the refusal to be logged", Duration::from_secs(10), || {
        daemon
            .log_text()
            .contains("refused a connection from another user")
    });
    assert!(
        daemon.log_text().contains("peer_uid=65534"),
        "{}",
        daemon.log_text()
    );
    // The owner's own client will not use a directory others may enter…
    let output = daemon.cli(&["get", "pods", "-A"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("mode 755"), "{}", stderr(&output));
    // …and is served again once it is private.
    open(daemon.socket.parent().expect("socket dir"), 0o700);
    assert!(daemon.cli(&["get", "pods", "-A"]).status.success());
}

/// A client talks only to its own user's daemon, in a directory that is its
/// own: another local user who can put a socket where the client looks
/// (the `/tmp/timoneiro-<uid>` fallback) must not be able to serve it false
/// cluster state. Here root plays the attacker and uid 65534 the victim.
#[test]
fn a_client_refuses_a_socket_it_cannot_trust() {
    use std::os::unix::fs::PermissionsExt;
    if rustix::process::getuid().as_raw() != 0 {
        eprintln!("skipped: playing two users needs root (the unit tests still run)");
        return;
    }
    let base = tempfile::tempdir().expect("tempdir");
    let chmod = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    chmod(base.path(), 0o755);
    let cli = base.path().join("timoneiro");
    std::fs::copy(timoneiro_tests::harness::bin("timoneiro"), &cli).expect("copy the CLI");
    chmod(&cli, 0o755);
    let as_victim = |socket: &std::path::Path| {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .env("TIMONEIRO_NO_AUTOSTART", "1")
            .env("XDG_CONFIG_HOME", base.path().join("no-config"))
            .arg(&cli)
            .arg("--socket")
            .arg(socket)
            .args(["get", "pods", "-A"])
            .output()
            .expect("setpriv")
    };

    // The victim's own directory (65534, 0700), with a server of root's in it.
    let theirs = base.path().join("victim");
    std::fs::create_dir(&theirs).expect("mkdir");
    chmod(&theirs, 0o700);
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown");
    let planted = theirs.join("timoneirod.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&planted).expect("bind");
    chmod(&planted, 0o666);
    let output = as_victim(&planted);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("it runs as uid 0, not as you (uid 65534)"),
        "{}",
        stderr(&output)
    );

    // A directory of root's that the victim may enter: whatever listens
    // there, the client does not even connect.
    let foreign = base.path().join("foreign");
    std::fs::create_dir(&foreign).expect("mkdir");
    chmod(&foreign, 0o755);
    let socket = foreign.join("timoneirod.sock");
    let _other = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    chmod(&socket, 0o666);
    let output = as_victim(&socket);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "the socket directory {} is not safe: it belongs to uid 0, not to you (uid 65534)",
            foreign.display()
        )),
        "{}",
        stderr(&output)
    );
}

/// Several daemons started at once on one stale socket (the login of a
/// shell that starts one, a unit and a script): exactly one serves, the
/// others say another is serving, and none is left running without its
/// socket (the stale check and the bind happen under one lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemons_racing_for_a_stale_socket_leave_exactly_one_serving() {
    use std::os::unix::fs::PermissionsExt;
    let sim = Sim::start(&["--pods", "10", "--namespaces", "1"]);
    for round in 0..6 {
        let dir = tempfile::tempdir().expect("tempdir");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("mkdir");
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let socket = run.join("timoneirod.sock");
        // A crash leaves this behind: a socket file nobody listens on.
        drop(std::os::unix::net::UnixListener::bind(&socket).expect("stale socket"));
        let mut racers: Vec<std::process::Child> = (0..4)
            .map(|_| {
                Daemon::command(&sim.kubeconfig, &socket)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("start timoneirod")
            })
            .collect();
        // Wait until all but one have given up (or 30 s).
        let (running, refused) = eventually(
            "all racers but one to give up",
            Duration::from_secs(30),
            || {
                let (mut refused, mut running) = (0, 0);
                for racer in &mut racers {
                    match racer.try_wait().expect("wait") {
                        Some(status) => {
                            assert!(!status.success(), "round {round}: a racer exited cleanly");
                            refused += 1;
                        }
                        None => running += 1,
                    }
                }
                if running <= 1 {
                    Ok((running, refused))
                } else {
                    Err(format!("{running} still running"))
                }
            },
        );
        assert_eq!(
            (running, refused),
            (1, 3),
            "round {round}: exactly one daemon runs"
        );
        assert!(
            timoneiro_tests::harness::cli(&socket, &["status"])
                .status
                .success()
        );
        for mut racer in racers {
            let _ = racer.kill();
            let _ = racer.wait();
        }
    }
}
