//! Running as a user service: socket activation the way systemd
//! does it, and clients that start the daemon themselves when none answers.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use timoneiro_tests::harness::{Sim, bin, eventually, stderr, stdout};

/// Processes whose command line mentions `needle` (to count daemons on a socket).
fn processes_with(needle: &str, program: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).to_string())
                .collect();
            let is_program = args.first().is_some_and(|a| a.ends_with(program));
            (is_program && args.iter().any(|a| a.contains(needle))).then_some(pid)
        })
        .collect()
}

fn wait_for_path(path: &Path) {
    eventually(
        &format!("{} to appear", path.display()),
        Duration::from_secs(20),
        || path.exists(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_activated_daemon_serves_on_the_inherited_listener() {
    let sim = Sim::start(&["--pods", "40", "--namespaces", "1"]);
    let dir = tempfile::tempdir().expect("tempdir");
    // What the unit's DirectoryMode=0700 makes (clients refuse anything else).
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod 700");
    let socket = dir.path().join("timoneirod.sock");
    let log = dir.path().join("daemon.log");
    // systemd's own tool: it binds the socket, and on the first connection
    // starts the daemon with LISTEN_FDS=1 and LISTEN_PID set, as the
    // timoneirod.socket unit does.
    let mut activator = Command::new("systemd-socket-activate")
        .arg("-l")
        .arg(&socket)
        .arg(bin("timoneirod"))
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .arg("--socket")
        .arg(&socket)
        .env_remove("TIMONEIRO_SOCKET")
        .env("TIMONEIRO_LOG", "info")
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("systemd-socket-activate (from the systemd package)");
    wait_for_path(&socket);
    assert!(
        processes_with(&socket.to_string_lossy(), "timoneirod").is_empty(),
        "no daemon before the first connection"
    );

    // The first client's connection starts the daemon, which answers it.
    let output = timoneiro_tests::harness::cli(&socket, &["get", "pods", "-A", "--no-headers"]);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(output.status.success(), "{}\n{text}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 40);
    assert!(text.contains("activated=true"), "{text}");

    // The socket file belongs to the service manager: the daemon leaves it.
    let _ = activator.kill();
    let _ = activator.wait();
    for pid in processes_with(&socket.to_string_lossy(), "timoneirod") {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
}

/// Many clients at once and no daemon: they start exactly one between them,
/// and every one of them is answered by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_racing_with_no_daemon_start_exactly_one() {
    let sim = Sim::start(&["--pods", "30", "--namespaces", "1"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("run/timoneirod.sock");
    let clients: Vec<_> = (0..8)
        .map(|_| {
            timoneiro_tests::harness::cli_command(&socket)
                .env_remove(timoneiro_client::autostart::NO_AUTOSTART_ENV)
                .env("KUBECONFIG", &sim.kubeconfig)
                .env(timoneiro_client::autostart::DAEMON_ENV, bin("timoneirod"))
                .env("XDG_CACHE_HOME", dir.path().join("cache"))
                .args(["get", "pods", "-A", "--no-headers"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("timoneiro")
        })
        .collect();
    let outputs: Vec<_> = clients
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    let daemons = processes_with(&socket.to_string_lossy(), "timoneirod");
    for output in &outputs {
        assert!(output.status.success(), "{}", stderr(output));
        assert_eq!(stdout(output).lines().count(), 30);
    }
    assert_eq!(daemons.len(), 1, "exactly one daemon: {daemons:?}");
    let log = std::fs::read_to_string(dir.path().join("run/timoneirod.log")).unwrap_or_default();
    assert_eq!(
        log.matches("timoneirod listening").count(),
        1,
        "one daemon started: {log}"
    );
    assert!(
        !log.contains("already serving"),
        "no second daemon was even tried: {log}"
    );

    // The daemon outlives the clients that started it.
    let output = timoneiro_tests::harness::cli(&socket, &["version"]);
    assert!(output.status.success(), "{}", stderr(&output));
    for pid in daemons {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
}

#[test]
fn a_daemon_that_cannot_start_is_reported_with_its_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    // In a directory the client makes private (a tempdir may be 0755).
    let socket = dir.path().join("run/timoneirod.sock");
    let output = timoneiro_tests::harness::cli_command(&socket)
        .env_remove(timoneiro_client::autostart::NO_AUTOSTART_ENV)
        .env("KUBECONFIG", dir.path().join("no-such-kubeconfig"))
        .env(timoneiro_client::autostart::DAEMON_ENV, bin("timoneirod"))
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .args(["get", "pods"])
        .output()
        .expect("timoneiro");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("starting it failed")
            && stderr(&output).contains("no-such-kubeconfig")
            && stderr(&output).contains("timoneirod.log"),
        "{}",
        stderr(&output)
    );
    // --no-autostart: just say it is not running.
    let output = timoneiro_tests::harness::cli_command(&socket)
        .env_remove(timoneiro_client::autostart::NO_AUTOSTART_ENV)
        .args(["--no-autostart", "get", "pods"])
        .output()
        .expect("timoneiro");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not running"),
        "{}",
        stderr(&output)
    );
}

fn kind_status<'a>(status: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    status["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|k| k["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_sets_tiers_preload_socket_and_autostart() {
    let sim = Sim::start(&["--pods", "20", "--namespaces", "1"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    let socket = dir.path().join("from-config.sock");
    std::fs::write(
        &config,
        format!(
            "socket = \"{}\"\nautostart = false\n\n[daemon]\npreload = [\"nodes\"]\n\n[tiers]\nevents = 2\nconfigmaps = 4\n",
            socket.display()
        ),
    )
    .expect("write");
    let daemon = timoneiro_tests::harness::Daemon::start_configured(&sim.kubeconfig, &config);
    let status = daemon.wait_synced(Duration::from_secs(60));
    assert_eq!(kind_status(&status, "events")["tier"], 2);
    assert_eq!(
        kind_status(&status, "events")["state"],
        "SYNCED",
        "tier 2 starts by itself"
    );
    assert_eq!(kind_status(&status, "nodes")["tier"], 3, "preloaded");
    assert_eq!(kind_status(&status, "nodes")["state"], "SYNCED");
    assert_eq!(kind_status(&status, "configmaps")["tier"], 4);
    assert_eq!(
        kind_status(&status, "configmaps")["state"],
        "PENDING",
        "on first use"
    );

    // The clients' view: the socket and autostart from the file, with their sources.
    let output = Command::new(bin("timoneiro"))
        .args(["config", "-o", "json"])
        .env("TIMONEIRO_CONFIG", &config)
        .env_remove("TIMONEIRO_SOCKET")
        .env_remove("TIMONEIRO_NO_AUTOSTART")
        .output()
        .expect("timoneiro config");
    assert!(output.status.success(), "{}", stderr(&output));
    let settings: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let setting = |key: &str| {
        settings["settings"]
            .as_array()
            .expect("settings")
            .iter()
            .find(|s| s["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key}: {settings}"))
    };
    assert_eq!(setting("socket")["value"], socket.display().to_string());
    assert!(
        setting("socket")["source"]
            .as_str()
            .unwrap_or_default()
            .starts_with("config file")
    );
    assert_eq!(setting("autostart")["value"], "false");
    assert_eq!(setting("tiers.events")["value"], "2");
    // autostart = false: no daemon on the configured socket, and none is started.
    let output = Command::new(bin("timoneiro"))
        .args(["get", "pods"])
        .env("TIMONEIRO_CONFIG", &config)
        .env("KUBECONFIG", &sim.kubeconfig)
        .env_remove("TIMONEIRO_SOCKET")
        .env_remove("TIMONEIRO_NO_AUTOSTART")
        .output()
        .expect("timoneiro get");
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&socket.display().to_string()),
        "{}",
        stderr(&output)
    );
    assert!(!socket.exists(), "autostart = false starts nothing");

    // A bad file: the daemon and the clients name the file, the line and the key.
    std::fs::write(&config, "autostart = true\n[daemon]\nidle_evict = 30\n").expect("write");
    for (program, args) in [
        ("timoneirod", vec!["--socket", "/nonexistent/x.sock"]),
        ("timoneiro", vec!["get", "pods"]),
    ] {
        let output = Command::new(bin(program))
            .args(&args)
            .env("TIMONEIRO_CONFIG", &config)
            .env_remove("TIMONEIRO_SOCKET")
            .output()
            .expect("run");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{program}: {}",
            stderr(&output)
        );
        let text = stderr(&output);
        assert!(
            text.contains(&format!("invalid config {}", config.display()))
                && text.contains("line 3 (idle_evict = 30)"),
            "{program}: {text}"
        );
    }
}
