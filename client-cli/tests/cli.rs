//! The CLI as a user meets it before any daemon runs: help text (snapshots
//! in tests/snapshots; regenerate with TIMONEIRO_UPDATE_SNAPSHOTS=1) and the
//! error when no daemon answers.

use std::path::PathBuf;
use std::process::Command;

fn timoneiro(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_timoneiro"))
        .args(args)
        .env("COLUMNS", "100")
        .env_remove("TIMONEIRO_SOCKET")
        .output()
        .expect("run timoneiro")
}

fn snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("TIMONEIRO_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual,
        expected,
        "{} changed; rerun with TIMONEIRO_UPDATE_SNAPSHOTS=1 if intended",
        path.display()
    );
}

#[test]
fn help_texts() {
    for (args, name) in [
        (&["--help"][..], "help.txt"),
        (&["get", "--help"][..], "get-help.txt"),
        (&["status", "--help"][..], "status-help.txt"),
        (&["api-resources", "--help"][..], "api-resources-help.txt"),
    ] {
        let output = timoneiro(args);
        assert!(output.status.success());
        snapshot(name, &String::from_utf8_lossy(&output.stdout));
    }
}

#[test]
fn no_daemon_is_a_clear_error_with_its_own_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("none.sock");
    let output = timoneiro(&[
        "status",
        "--no-autostart",
        "--socket",
        socket.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: timoneirod is not running"),
        "{stderr}"
    );
    assert!(
        stderr.contains(socket.to_str().expect("utf-8")),
        "names the socket: {stderr}"
    );
    let output = timoneiro(&[
        "version",
        "--no-autostart",
        "--socket",
        socket.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&output.stdout).starts_with("timoneiro 0."),
        "the client version still prints"
    );
}
