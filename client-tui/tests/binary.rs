//! The binary before any screen is drawn: help text (snapshot; regenerate
//! with TIMONEIRO_UPDATE_SNAPSHOTS=1) and a clear refusal without a terminal.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn help_text() {
    let output = Command::new(env!("CARGO_BIN_EXE_timoneiro-tui"))
        .arg("--help")
        .env("COLUMNS", "100")
        .env_remove("TIMONEIRO_SOCKET")
        .output()
        .expect("run");
    assert!(output.status.success());
    let actual = String::from_utf8_lossy(&output.stdout);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/binary-help.txt");
    if std::env::var_os("TIMONEIRO_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual.as_bytes()).expect("write snapshot");
        return;
    }
    assert_eq!(
        actual,
        std::fs::read_to_string(&path).unwrap_or_default(),
        "{} changed",
        path.display()
    );
}

#[test]
fn without_a_terminal_it_says_what_to_use_instead() {
    let output = Command::new(env!("CARGO_BIN_EXE_timoneiro-tui"))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not a terminal") && stderr.contains("timoneiro get"),
        "{stderr}"
    );
}
