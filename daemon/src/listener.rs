//! The daemon's Unix socket: a 0700 directory the user owns, a 0600 socket,
//! refusal to start when another daemon already serves the path, cleanup of
//! a stale socket left by a crash, and a peer-credential check that drops
//! connections from any other uid. Under systemd socket activation
//! (`LISTEN_FDS`/`LISTEN_PID`) the daemon serves the listener it inherits
//! instead, and leaves the socket file to systemd.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use futures::{Stream, StreamExt};
use timoneiro_client::socket::peer_allowed;
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::UnixListenerStream;

/// Errors of preparing the socket.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    /// Another daemon answers on the socket.
    #[error(
        "another timoneirod is already serving on {0}; stop it first (or use --socket to run a second one elsewhere)"
    )]
    AlreadyServing(PathBuf),
    /// The socket's directory is unsafe to use.
    #[error("refusing to use {path}: {reason}")]
    UnsafeDirectory {
        /// The directory.
        path: PathBuf,
        /// Why it is unsafe.
        reason: String,
    },
    /// The path exists and is not a socket.
    #[error("{0} exists and is not a socket; refusing to remove it")]
    NotASocket(PathBuf),
    /// An I/O error at a path.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> ListenerError + use<'a> {
    move |source| ListenerError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// How long to wait after a failed accept (EMFILE and the like).
const ACCEPT_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// A bound socket, removed from the file system when dropped.
#[derive(Debug)]
pub struct BoundSocket {
    /// The socket path.
    pub path: PathBuf,
    listener: Option<UnixListener>,
    /// Whether the daemon made the socket file (and removes it on exit);
    /// an inherited socket belongs to systemd.
    owned: bool,
    /// Whether the listener came from socket activation.
    pub activated: bool,
}

impl BoundSocket {
    /// The accepted connections from this user only.
    pub fn incoming(&mut self) -> impl Stream<Item = io::Result<UnixStream>> + use<> {
        let own_uid = rustix::process::getuid().as_raw();
        let listener = self.listener.take();
        futures::stream::iter(listener)
            .flat_map(UnixListenerStream::new)
            .filter_map(move |conn| async move {
                match conn {
                    Ok(stream) => match stream.peer_cred() {
                        Ok(cred) if peer_allowed(cred.uid(), own_uid) => Some(Ok(stream)),
                        Ok(cred) => {
                            tracing::warn!(
                                peer_uid = cred.uid(),
                                "refused a connection from another user"
                            );
                            None
                        }
                        Err(error) => {
                            tracing::warn!(%error, "refused a connection without peer credentials");
                            None
                        }
                    },
                    // Transient accept errors (EMFILE, ENFILE, ENOMEM) must
                    // not end the server; they do not clear at once either,
                    // so pause before accepting again instead of spinning
                    // (and logging) as fast as accept fails.
                    Err(error) => {
                        tracing::warn!(%error, "accept failed; pausing {ACCEPT_PAUSE:?}");
                        tokio::time::sleep(ACCEPT_PAUSE).await;
                        None
                    }
                }
            })
    }
}

impl Drop for BoundSocket {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        if let Err(error) = std::fs::remove_file(&self.path)
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), %error, "could not remove the socket");
        }
    }
}

/// Create the socket's directory (0700) or check an existing one
/// (`timoneiro_client::socket::private_directory`).
fn prepare_directory(dir: &Path) -> Result<(), ListenerError> {
    timoneiro_client::socket::private_directory(dir).map_err(|e| ListenerError::UnsafeDirectory {
        path: e.path,
        reason: e.reason,
    })
}

/// The listening Unix socket systemd passed (`LISTEN_FDS`, `LISTEN_PID`), if
/// any; `fallback` names it when the socket has no path.
pub fn inherited(fallback: &Path) -> Result<Option<BoundSocket>, ListenerError> {
    let activation = |source: io::Error| ListenerError::Io {
        action: "cannot use the socket passed by the service manager for",
        path: fallback.to_path_buf(),
        source,
    };
    let mut fds = listenfd::ListenFd::from_env();
    let Some(listener) = fds.take_unix_listener(0).map_err(activation)? else {
        return Ok(None);
    };
    listener.set_nonblocking(true).map_err(activation)?;
    let path = listener
        .local_addr()
        .ok()
        .and_then(|addr| addr.as_pathname().map(Path::to_path_buf))
        .unwrap_or_else(|| fallback.to_path_buf());
    let listener = UnixListener::from_std(listener).map_err(activation)?;
    Ok(Some(BoundSocket {
        path,
        listener: Some(listener),
        owned: false,
        activated: true,
    }))
}

/// Bind the socket at `path`, refusing if a daemon already answers there and
/// removing a stale socket file.
pub fn bind(path: &Path) -> Result<BoundSocket, ListenerError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    prepare_directory(dir)?;
    // Two daemons starting at once must not both find the socket stale and
    // remove each other's: the check and the bind happen under a lock (not
    // autostart's, which is held while the daemon starts).
    let name = path
        .file_name()
        .map_or_else(|| "timoneirod.sock".into(), |n| n.to_string_lossy());
    let lock_path = dir.join(format!(".{name}.bind.lock"));
    let _bind_lock = timoneiro_client::socket::lock_exclusive(&lock_path)
        .map_err(io_error("cannot lock", &lock_path))?;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            match std::os::unix::net::UnixStream::connect(path) {
                Ok(_) => return Err(ListenerError::AlreadyServing(path.to_path_buf())),
                Err(_) => {
                    tracing::info!(path = %path.display(), "removing a stale socket");
                    std::fs::remove_file(path)
                        .map_err(io_error("cannot remove the stale socket", path))?;
                }
            }
        }
        Ok(_) => return Err(ListenerError::NotASocket(path.to_path_buf())),
        Err(_) => {}
    }
    let listener = UnixListener::bind(path).map_err(|source| {
        if source.kind() == io::ErrorKind::AddrInUse {
            ListenerError::AlreadyServing(path.to_path_buf())
        } else {
            ListenerError::Io {
                action: "cannot bind",
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    let bound = BoundSocket {
        path: path.to_path_buf(),
        listener: Some(listener),
        owned: true,
        activated: false,
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(io_error("cannot restrict the socket's permissions", path))?;
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_0600_in_a_0700_directory_and_cleans_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/d.sock");
        let bound = bind(&path).expect("bind");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("parent")), 0o700);
        let err = bind(&path).unwrap_err();
        assert!(matches!(err, ListenerError::AlreadyServing(_)), "{err}");
        drop(bound);
        assert!(!path.exists(), "socket removed on drop");
    }

    #[tokio::test]
    async fn stale_sockets_are_replaced_and_other_files_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run/d.sock");
        std::fs::create_dir(dir.path().join("run")).expect("mkdir");
        std::fs::set_permissions(
            dir.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .expect("chmod");
        // A socket file nobody listens on, as a crash leaves it.
        drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
        assert!(path.exists());
        let bound = bind(&path).expect("stale socket replaced");
        drop(bound);
        std::fs::write(&path, "not a socket").expect("write");
        assert!(matches!(
            bind(&path).unwrap_err(),
            ListenerError::NotASocket(_)
        ));
    }

    #[test]
    fn open_directories_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let err = bind(&dir.path().join("d.sock")).unwrap_err();
        assert!(
            err.to_string().contains("others may use it (mode 777)"),
            "{err}"
        );
    }
}
