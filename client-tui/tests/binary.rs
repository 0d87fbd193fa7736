//! The binary before any screen is drawn: help text (snapshot; regenerate
//! with `cargo insta review`) and a clear refusal without a terminal.

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
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("binary-help", actual);
    });
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
