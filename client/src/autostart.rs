//! Starting the daemon when no one answers, for the CLI and the TUI: unless
//! `--no-autostart` (or `TIMONEIRO_NO_AUTOSTART=1`) or a service manager's
//! socket already answers, a client starts `timoneirod --socket PATH` in the
//! background and waits until it listens. A lock file next to the socket
//! makes clients that race here start one daemon between them.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set to 1 (or true) to never start the daemon from a client.
pub const NO_AUTOSTART_ENV: &str = "TIMONEIRO_NO_AUTOSTART";
/// The `timoneirod` binary clients start (default: the one next to the
/// client's own binary, else `timoneirod` on the PATH).
pub const DAEMON_ENV: &str = "TIMONEIRO_DAEMON";

/// How long a client waits for a daemon it started to listen.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Errors of starting the daemon.
#[derive(Debug, thiserror::Error)]
pub enum AutostartError {
    /// The daemon could not be started or exited at once.
    #[error(
        "timoneirod is not running at {socket} and starting it failed: {message} (its log: {log})"
    )]
    Failed {
        /// The socket it was to serve.
        socket: PathBuf,
        /// What went wrong, with the daemon's last log line when it exited.
        message: String,
        /// The daemon's log file.
        log: PathBuf,
    },
    /// The socket's directory or lock file is unusable.
    #[error("timoneirod is not running and cannot be started: {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Whether the environment turns autostart off.
pub fn disabled_by_env() -> bool {
    std::env::var(NO_AUTOSTART_ENV).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"))
}

/// Whether a daemon answers on `socket`.
pub fn answers(socket: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket).is_ok()
}

/// The daemon binary to start.
fn daemon_binary() -> PathBuf {
    if let Some(path) = std::env::var_os(DAEMON_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("timoneirod")))
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("timoneirod"))
}

/// Start `timoneirod` on `socket` unless one answers; returns whether this
/// call started it. Blocks (run it off the async runtime's threads).
pub fn ensure_running(socket: &Path) -> Result<bool, AutostartError> {
    if answers(socket) {
        return Ok(false);
    }
    let dir = socket
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| AutostartError::Io {
            action,
            path,
            source,
        }
    };
    crate::socket::private_directory(dir).map_err(|e| AutostartError::Io {
        action: "cannot use the socket directory",
        path: e.path.clone(),
        source: std::io::Error::other(e.reason),
    })?;
    // Never through a link someone else planted: O_NOFOLLOW.
    let no_follow = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
    let name = socket
        .file_name()
        .map_or_else(|| "timoneirod.sock".into(), |n| n.to_string_lossy());
    let lock_path = dir.join(format!(".{name}.lock"));
    let _lock = crate::socket::lock_exclusive(&lock_path).map_err(io("cannot lock", &lock_path))?;
    // Whoever held the lock before us may have started it.
    if answers(socket) {
        return Ok(false);
    }
    let log = dir.join("timoneirod.log");
    let log_file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(no_follow)
        .open(&log)
        .map_err(io("cannot open", &log))?;
    let start_of_run = log_file.metadata().map_or(0, |m| m.len());
    let binary = daemon_binary();
    let mut child = Command::new(&binary)
        .arg("--socket")
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        // Its own process group: a Ctrl-C in the client's terminal does not reach it.
        .process_group(0)
        .spawn()
        .map_err(|e| AutostartError::Failed {
            message: format!("cannot run {}: {e}", binary.display()),
            log: log.clone(),
            socket: socket.to_path_buf(),
        })?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if answers(socket) {
            return Ok(true);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(AutostartError::Failed {
                message: format!(
                    "{} exited ({status}): {}",
                    binary.display(),
                    last_line(&log, start_of_run)
                ),
                log,
                socket: socket.to_path_buf(),
            });
        }
        if Instant::now() > deadline {
            return Err(AutostartError::Failed {
                message: format!(
                    "{} did not listen on {} within {START_TIMEOUT:?}",
                    binary.display(),
                    socket.display()
                ),
                log,
                socket: socket.to_path_buf(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last non-empty line the daemon wrote to its log since `from`.
fn last_line(log: &Path, from: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(log) {
        let _ = file.seek(SeekFrom::Start(from));
        let _ = file.read_to_string(&mut text);
    }
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock file path someone replaced with a link (to a file of the
    /// user's: what they would get the daemon to append to) is refused, and
    /// the file it points to is left as it was.
    #[test]
    fn a_planted_link_is_never_followed() {
        use std::os::unix::fs::PermissionsExt;
        let base = tempfile::tempdir().expect("tempdir");
        let dir = base.path().join("run");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let precious = base.path().join("precious");
        std::fs::write(&precious, b"keep me").expect("write");
        std::os::unix::fs::symlink(&precious, dir.join(".timoneirod.sock.lock")).expect("link");
        let error = ensure_running(&dir.join("timoneirod.sock")).expect_err("refused");
        assert!(
            error.to_string().contains(".timoneirod.sock.lock"),
            "{error}"
        );
        assert_eq!(std::fs::read(&precious).expect("read"), b"keep me");
    }
}
