//! Where the daemon listens and how clients reach it.
//!
//! Resolution order: an explicit path (`--socket`), then `TIMONEIRO_SOCKET`,
//! then `socket` in the config file, then `$XDG_RUNTIME_DIR/timoneiro/timoneirod.sock`, then a per-user
//! directory under the temporary directory (`/tmp/timoneiro-<uid>/`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::v1::timoneiro_client::TimoneiroClient;

/// Environment variable that overrides the socket path.
pub const SOCKET_ENV: &str = "TIMONEIRO_SOCKET";

/// File name of the socket inside its directory.
pub const SOCKET_FILE: &str = "timoneirod.sock";

/// Errors of connecting to the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nothing listens on the socket (no file, or a stale file).
    #[error(
        "timoneirod is not running (no daemon at {path}): start it with `timoneirod` \
         (or `timoneirod --kubeconfig FILE`), or point --socket / TIMONEIRO_SOCKET at a running one"
    )]
    NotRunning {
        /// The socket path that was tried.
        path: PathBuf,
    },
    /// Connecting failed for another reason (permissions, bad path).
    #[error(
        "cannot connect to timoneirod at {path}: {source}; timoneirod serves only the user who runs it (is this another user's daemon?)"
    )]
    Transport {
        /// The socket path that was tried.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: tonic::transport::Error,
    },
}

/// A socket directory another user could tamper with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the socket directory {path} is not safe: {reason}")]
pub struct UnsafeDirectory {
    /// The directory.
    pub path: PathBuf,
    /// Why: its owner, its mode, or that it is not a directory.
    pub reason: String,
}

/// Make `dir` the socket's private directory, or check that it already is
/// one: created with a single `mkdir` (0700; missing parents are created
/// too), then looked at without following links (`lstat`): a real
/// directory, owned by this user, with no access for anyone else. Another
/// user can pre-create the directory (under `/tmp` when `XDG_RUNTIME_DIR` is
/// unset) or swap it for a link between a check and a use; this refuses
/// whatever is there that is not ours alone.
pub fn private_directory(dir: &Path) -> Result<(), UnsafeDirectory> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let unsafe_dir = |reason: String| UnsafeDirectory {
        path: dir.to_path_buf(),
        reason,
    };
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| unsafe_dir(format!("cannot create its parent: {e}")))?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(unsafe_dir(format!("cannot create it: {e}"))),
    }
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| unsafe_dir(format!("cannot inspect it: {e}")))?;
    if meta.file_type().is_symlink() {
        return Err(unsafe_dir("it is a symbolic link; remove it".into()));
    }
    if !meta.is_dir() {
        return Err(unsafe_dir("it is not a directory".into()));
    }
    let own_uid = rustix::process::getuid().as_raw();
    if meta.uid() != own_uid {
        return Err(unsafe_dir(format!(
            "it belongs to uid {}, not to you (uid {own_uid}); another user may have made it to take your socket",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(unsafe_dir(format!(
            "others may use it (mode {mode:o}); it must be yours alone: chmod 700 {}",
            dir.display()
        )));
    }
    Ok(())
}

/// The socket path clients and the daemon use when nothing overrides it.
pub fn default_socket_path() -> PathBuf {
    default_socket_dir().join(SOCKET_FILE)
}

/// The directory of the default socket (created 0700 by the daemon).
pub fn default_socket_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("timoneiro"),
        _ => {
            let uid = rustix::process::getuid().as_raw();
            std::env::temp_dir().join(format!("timoneiro-{uid}"))
        }
    }
}

/// Resolve the socket path from an explicit flag, the environment, or the default.
pub fn resolve_socket_path(explicit: Option<&Path>, configured: Option<&Path>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    match std::env::var_os(SOCKET_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => configured.map_or_else(default_socket_path, Path::to_path_buf),
    }
}

/// Connect a gRPC client to the daemon's Unix socket.
pub async fn connect(path: &Path) -> Result<TimoneiroClient<Channel>, ConnectError> {
    if !path.exists() {
        return Err(ConnectError::NotRunning {
            path: path.to_path_buf(),
        });
    }
    let uri = format!("unix://{}", path.display());
    let endpoint = Endpoint::from_shared(uri)
        .map_err(|source| ConnectError::Transport {
            path: path.to_path_buf(),
            source,
        })?
        .connect_timeout(Duration::from_secs(2));
    match endpoint.connect().await {
        Ok(channel) => {
            Ok(TimoneiroClient::new(channel).max_decoding_message_size(256 * 1024 * 1024))
        }
        Err(source) => {
            if refused(&source) {
                Err(ConnectError::NotRunning {
                    path: path.to_path_buf(),
                })
            } else {
                Err(ConnectError::Transport {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
}

/// Whether a transport error means "nobody listens" (a stale socket file).
fn refused(error: &tonic::transport::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
            )
        {
            return true;
        }
        source = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn a_missing_directory_is_made_ours_alone() {
        let base = tempfile::tempdir().expect("tempdir");
        let dir = base.path().join("a/b/timoneiro");
        private_directory(&dir).expect("created");
        let meta = std::fs::symlink_metadata(&dir).expect("made");
        assert!(meta.is_dir());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        // And a second time, as it is.
        private_directory(&dir).expect("ours");
    }

    /// What another local user can leave where the socket goes (the
    /// fallback `/tmp/timoneiro-<uid>`): a directory others may use, a link
    /// to a directory of ours, a file, a directory of theirs.
    #[test]
    fn anything_not_ours_alone_is_refused_and_named() {
        let base = tempfile::tempdir().expect("tempdir");
        let open = base.path().join("open");
        std::fs::create_dir(&open).expect("mkdir");
        mode(&open, 0o755);
        let refused = private_directory(&open).expect_err("0755 is not private");
        assert!(refused.reason.contains("mode 755"), "{refused}");
        assert!(refused.to_string().contains(&open.display().to_string()));

        let ours = base.path().join("ours");
        std::fs::create_dir(&ours).expect("mkdir");
        mode(&ours, 0o700);
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&ours, &link).expect("symlink");
        let refused = private_directory(&link).expect_err("a link is not the directory");
        assert!(refused.reason.contains("symbolic link"), "{refused}");

        let file = base.path().join("file");
        std::fs::write(&file, b"").expect("file");
        assert!(private_directory(&file).is_err());

        if rustix::process::getuid().as_raw() == 0 {
            let theirs = base.path().join("theirs");
            std::fs::create_dir(&theirs).expect("mkdir");
            mode(&theirs, 0o700);
            std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).expect("chown");
            let refused = private_directory(&theirs).expect_err("another user's");
            assert!(refused.reason.contains("belongs to uid 65534"), "{refused}");
        }
    }
}
