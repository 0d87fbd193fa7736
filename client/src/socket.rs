//! Where the daemon listens and how clients reach it.
//!
//! Resolution order: an explicit path (`--socket`), then `TIMONEIRO_SOCKET`,
//! then `socket` in the config file, then `$XDG_RUNTIME_DIR/timoneiro/timoneirod.sock`, then a per-user
//! directory under the temporary directory (`/tmp/timoneiro-<uid>/`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use timoneiro_proto::v1::timoneiro_client::TimoneiroClient;

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
    /// The socket's directory is not this user's alone: whoever can write
    /// there can put their own server in place of the daemon.
    #[error("refusing to use the daemon at {path}: {source}")]
    UnsafeDirectory {
        /// The socket path that was tried.
        path: PathBuf,
        /// What is wrong with its directory.
        #[source]
        source: UnsafeDirectory,
    },
    /// The process listening on the socket runs as another user: it is not
    /// this user's daemon, and nothing it says can be trusted.
    #[error(
        "refusing the server at {path}: it runs as uid {server_uid}, not as you (uid {own_uid}); \
         another user may have put it there to serve you false cluster state. \
         Stop using that socket, or start your own daemon with `timoneirod`"
    )]
    ForeignServer {
        /// The socket path that was tried.
        path: PathBuf,
        /// The uid of the process that listens.
        server_uid: u32,
        /// This user's uid.
        own_uid: u32,
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
    use std::os::unix::fs::DirBuilderExt;
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
    check_private_directory(dir)
}

/// Check, without creating anything, that `dir` is a real directory (not a
/// link) owned by this user with no access for anyone else: what clients
/// require of the socket's directory before they trust a socket in it.
pub fn check_private_directory(dir: &Path) -> Result<(), UnsafeDirectory> {
    use std::os::unix::fs::MetadataExt;
    let unsafe_dir = |reason: String| UnsafeDirectory {
        path: dir.to_path_buf(),
        reason,
    };
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

/// Open (creating it 0600, never through a symbolic link) and lock
/// exclusively the file at `path`, waiting for whoever holds it. The lock
/// lasts as long as the returned file.
pub fn lock_exclusive(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let no_follow = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(no_follow)
        .open(path)?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
    Ok(file)
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

/// Only the user who runs the daemon may talk to it, and a client talks
/// only to a daemon of its own user: the same uid on both ends.
pub fn peer_allowed(peer_uid: u32, own_uid: u32) -> bool {
    peer_uid == own_uid
}

/// The server at the other end of the socket runs as another user.
#[derive(Debug, thiserror::Error)]
#[error("the server runs as uid {server_uid}")]
struct ForeignPeer {
    server_uid: u32,
}

/// Connect a gRPC client to the daemon's Unix socket.
///
/// Before anything is sent, the socket's directory must be this user's
/// alone ([`check_private_directory`]) and the listening process must run
/// as this user (its peer credentials, checked on every connection the
/// channel makes, reconnects included).
pub async fn connect(path: &Path) -> Result<TimoneiroClient<Channel>, ConnectError> {
    if !path.exists() {
        return Err(ConnectError::NotRunning {
            path: path.to_path_buf(),
        });
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        check_private_directory(dir).map_err(|source| ConnectError::UnsafeDirectory {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let own_uid = rustix::process::getuid().as_raw();
    let socket = path.to_path_buf();
    let connector = tower::service_fn(move |_: tonic::transport::Uri| {
        let socket = socket.clone();
        async move {
            let stream = tokio::net::UnixStream::connect(&socket).await?;
            let server_uid = stream.peer_cred()?.uid();
            if !peer_allowed(server_uid, own_uid) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    ForeignPeer { server_uid },
                ));
            }
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
        }
    });
    // The URI is not used to connect (the connector knows the socket); it
    // names the authority of the HTTP/2 requests.
    let endpoint =
        Endpoint::from_static("http://timoneirod.invalid").connect_timeout(Duration::from_secs(2));
    match endpoint.connect_with_connector(connector).await {
        Ok(channel) => {
            Ok(TimoneiroClient::new(channel).max_decoding_message_size(256 * 1024 * 1024))
        }
        Err(source) => {
            if let Some(foreign) = find_source::<ForeignPeer>(&source) {
                Err(ConnectError::ForeignServer {
                    path: path.to_path_buf(),
                    server_uid: foreign.server_uid,
                    own_uid,
                })
            } else if refused(&source) {
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

/// The first error of type `E` in `error`'s source chain.
fn find_source<'a, E: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    let mut source = Some(error);
    while let Some(err) = source {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(found) = io.get_ref().and_then(|inner| inner.downcast_ref::<E>())
        {
            return Some(found);
        }
        source = err.source();
    }
    None
}

/// Whether a transport error means "nobody listens" (a stale socket file).
fn refused(error: &tonic::transport::Error) -> bool {
    find_source::<std::io::Error>(error).is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn only_the_same_uid_is_allowed() {
        assert!(peer_allowed(1000, 1000));
        assert!(!peer_allowed(0, 1000));
        assert!(!peer_allowed(1001, 1000));
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
