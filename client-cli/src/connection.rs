//! Reaching the daemon: resolve the socket, connect, check the protocol.

use timoneiro_client::autostart;
use timoneiro_client::socket;
use timoneiro_proto::v1::{InfoResponse, timoneiro_client::TimoneiroClient};
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
        timoneiro_client::config::load(None).map_err(|e| fail(exit::USAGE, e.to_string()))?;
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
    let (client, info) = timoneiro_client::connect::connect(&path, "timoneiro")
        .await
        .map_err(|error| match error {
            timoneiro_client::connect::ConnectError::Info(status) => from_status(status),
            other => fail(exit::DAEMON, other.to_string()),
        })?;
    Ok(Connection { client, info })
}
