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
