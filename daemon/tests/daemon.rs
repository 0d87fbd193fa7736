//! The daemon binary's help (snapshot in tests/snapshots; regenerate with
//! `cargo insta review`) and its refusal to start without a usable
//! kubeconfig context.

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
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("help", actual);
    });
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
