//! The user's configuration file, read by the daemon and the clients:
//! `$TIMONEIRO_CONFIG`, else `$XDG_CONFIG_HOME/timoneiro/config.toml`
//! (`~/.config/timoneiro/config.toml`). Every key is optional; a command line
//! flag or an environment variable wins over the file, the file over the
//! built-in default. An unknown key or a bad value is an error naming the
//! file, the line and the key.
//!
//! ```toml
//! socket = "/run/user/1000/timoneiro/timoneirod.sock"
//! autostart = true            # clients start timoneirod when none answers
//!
//! [daemon]
//! idle_evict = "30m"          # drop an unused context's caches after this long
//! namespaces = ["team-a"]     # cache these too when RBAC forbids cluster-wide lists
//! preload = ["nodes"]         # start these kinds with the others (not on first use)
//!
//! [tiers]                     # when a built-in kind loads: 1 with pods, 2-3 after, 4 on first use
//! events = 2
//! configmaps = 4
//!
//! [contexts.prod]             # per kubeconfig context
//! readonly = true             # refuse deletes, scaling, restarts… (logs and reads still work)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The environment variable naming the config file.
pub const CONFIG_ENV: &str = "TIMONEIRO_CONFIG";

/// The configuration file's contents.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The daemon's socket.
    pub socket: Option<PathBuf>,
    /// Whether clients start the daemon when none answers.
    pub autostart: Option<bool>,
    /// Daemon settings.
    #[serde(default)]
    pub daemon: DaemonConfig,
    /// Loading tier per built-in kind (plural name → 1–4).
    #[serde(default)]
    pub tiers: BTreeMap<String, u32>,
    /// Settings per kubeconfig context, by context name.
    #[serde(default)]
    pub contexts: BTreeMap<String, ContextConfig>,
}

/// `[contexts.NAME]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    /// Refuse every action (delete, scale, restart, cordon, trigger) on
    /// this context.
    #[serde(default)]
    pub readonly: bool,
}

/// `[daemon]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// Idle time before a context's caches are dropped, e.g. "30m".
    pub idle_evict: Option<String>,
    /// Extra namespaces for RBAC-limited users.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Kinds to start with the others instead of on first use.
    #[serde(default)]
    pub preload: Vec<String>,
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid config {path}: {message}")]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, with the line and the key.
    pub message: String,
}

/// A loaded config and where it came from (None: no file, all defaults).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The values.
    pub config: Config,
    /// The file read, if any.
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// "config file PATH" for values from the file.
    pub fn source(&self) -> String {
        match &self.path {
            Some(path) => format!("config file {}", path.display()),
            None => "config file".to_string(),
        }
    }
}

/// Where the config file is looked for.
pub fn default_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("timoneiro").join("config.toml"))
}

/// Parse config text; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_string();
        let message = match e.span() {
            Some(span) => {
                let start = span.start.min(text.len());
                let line = text[..start].matches('\n').count() + 1;
                let source = text.lines().nth(line - 1).unwrap_or_default().trim();
                format!("line {line} ({source}): {message}")
            }
            None => message,
        };
        ConfigError {
            path: path.to_path_buf(),
            message,
        }
    })?;
    for (kind, tier) in &config.tiers {
        if !(1..=4).contains(tier) {
            return Err(ConfigError {
                path: path.to_path_buf(),
                message: format!("tiers.{kind} = {tier}: a tier is 1, 2, 3 or 4"),
            });
        }
    }
    if let Some(idle) = &config.daemon.idle_evict {
        crate::parse_duration(idle).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            message: format!("daemon.idle_evict: {e}"),
        })?;
    }
    Ok(config)
}

/// Read the config file: `explicit`, else `default_path()`. A missing file
/// at the default place is no config; a missing explicit one is an error.
pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
    let (path, must_exist) = match explicit {
        Some(path) => (path.to_path_buf(), true),
        None => match default_path() {
            Some(path) => (
                path,
                std::env::var_os(CONFIG_ENV).is_some_and(|p| !p.is_empty()),
            ),
            None => return Ok(Loaded::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            return Ok(Loaded::default());
        }
        Err(e) => {
            return Err(ConfigError {
                path,
                message: e.to_string(),
            });
        }
    };
    let config = parse(&text, &path)?;
    Ok(Loaded {
        config,
        path: Some(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses() {
        let config = parse(
            "socket = \"/tmp/s.sock\"\nautostart = false\n[daemon]\nidle_evict = \"5m\"\nnamespaces = [\"a\"]\npreload = [\"nodes\"]\n[tiers]\nevents = 2\n[contexts.prod]\nreadonly = true\n[contexts.\"kind-lab\"]\n",
            Path::new("c.toml"),
        )
        .expect("parses");
        assert_eq!(config.socket, Some(PathBuf::from("/tmp/s.sock")));
        assert_eq!(config.autostart, Some(false));
        assert_eq!(config.daemon.idle_evict.as_deref(), Some("5m"));
        assert_eq!(config.daemon.namespaces, ["a"]);
        assert_eq!(config.daemon.preload, ["nodes"]);
        assert_eq!(config.tiers.get("events"), Some(&2));
        assert!(config.contexts["prod"].readonly);
        assert!(!config.contexts["kind-lab"].readonly);
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_key() {
        let error = parse(
            "autostart = true\n\n[daemon]\nidle = \"5m\"\n",
            Path::new("/x/config.toml"),
        )
        .expect_err("unknown key");
        let text = error.to_string();
        assert!(
            text.starts_with(
                "invalid config /x/config.toml: line 4 (idle = \"5m\"): unknown field `idle`"
            ),
            "{text}"
        );
        assert!(text.contains("idle"), "{text}");
        let error = parse("autostart = \"yes\"\n", Path::new("c.toml")).expect_err("bad type");
        assert!(
            error.to_string().contains("line 1 (autostart = \"yes\")"),
            "{error}"
        );
        let error = parse("[tiers]\npods = 7\n", Path::new("c.toml")).expect_err("bad tier");
        assert!(error.to_string().contains("tiers.pods = 7"), "{error}");
        let error = parse("[daemon]\nidle_evict = \"soon\"\n", Path::new("c.toml"))
            .expect_err("bad duration");
        assert!(error.to_string().contains("daemon.idle_evict"), "{error}");
    }
}
