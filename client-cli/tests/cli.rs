//! The CLI as a user meets it before any daemon runs: help text (snapshots
//! in tests/snapshots; review changes with `cargo insta review`) and the
//! error when no daemon answers.

use std::process::Command;

fn timoneiro(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_timoneiro"))
        .args(args)
        .env("COLUMNS", "100")
        .env_remove("TIMONEIRO_SOCKET")
        .output()
        .expect("run timoneiro")
}

/// Compare with `tests/snapshots/NAME.snap` (review changes with `cargo
/// insta review`; CI never accepts them).
fn snapshot(name: &str, actual: &str) {
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, actual);
    });
}

#[test]
fn help_texts() {
    for (args, name) in [
        (&["--help"][..], "help"),
        (&["get", "--help"][..], "get-help"),
        (&["status", "--help"][..], "status-help"),
        (&["api-resources", "--help"][..], "api-resources-help"),
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
