//! Reaching the daemon, for every client: connect to its socket (which
//! checks the directory and the daemon's user), ask Info, and refuse a
//! daemon that speaks another protocol version.

use std::path::{Path, PathBuf};

use crate::socket;
use timoneiro_proto::v1::timoneiro_client::TimoneiroClient;
use timoneiro_proto::v1::{InfoRequest, InfoResponse};
use tonic::transport::Channel;

/// Why a client could not talk to the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No daemon, an unsafe directory, or another user's daemon.
    #[error(transparent)]
    Socket(#[from] socket::ConnectError),
    /// Connected, then dropped before any answer: the daemon refuses this
    /// client (it serves only its own user), or it is not a timoneirod.
    #[error(
        "{} closed the connection without answering ({message}): timoneirod serves only the user who runs it (is this another user's daemon?); start your own, or point --socket at it",
        path.display()
    )]
    Refused { path: PathBuf, message: String },
    /// The daemon answered Info with an error.
    #[error("{}", .0.message())]
    Info(tonic::Status),
    /// Another release's daemon.
    #[error(
        "timoneirod {daemon} at {} speaks protocol {theirs}, this {client} {} speaks {}; restart the daemon from the same release",
        path.display(),
        timoneiro_proto::VERSION,
        timoneiro_proto::PROTOCOL_VERSION
    )]
    Protocol {
        path: PathBuf,
        daemon: String,
        theirs: u32,
        client: &'static str,
    },
}

/// Connect to the daemon at `path` and check it speaks our protocol;
/// `client` names this program in the message when it does not.
pub async fn connect(
    path: &Path,
    client: &'static str,
) -> Result<(TimoneiroClient<Channel>, InfoResponse), ConnectError> {
    let mut connection = socket::connect(path).await?;
    let info = match connection.info(InfoRequest {}).await {
        Ok(info) => info.into_inner(),
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::Unknown | tonic::Code::Unavailable | tonic::Code::Cancelled
            ) =>
        {
            return Err(ConnectError::Refused {
                path: path.to_path_buf(),
                message: status.message().to_string(),
            });
        }
        Err(status) => return Err(ConnectError::Info(status)),
    };
    if info.protocol_version != timoneiro_proto::PROTOCOL_VERSION {
        return Err(ConnectError::Protocol {
            path: path.to_path_buf(),
            daemon: info.daemon_version.clone(),
            theirs: info.protocol_version,
            client,
        });
    }
    Ok((connection, info))
}
