//! `timoneiro config`: the effective settings and where each came from
//! (a flag, the environment, the config file, or the default).

use serde_json::json;
use timoneiro_client::config::{self, CONFIG_ENV};
use timoneiro_client::{autostart, socket};

use crate::args::{Global, Settings, StatusFormat};
use crate::output::Out;
use crate::{exit, fail};

/// Run `config`.
pub fn run(global: &Global, args: Settings) -> anyhow::Result<()> {
    let loaded = config::load(None).map_err(|e| fail(exit::USAGE, e.to_string()))?;
    let file = loaded.source();
    let from_file = |present: bool, default: &str| -> String {
        if present {
            file.clone()
        } else {
            default.to_string()
        }
    };
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let (path, path_source) = match (&loaded.path, config::default_path()) {
        (Some(path), _) => (path.display().to_string(), "read".to_string()),
        (None, Some(path)) => (
            path.display().to_string(),
            "not found (all defaults)".to_string(),
        ),
        (None, None) => ("-".to_string(), "no HOME or XDG_CONFIG_HOME".to_string()),
    };
    let path_source = if std::env::var_os(CONFIG_ENV).is_some_and(|v| !v.is_empty()) {
        format!("{path_source}; from ${CONFIG_ENV}")
    } else {
        path_source
    };
    rows.push(("config file".into(), path, path_source));

    let socket_path =
        socket::resolve_socket_path(global.socket.as_deref(), loaded.config.socket.as_deref());
    let socket_source = socket_source(global, loaded.config.socket.is_some(), &file);
    rows.push((
        "socket".into(),
        socket_path.display().to_string(),
        socket_source,
    ));

    let (autostart, autostart_source) = if global.no_autostart {
        (false, "flag --no-autostart".to_string())
    } else if autostart::disabled_by_env() {
        (
            false,
            format!("environment ${}", autostart::NO_AUTOSTART_ENV),
        )
    } else {
        (
            loaded.config.autostart.unwrap_or(true),
            from_file(loaded.config.autostart.is_some(), "default"),
        )
    };
    rows.push(("autostart".into(), autostart.to_string(), autostart_source));

    let daemon = &loaded.config.daemon;
    rows.push((
        "daemon.idle_evict".into(),
        daemon.idle_evict.clone().unwrap_or_else(|| "30m".into()),
        from_file(daemon.idle_evict.is_some(), "default"),
    ));
    let list = |items: &[String]| {
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(", ")
        }
    };
    rows.push((
        "daemon.namespaces".into(),
        list(&daemon.namespaces),
        from_file(!daemon.namespaces.is_empty(), "default"),
    ));
    rows.push((
        "daemon.preload".into(),
        list(&daemon.preload),
        from_file(!daemon.preload.is_empty(), "default"),
    ));
    for (kind, tier) in &loaded.config.tiers {
        rows.push((format!("tiers.{kind}"), tier.to_string(), file.clone()));
    }

    print(rows, args.output == Some(StatusFormat::Json))
}

/// The settings as a table (KEY VALUE SOURCE) or as JSON.
fn print(rows: Vec<(String, String, String)>, json: bool) -> anyhow::Result<()> {
    let mut out = Out::new();
    if json {
        let value = json!({"settings": rows.iter().map(|(k, v, s)| json!({"key": k, "value": v, "source": s})).collect::<Vec<_>>()});
        out.line(&serde_json::to_string(&value)?)?;
    } else {
        let mut grid = vec![vec![
            "KEY".to_string(),
            "VALUE".to_string(),
            "SOURCE".to_string(),
        ]];
        grid.extend(rows.into_iter().map(|(k, v, s)| vec![k, v, s]));
        for line in crate::table::layout(&grid) {
            out.line(line.trim_end())?;
        }
        out.line("(timoneirod's own flags win over the daemon.* values of the file)")?;
    }
    out.flush()
}

/// Where the socket path came from: `$TIMONEIRO_SOCKET`, `--socket`, the
/// config file (`file`) or the default.
fn socket_source(global: &Global, in_file: bool, file: &str) -> String {
    let from_env = std::env::var_os(socket::SOCKET_ENV).filter(|v| !v.is_empty());
    if from_env.is_some()
        && global.socket.as_deref() == from_env.as_deref().map(std::path::Path::new)
    {
        format!("environment ${}", socket::SOCKET_ENV)
    } else if global.socket.is_some() {
        "flag --socket".to_string()
    } else if in_file {
        file.to_string()
    } else {
        "default".to_string()
    }
}
