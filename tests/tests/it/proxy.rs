//! The API server behind a proxy, as kubectl reaches it: the
//! cluster's name resolves only at the proxy (`kubernetes.timoneiro.invalid`,
//! a reserved name no DNS answers), so a daemon that syncs went through it,
//! and the proxy's log names what it was asked for.

use std::time::Duration;

use timoneiro_tests::harness::{Daemon, Sim, stderr, stdout};
use timoneiro_tests::proxy::{Protocol, Proxy};

const HOST: &str = "kubernetes.timoneiro.invalid";

/// The sim's kubeconfig with a server name only the proxy knows (the
/// certificate is checked for `localhost`, one of its names), and `extra`
/// cluster lines.
fn behind_proxy(sim: &Sim, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let server = format!("https://{HOST}:{}", sim.addr().port());
    let mut lines = vec!["tls-server-name: localhost"];
    lines.extend_from_slice(extra);
    sim.kubeconfig_with(name, &server, &lines)
}

fn synced_pods(daemon: &Daemon) -> usize {
    daemon.wait_synced(Duration::from_secs(60));
    let output = daemon.cli(&["get", "pods", "-A", "--no-headers"]);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output).lines().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_from_the_environment_is_used() {
    let sim = Sim::start(&["--pods", "30", "--namespaces", "1"]);
    let proxy = Proxy::start(Protocol::HttpConnect, sim.addr()).await;
    let kubeconfig = behind_proxy(&sim, "env", &[]);
    let address = format!("http://{}", proxy.addr);
    let daemon = Daemon::start_env(&kubeconfig, &[("HTTPS_PROXY", &address)]);
    assert_eq!(synced_pods(&daemon), 30);
    let targets = proxy.targets();
    let wanted = format!("{HOST}:{}", sim.addr().port());
    assert!(
        !targets.is_empty() && targets.iter().all(|t| *t == wanted),
        "{targets:?}"
    );
    assert!(
        daemon.log_text().contains("through a proxy"),
        "{}",
        daemon.log_text()
    );
}

/// The kubeconfig's `proxy-url` wins over the environment (here a proxy
/// that does not exist), and SOCKS5 works as well as HTTP CONNECT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubeconfig_proxy_url_wins_and_socks5_works() {
    let sim = Sim::start(&["--pods", "30", "--namespaces", "1"]);
    let proxy = Proxy::start(Protocol::Socks5, sim.addr()).await;
    let proxy_url = format!("proxy-url: socks5://{}", proxy.addr);
    let kubeconfig = behind_proxy(&sim, "socks", &[&proxy_url]);
    let daemon = Daemon::start_env(&kubeconfig, &[("HTTPS_PROXY", "http://127.0.0.1:9")]);
    assert_eq!(synced_pods(&daemon), 30);
    let wanted = format!("{HOST}:{}", sim.addr().port());
    assert!(proxy.targets().contains(&wanted), "{:?}", proxy.targets());
}

/// NO_PROXY names the server: the daemon goes straight to it, and here
/// (the name resolves only at the proxy) fails to resolve it, saying so,
/// while the proxy is never asked. Another NO_PROXY leaves it proxied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_bypasses_the_proxy_for_the_servers_it_names() {
    let sim = Sim::start(&["--pods", "30", "--namespaces", "1"]);
    let proxy = Proxy::start(Protocol::HttpConnect, sim.addr()).await;
    let kubeconfig = behind_proxy(&sim, "no-proxy", &[]);
    let address = format!("http://{}", proxy.addr);

    let daemon = Daemon::start_env(
        &kubeconfig,
        &[
            ("HTTPS_PROXY", &address),
            ("NO_PROXY", "localhost,.timoneiro.invalid,"),
        ],
    );
    let mut log = daemon.status_log();
    let pods = log.wait_kind(Duration::from_secs(60), "pods", "ERROR");
    let message = pods["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("dns error") || message.contains("lookup"),
        "{pods}"
    );
    assert!(proxy.targets().is_empty(), "{:?}", proxy.targets());
    drop(log);
    drop(daemon);

    let daemon = Daemon::start_env(
        &kubeconfig,
        &[
            ("HTTPS_PROXY", &address),
            ("no_proxy", "example.com,10.0.0.0/8"),
        ],
    );
    assert_eq!(synced_pods(&daemon), 30);
    assert!(!proxy.targets().is_empty());
}
