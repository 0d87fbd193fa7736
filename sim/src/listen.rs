//! The accept loop: HTTP/1.1 over TLS (or plain TCP with `--http`), each
//! connection served until it ends or a fault cuts it, and outages that
//! really close the port and open it again on the same address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::faults::Faults;
use crate::store::Store;

/// Serve `app` on `listener` until the process ends.
pub async fn serve(
    mut listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: axum::Router,
    faults: Arc<Faults>,
    store: Arc<Store>,
) {
    let addr = listener.local_addr().ok();
    let mut outages = faults.take_outages();
    loop {
        let outage = tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(connection(stream, tls.clone(), app.clone(), faults.cutter()));
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                continue;
            }
            Some(outage) = async { match outages.as_mut() { Some(rx) => rx.recv().await, None => None } } => outage,
        };
        let Some(addr) = addr else { continue };
        // Let the control request that asked for this get its answer first.
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(listener);
        faults.cut_connections();
        tracing::warn!(?outage, "simulated outage: the port is closed");
        tokio::time::sleep(outage.down).await;
        if outage.restart {
            store.compact();
        }
        listener = match rebind(addr).await {
            Some(listener) => listener,
            None => return,
        };
        tracing::warn!("simulated outage over: listening again on {addr}");
    }
}

/// Bind `addr` again, retrying briefly while the kernel still holds it.
async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    for _ in 0..100 {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Some(listener),
            Err(error) => {
                tracing::warn!(%error, "rebinding {addr}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    tracing::error!("cannot listen on {addr} again after the outage");
    None
}

/// The request came on a connection whose client presented a certificate
/// the sim's CA signed.
#[derive(Debug, Clone, Copy)]
pub struct ClientCertificate;

async fn connection(
    stream: tokio::net::TcpStream,
    tls: Option<TlsAcceptor>,
    app: axum::Router,
    mut cut: tokio::sync::watch::Receiver<u64>,
) {
    cut.mark_unchanged();
    match tls {
        Some(acceptor) => {
            let handshake = tokio::select! {
                handshake = acceptor.accept(stream) => handshake,
                _ = cut.changed() => return,
            };
            match handshake {
                Ok(stream) => {
                    // A certificate rustls verified against the sim's CA
                    // authenticates every request of this connection.
                    let app = if stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .is_some_and(|c| !c.is_empty())
                    {
                        app.layer(axum::Extension(ClientCertificate))
                    } else {
                        app
                    };
                    http(stream, app, cut).await
                }
                // A client that does not trust our CA ends here; it reports the error itself.
                Err(error) => tracing::debug!(%error, "TLS handshake failed"),
            }
        }
        None => http(stream, app, cut).await,
    }
}

async fn http<S>(stream: S, app: axum::Router, mut cut: tokio::sync::watch::Receiver<u64>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    // With upgrades: exec and portforward switch to WebSocket.
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::select! {
        result = conn => if let Err(error) = result {
            tracing::debug!(%error, "connection ended with an error");
        },
        // Dropping the connection closes the socket: a cut, not a goodbye.
        _ = cut.changed() => {}
    }
}
