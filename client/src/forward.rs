//! Local port-forward listeners: each listens on 127.0.0.1 only, and each
//! connection it accepts is one PortForward stream through the daemon to
//! the pod's port. Nothing is resolved per connection: the pod was chosen
//! once (ResolveForward), as kubectl does.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use timoneiro_proto::v1;
use timoneiro_proto::v1::forward_input::Input;
use timoneiro_proto::v1::forward_output::Output;
use timoneiro_proto::v1::timoneiro_client::TimoneiroClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// Where a forward goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub context: String,
    pub namespace: String,
    pub pod: String,
    pub port: u16,
}

/// What happens on a forward's connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A local connection was accepted (kubectl: "Handling connection for 8080").
    Handling { local: u16 },
    /// A connection failed: the pod's side's error, or the daemon's.
    Failed {
        local: u16,
        remote: u16,
        message: String,
    },
}

/// A listening forward; dropping it (or `stop`) stops listening and cuts
/// its connections.
#[derive(Debug)]
pub struct Forward {
    pub local: SocketAddr,
    pub target: Target,
    connections: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Forward {
    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listen on 127.0.0.1:`local` (0: any free port) and forward every
/// connection to `target`.
pub async fn listen(
    client: TimoneiroClient<Channel>,
    local: u16,
    target: Target,
    events: mpsc::UnboundedSender<Event>,
) -> std::io::Result<Forward> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, local)).await?;
    let address = listener.local_addr()?;
    let connections = Arc::new(AtomicU64::new(0));
    let task = tokio::spawn(accept(
        listener,
        client,
        target.clone(),
        events,
        connections.clone(),
    ));
    Ok(Forward {
        local: address,
        target,
        connections,
        task,
    })
}

async fn accept(
    listener: TcpListener,
    client: TimoneiroClient<Channel>,
    target: Target,
    events: mpsc::UnboundedSender<Event>,
    connections: Arc<AtomicU64>,
) {
    let local = listener.local_addr().map_or(0, |a| a.port());
    // Connections live in this set, so stopping the forward cuts them.
    let mut open = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((socket, _)) = accepted else { continue };
                let _ = socket.set_nodelay(true);
                connections.fetch_add(1, Ordering::Relaxed);
                let _ = events.send(Event::Handling { local });
                let (client, target, events) = (client.clone(), target.clone(), events.clone());
                open.spawn(async move {
                    if let Err(message) = tunnel(client, socket, &target).await {
                        let _ = events.send(Event::Failed { local, remote: target.port, message });
                    }
                });
            }
            Some(_) = open.join_next(), if !open.is_empty() => {}
        }
    }
}

/// Bytes read from the local socket per message.
const CHUNK: usize = 64 * 1024;

async fn tunnel(
    mut client: TimoneiroClient<Channel>,
    socket: TcpStream,
    target: &Target,
) -> Result<(), String> {
    let (tx, rx) = mpsc::channel(16);
    let start = v1::ForwardStart {
        context: target.context.clone(),
        namespace: target.namespace.clone(),
        pod: target.pod.clone(),
        port: u32::from(target.port),
    };
    let _ = tx
        .send(v1::ForwardInput {
            input: Some(Input::Start(start)),
        })
        .await;
    let mut outputs = client
        .port_forward(ReceiverStream::new(rx))
        .await
        .map_err(|s| s.message().to_string())?
        .into_inner();
    let (mut reader, mut writer) = socket.into_split();
    let upload = async move {
        let mut buffer = vec![0; CHUNK];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let data = Input::Data(buffer[..n].to_vec());
                    if tx
                        .send(v1::ForwardInput { input: Some(data) })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        // Dropping `tx` ends the stream: the daemon closes the pod's side.
    };
    let download = async move {
        loop {
            match outputs.message().await {
                Ok(Some(v1::ForwardOutput {
                    output: Some(Output::Data(bytes)),
                })) => {
                    if writer.write_all(&bytes).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(Some(v1::ForwardOutput {
                    output: Some(Output::Error(message)),
                })) => return Err(message),
                Ok(Some(_)) => {}
                Ok(None) => {
                    let _ = writer.shutdown().await;
                    return Ok(());
                }
                Err(status) => return Err(status.message().to_string()),
            }
        }
    };
    tokio::pin!(upload, download);
    let mut uploading = true;
    loop {
        tokio::select! {
            () = &mut upload, if uploading => uploading = false,
            result = &mut download => return result,
        }
    }
}

/// A `[LOCAL:]REMOTE` port argument: the local port (0: any free one, from
/// `:REMOTE`) and the remote port as given (a number or a name).
pub fn parse_pair(text: &str) -> Result<(u16, String), String> {
    let (local, remote) = match text.split_once(':') {
        Some((local, remote)) => (Some(local), remote),
        None => (None, text),
    };
    if remote.is_empty() {
        return Err(format!("{text:?}: the remote port is missing"));
    }
    let local = match local {
        Some("") => 0,
        Some(local) => local
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{text:?}: the local port must be a number from 1 to 65535"))?,
        None => remote.parse::<u16>().map_err(|_| {
            format!("{text:?}: a named remote port needs a local port, e.g. 8080:{remote}")
        })?,
    };
    Ok((local, remote.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kubectl port-forward's forms (its --help): `8888:5000`, `5000`,
    /// `:5000` (a random local port), and a named remote port.
    #[test]
    fn port_pairs_as_kubectl_takes_them() {
        assert_eq!(parse_pair("8888:5000"), Ok((8888, "5000".into())));
        assert_eq!(parse_pair("5000"), Ok((5000, "5000".into())));
        assert_eq!(parse_pair(":5000"), Ok((0, "5000".into())));
        assert_eq!(parse_pair("8080:http"), Ok((8080, "http".into())));
        assert!(parse_pair("http").is_err());
        assert!(parse_pair("8080:").is_err());
        assert!(parse_pair("99999:80").is_err());
    }
}
