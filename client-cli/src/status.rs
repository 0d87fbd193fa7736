//! `timoneiro status`: where each kind's cache stands.

use futures::StreamExt;
use serde_json::json;
use timoneiro_proto::v1::{KindStatus, StatusRequest, StatusResponse, SyncState};

use crate::args::{Global, Status, StatusFormat};
use crate::connection::connect;
use crate::output::Out;
use crate::{exit, fail, from_status};

/// Run `status`.
pub async fn run(global: &Global, args: Status) -> anyhow::Result<()> {
    let mut connection = connect(global).await?;
    let request = StatusRequest {
        context: args.context.name.clone(),
    };
    let mut out = Out::new();
    if !args.watch {
        let status = connection
            .client
            .status(request)
            .await
            .map_err(from_status)?
            .into_inner();
        print(&mut out, &status, args.output)?;
        return out.flush();
    }
    let mut stream = connection
        .client
        .watch_status(request)
        .await
        .map_err(from_status)?
        .into_inner();
    while let Some(update) = stream.next().await {
        let status = update.map_err(from_status)?;
        print(&mut out, &status, args.output)?;
        if args.output.is_none() {
            out.line("")?;
        }
        out.flush()?;
    }
    Err(fail(exit::DAEMON, "the daemon closed the status stream"))
}

/// A kind's state, decoded from the wire.
pub fn state(kind: &KindStatus) -> SyncState {
    SyncState::try_from(kind.state).unwrap_or(SyncState::Unspecified)
}

/// The state's name as users see it: SYNCED, LOADING, …
pub fn state_name(kind: &KindStatus) -> &'static str {
    match state(kind) {
        SyncState::Pending => "PENDING",
        SyncState::Loading => "LOADING",
        SyncState::Synced => "SYNCED",
        SyncState::Error => "ERROR",
        SyncState::Stale => "STALE",
        SyncState::Unspecified => "UNKNOWN",
    }
}

/// The WIRE column: protobuf or json ("-" before the kind starts).
fn wire(kind: &KindStatus) -> &str {
    match kind.encoding.split_once(' ') {
        Some((encoding, _)) => encoding,
        None if kind.encoding.is_empty() => "-",
        None => &kind.encoding,
    }
}

/// The MESSAGE column: the state's message, why a kind fell back to JSON,
/// the namespaces of a namespace-scoped cache, and why it last relisted.
fn message(kind: &KindStatus) -> String {
    let message = state_message(kind);
    match (kind.last_relist_reason.as_str(), message.is_empty()) {
        ("", _) => message,
        (reason, true) => format!("last relist: {reason}"),
        (reason, false) => format!("{message}; last relist: {reason}"),
    }
}

fn state_message(kind: &KindStatus) -> String {
    let message = match kind.encoding.split_once(' ') {
        Some((_, why)) => {
            let why = why.trim_start_matches('(').trim_end_matches(')');
            if kind.message.is_empty() {
                why.to_string()
            } else {
                format!("{}; {why}", kind.message)
            }
        }
        None => kind.message.clone(),
    };
    match (kind.scope_namespaces.as_slice(), message.as_str()) {
        ([], message) => message.to_string(),
        (namespaces, message) => {
            let scope = format!(
                "only namespaces {} (cluster-wide list forbidden)",
                namespaces.join(", ")
            );
            if message.is_empty() {
                scope
            } else {
                format!("{message}; {scope}")
            }
        }
    }
}

fn print(
    out: &mut Out,
    status: &StatusResponse,
    format: Option<StatusFormat>,
) -> anyhow::Result<()> {
    match format {
        Some(StatusFormat::Json) => {
            let value = json!({
                "context": status.context,
                "kinds": status.kinds.iter().map(|k| json!({
                    "kind": k.kind,
                    "state": state_name(k),
                    "objects": k.objects,
                    "tier": k.tier,
                    "syncMillis": (k.sync_millis > 0).then_some(k.sync_millis),
                    "message": k.message,
                    "namespaces": k.scope_namespaces,
                    "wire": k.encoding,
                    "relists": k.relists,
                    "lastRelistReason": k.last_relist_reason,
                })).collect::<Vec<_>>(),
            });
            out.line(&serde_json::to_string(&value)?)
        }
        None => {
            let mut grid = vec![
                [
                    "KIND",
                    "STATE",
                    "OBJECTS",
                    "TIER",
                    "WIRE",
                    "SYNC TIME",
                    "RELISTS",
                    "MESSAGE",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for kind in &status.kinds {
                let sync = if kind.sync_millis > 0 {
                    format!("{:.2}s", kind.sync_millis as f64 / 1000.0)
                } else {
                    "-".into()
                };
                grid.push(vec![
                    kind.kind.clone(),
                    state_name(kind).to_string(),
                    kind.objects.to_string(),
                    kind.tier.to_string(),
                    wire(kind).to_string(),
                    sync,
                    kind.relists.to_string(),
                    message(kind),
                ]);
            }
            for line in crate::table::layout(&grid) {
                out.line(line.trim_end())?;
            }
            Ok(())
        }
    }
}
