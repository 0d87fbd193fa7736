//! The daemon binary's help (snapshot in tests/snapshots; regenerate with
//! TIMONEIRO_UPDATE_SNAPSHOTS=1) and its refusal to start without a usable
//! kubeconfig context.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn help_text() {
    let output = Command::new(env!("CARGO_BIN_EXE_timoneirod"))
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .expect("run");
    assert!(output.status.success());
    let actual = String::from_utf8_lossy(&output.stdout);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help.txt");
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
fn an_unknown_context_is_fatal_and_lists_the_known_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\n\
         users: [{name: u, user: {token: t}}]\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n",
    )
    .expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_timoneirod"))
        .args(["--context", "prod", "--kubeconfig"])
        .arg(&kubeconfig)
        .arg("--socket")
        .arg(dir.path().join("d.sock"))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("context \"prod\" is not in the kubeconfig")
            && stderr.contains("contexts there: a"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("d.sock").exists(),
        "nothing listens after a fatal error"
    );
}
