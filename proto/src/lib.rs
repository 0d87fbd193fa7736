//! Timoneiro's wire protocol (`timoneiro.v1`), where the daemon's socket
//! lives, how clients connect to it, and how clients render cells.
//!
//! The daemon and every client depend on this crate, so anything both sides
//! must agree on lives here and nowhere else.

pub mod autostart;
pub mod config;
pub mod edit;
pub mod jsonpath;
pub mod render;
pub mod socket;

/// Generated prost messages and tonic client/server for `timoneiro.v1`.
#[allow(missing_docs, clippy::all)]
pub mod tabwriter;

pub mod v1 {
    tonic::include_proto!("timoneiro.v1");
}

/// Protocol version spoken by this build. Bump it on any incompatible change
/// to `timoneiro.v1`; clients refuse a daemon with another version.
pub const PROTOCOL_VERSION: u32 = 4;

/// The kinds every daemon serves built in, by plural name, in tier order
/// (clients complete these when no daemon answers; the daemon's catalog
/// checks it agrees).
pub const BUILTIN_KINDS: [&str; 18] = [
    "pods",
    "deployments",
    "services",
    "namespaces",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "jobs",
    "cronjobs",
    "configmaps",
    "secrets",
    "persistentvolumeclaims",
    "persistentvolumes",
    "ingresses",
    "nodes",
    "events",
    "serviceaccounts",
    "horizontalpodautoscalers",
];

/// This crate's version, which is also the daemon's and the clients'.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Parse "30s", "2m", "1h", "500ms" or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (try 30s, 2m, 500ms)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use ms, s, m or h)"
            ));
        }
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}
