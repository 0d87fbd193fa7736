//! Which proxy reaches a cluster, decided as kubectl decides it (client-go:
//! the cluster's `proxy-url`, else Go's `http.ProxyFromEnvironment`):
//!
//! - a kubeconfig cluster's `proxy-url` wins, whatever the environment says;
//! - else `HTTPS_PROXY` (or `https_proxy`) for an https server, `HTTP_PROXY`
//!   (or `http_proxy`) for an http one; a value without a scheme is
//!   `http://`;
//! - `localhost` and loopback addresses are never proxied from the
//!   environment, nor a server `NO_PROXY` (or `no_proxy`) names: `*`, an IP
//!   or CIDR, or a host with its subdomains (`example.com`, `.example.com`,
//!   `*.example.com`), optionally with a port; empty entries are ignored.
//!
//! kube reads the same variables but tests `NO_PROXY` against the proxy's
//! own address, not the server's, so its answer is replaced by this one.
//! HTTP CONNECT (`http://`, `https://`) and SOCKS5 (`socks5://`) proxies work.

use std::net::IpAddr;

/// The proxy for a server at `server`: the cluster's `proxy-url` if set,
/// else what `env` (a variable lookup) says. An error names the bad value.
pub fn for_server(
    proxy_url: Option<&str>,
    server: &http::Uri,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<http::Uri>, String> {
    if let Some(url) = proxy_url.map(str::trim).filter(|u| !u.is_empty()) {
        return parse(url)
            .map(Some)
            .map_err(|e| format!("proxy-url {url:?}: {e}"));
    }
    let variable = |upper: &str| {
        env(upper)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (upper.to_string(), v))
            .or_else(|| {
                let lower = upper.to_lowercase();
                env(&lower)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (lower, v))
            })
    };
    let https = server.scheme_str() != Some("http");
    let Some((name, value)) = variable(if https { "HTTPS_PROXY" } else { "HTTP_PROXY" }) else {
        return Ok(None);
    };
    let Some(host) = server.host() else {
        return Ok(None);
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    {
        return Ok(None);
    }
    let port = server.port_u16().unwrap_or(if https { 443 } else { 80 });
    if let Some((_, no_proxy)) = variable("NO_PROXY")
        && bypassed(&no_proxy, host, port)
    {
        return Ok(None);
    }
    parse(value.trim())
        .map(Some)
        .map_err(|e| format!("{name}={value:?}: {e}"))
}

/// A proxy address; `host:port` alone is `http://host:port`.
fn parse(url: &str) -> Result<http::Uri, String> {
    let url = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let uri: http::Uri = url.parse().map_err(|e| format!("not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http" | "https" | "socks5") => {}
        Some(other) => {
            return Err(format!(
                "the {other}:// scheme is not supported (http://, https:// or socks5://)"
            ));
        }
        None => return Err("no scheme".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    Ok(uri)
}

/// `NO_PROXY` as kube can read it, naming the same servers for Go's rules:
/// entries trimmed, empty ones dropped, `*` among others made the whole
/// value. kube refuses the forms Go accepts (a trailing comma, a `*` entry)
/// and would stop the daemon; `timoneirod` hands it this form instead.
pub fn normalized_no_proxy(value: &str) -> String {
    let entries: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.contains(&"*") {
        return "*".to_string();
    }
    entries.join(",")
}

/// Whether `NO_PROXY` names the server `host:port` (Go's httpproxy rules).
fn bypassed(no_proxy: &str, host: &str, port: u16) -> bool {
    let host = host.to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    no_proxy
        .split(',')
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some((network, bits)) = entry.split_once('/') {
                return match (ip, network.parse::<IpAddr>(), bits.parse::<u32>()) {
                    (Some(ip), Ok(network), Ok(bits)) => in_network(ip, network, bits),
                    _ => false,
                };
            }
            if let Ok(entry_ip) = entry
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
            {
                return ip == Some(entry_ip);
            }
            // host, or host:port (a port must match too)
            let (name, entry_port) = match entry.rsplit_once(':') {
                Some((name, p)) => match p.parse::<u16>() {
                    Ok(p) => (name, Some(p)),
                    Err(_) => (entry.as_str(), None),
                },
                None => (entry.as_str(), None),
            };
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            if let Some(ip_text) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
                return ip_text.parse::<IpAddr>().ok() == ip;
            }
            let name = name.trim_start_matches('*');
            match name.strip_prefix('.') {
                // ".example.com": subdomains only.
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                // "example.com": itself and its subdomains.
                None => host == name || host.ends_with(&format!(".{name}")),
            }
        })
}

fn in_network(ip: IpAddr, network: IpAddr, bits: u32) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn proxy(proxy_url: Option<&str>, server: &str, vars: &[(&str, &str)]) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for_server(proxy_url, &server.parse().expect("uri"), |k| {
            vars.get(k).cloned()
        })
        .expect("valid")
        .map(|u| u.to_string())
    }

    const P: &str = "http://proxy.corp:3128/";

    #[test]
    fn the_kubeconfig_proxy_url_wins() {
        let vars = [("HTTPS_PROXY", "http://other:1"), ("NO_PROXY", "*")];
        assert_eq!(
            proxy(
                Some("socks5://127.0.0.1:1080"),
                "https://k8s.corp:6443",
                &vars
            )
            .as_deref(),
            Some("socks5://127.0.0.1:1080/")
        );
    }

    #[test]
    fn the_environment_follows_go() {
        let https = [("HTTPS_PROXY", "proxy.corp:3128")];
        assert_eq!(
            proxy(None, "https://k8s.corp:6443", &https).as_deref(),
            Some(P)
        );
        // The lower-case name too; HTTP_PROXY is for http servers only.
        assert_eq!(
            proxy(
                None,
                "https://k8s.corp",
                &[("https_proxy", "http://proxy.corp:3128")]
            )
            .as_deref(),
            Some(P)
        );
        assert_eq!(proxy(None, "https://k8s.corp", &[("HTTP_PROXY", P)]), None);
        assert_eq!(
            proxy(None, "http://k8s.corp", &[("HTTP_PROXY", P)]).as_deref(),
            Some(P)
        );
        // Loopback and localhost are never proxied from the environment.
        for server in [
            "https://127.0.0.1:6443",
            "https://localhost:6443",
            "https://[::1]:6443",
        ] {
            assert_eq!(proxy(None, server, &https), None, "{server}");
        }
    }

    #[test]
    fn no_proxy_names_the_server_not_the_proxy() {
        let with = |no_proxy: &str, server: &str| {
            proxy(None, server, &[("HTTPS_PROXY", P), ("NO_PROXY", no_proxy)])
        };
        // kube would test the proxy's own host; the server's decides.
        assert_eq!(with("proxy.corp", "https://k8s.corp").as_deref(), Some(P));
        assert_eq!(with("k8s.corp", "https://k8s.corp"), None);
        assert_eq!(with("corp", "https://k8s.corp"), None);
        assert_eq!(with(".corp", "https://k8s.corp"), None);
        assert_eq!(with("*.corp", "https://k8s.corp"), None);
        assert_eq!(with(".k8s.corp", "https://k8s.corp").as_deref(), Some(P));
        assert_eq!(with("s.corp", "https://k8s.corp").as_deref(), Some(P));
        assert_eq!(with("k8s.corp:6443", "https://k8s.corp:6443"), None);
        assert_eq!(
            with("k8s.corp:443", "https://k8s.corp:6443").as_deref(),
            Some(P)
        );
        assert_eq!(with("10.0.0.0/8", "https://10.1.2.3:6443"), None);
        assert_eq!(
            with("10.0.0.0/8", "https://11.1.2.3:6443").as_deref(),
            Some(P)
        );
        assert_eq!(with("10.1.2.3", "https://10.1.2.3:6443"), None);
        assert_eq!(with("*", "https://k8s.corp"), None);
        // Empty entries and spaces are ignored, as Go does (kube refuses them).
        assert_eq!(with("a.example, ,k8s.corp,", "https://k8s.corp"), None);
    }

    #[test]
    fn no_proxy_is_normalized_for_kube() {
        assert_eq!(
            normalized_no_proxy(" localhost, .corp ,,10.0.0.0/8,"),
            "localhost,.corp,10.0.0.0/8"
        );
        assert_eq!(normalized_no_proxy("a.example,*"), "*");
        assert_eq!(normalized_no_proxy(","), "");
        for value in [
            " localhost, .corp ,,10.0.0.0/8,",
            "a.example,*",
            "k8s.corp:6443",
        ] {
            let normalized = normalized_no_proxy(value);
            for host in ["k8s.corp", "10.1.2.3", "x.corp", "a.example"] {
                assert_eq!(
                    bypassed(value, host, 6443),
                    bypassed(&normalized, host, 6443),
                    "{value:?} {host}"
                );
            }
        }
    }

    #[test]
    fn bad_values_are_named() {
        let bad = for_server(None, &"https://k8s.corp".parse().expect("uri"), |k| {
            (k == "HTTPS_PROXY").then(|| "ftp://proxy:21".to_string())
        })
        .expect_err("ftp is no proxy");
        assert!(
            bad.starts_with("HTTPS_PROXY=\"ftp://proxy:21\": the ftp:// scheme"),
            "{bad}"
        );
    }
}
