//! Reaching the daemon: resolve the socket, connect, check the protocol.

use timoneiro_proto::autostart;
use timoneiro_proto::socket;
use timoneiro_proto::v1::{InfoRequest, InfoResponse, timoneiro_client::TimoneiroClient};
use tonic::transport::Channel;

use crate::args::Global;
use crate::{exit, fail, from_status};

/// A connected client and what the daemon said about itself.
pub struct Connection {
    /// The gRPC client.
    pub client: TimoneiroClient<Channel>,
    /// The daemon's Info.
    pub info: InfoResponse,
}

/// Connect and check that the daemon speaks our protocol.
pub async fn connect(global: &Global) -> anyhow::Result<Connection> {
    let config =
        timoneiro_proto::config::load(None).map_err(|e| fail(exit::USAGE, e.to_string()))?;
    let path =
        socket::resolve_socket_path(global.socket.as_deref(), config.config.socket.as_deref());
    if !global.no_autostart
        && !autostart::disabled_by_env()
        && config.config.autostart != Some(false)
    {
        let socket = path.clone();
        tokio::task::spawn_blocking(move || autostart::ensure_running(&socket))
            .await?
            .map_err(|e| fail(exit::DAEMON, e.to_string()))?;
    }
    let mut client = socket::connect(&path)
        .await
        .map_err(|e| fail(exit::DAEMON, e.to_string()))?;
    let info = match client.info(InfoRequest {}).await {
        Ok(info) => info.into_inner(),
        // Connected, then dropped before any answer: the daemon refuses this
        // client (it serves only its own user) or is not a timoneirod.
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::Unknown | tonic::Code::Unavailable | tonic::Code::Cancelled
            ) =>
        {
            return Err(fail(
                exit::DAEMON,
                format!(
                    "{} closed the connection without answering ({}): timoneirod serves only the user who runs it (is this another user's daemon?); start your own, or point --socket at it",
                    path.display(),
                    status.message()
                ),
            ));
        }
        Err(status) => return Err(from_status(status)),
    };
    if info.protocol_version != timoneiro_proto::PROTOCOL_VERSION {
        return Err(fail(
            exit::DAEMON,
            format!(
                "timoneirod {} at {} speaks protocol {}, this timoneiro {} speaks {}; restart the daemon from the same release",
                info.daemon_version,
                path.display(),
                info.protocol_version,
                timoneiro_proto::VERSION,
                timoneiro_proto::PROTOCOL_VERSION
            ),
        ));
    }
    Ok(Connection { client, info })
}
