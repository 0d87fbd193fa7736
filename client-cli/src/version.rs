//! `timoneiro version`: this client's version, then the daemon's.

use crate::args::Global;
use crate::connection::connect;
use crate::output::Out;

/// Run `version`.
pub async fn run(global: &Global) -> anyhow::Result<()> {
    let mut out = Out::new();
    out.line(&format!(
        "timoneiro {} (protocol {})",
        timoneiro_proto::VERSION,
        timoneiro_proto::PROTOCOL_VERSION
    ))?;
    out.flush()?;
    let connection = connect(global).await?;
    let info = connection.info;
    let contexts: Vec<String> = info
        .contexts
        .iter()
        .filter(|c| c.active)
        .map(|c| format!("{} ({})", c.name, c.server))
        .collect();
    out.line(&format!(
        "timoneirod {} (protocol {}, pid {}, up {}s, serving {})",
        info.daemon_version,
        info.protocol_version,
        info.pid,
        info.uptime_seconds,
        contexts.join(", ")
    ))?;
    out.flush()
}
