//! Everything a process talking to the daemon's socket needs, shared by
//! both clients (the CLI and the TUI) and, for its first half, the daemon:
//!
//! - where the socket lives and who may use it ([`socket`]), the config
//!   file ([`config`]), durations as typed ([`parse_duration`]);
//! - kubectl's ways of printing: ages and quantities ([`render`]),
//!   aligned columns ([`tabwriter`]), JSONPath ([`jsonpath`]);
//! - reaching the daemon and checking its protocol ([`connect`]), starting
//!   it when nothing answers ([`autostart`]);
//! - acting through it: edit in `$EDITOR` ([`edit`]), a terminal session in
//!   a container ([`exec`]), local listeners tunnelled to a pod's port
//!   ([`forward`]).

pub mod autostart;
pub mod config;
pub mod connect;
mod duration;
pub mod edit;
pub mod exec;
pub mod forward;
pub mod jsonpath;
pub mod render;
pub mod socket;
pub mod tabwriter;

pub use duration::parse_duration;

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
