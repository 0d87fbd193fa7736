//! A TCP relay between a client and the sim that the test can freeze: while
//! frozen it forwards nothing in either direction and closes nothing, as a
//! network that black-holes packets does (a laptop asleep, a VPN or NAT that
//! dropped its state). Connections opened meanwhile hang as well.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running relay; dropped, it stops accepting.
#[derive(Debug)]
pub struct Relay {
    /// Where clients connect.
    pub addr: SocketAddr,
    frozen: Arc<watch::Sender<bool>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Relay 127.0.0.1:(a free port) to `target`.
    pub async fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the relay");
        let addr = listener.local_addr().expect("relay address");
        let frozen = Arc::new(watch::channel(false).0);
        let shared = frozen.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let frozen = shared.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::join!(
                        pipe(client_read, server_write, frozen.subscribe()),
                        pipe(server_read, client_write, frozen.subscribe()),
                    );
                });
            }
        });
        Relay {
            addr,
            frozen,
            accept,
        }
    }

    /// Stop forwarding (`true`) or go on (`false`).
    pub fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Copy `from` to `to`, holding every byte while `frozen` is true.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        // Frozen: read nothing, so the sender's window fills and it waits.
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
