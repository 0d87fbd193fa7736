//! Forward proxies for tests, as a corporate network has them: an HTTP
//! CONNECT proxy and a SOCKS5 proxy (no authentication). Each records the
//! `host:port` every client asked for and, playing the proxy's own DNS,
//! connects every tunnel to one upstream (the sim), so a server name that
//! only the proxy can resolve works through it and nowhere else.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Which protocol the proxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `CONNECT host:port HTTP/1.1`.
    HttpConnect,
    /// SOCKS5 CONNECT (RFC 1928), no authentication.
    Socks5,
}

/// A running proxy; dropped, it stops accepting.
#[derive(Debug)]
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    targets: Arc<Mutex<Vec<String>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy on 127.0.0.1 whose tunnels all lead to `upstream`.
    pub async fn start(protocol: Protocol, upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let tunnel = match protocol {
                        Protocol::HttpConnect => http_connect(client).await,
                        Protocol::Socks5 => socks5(client).await,
                    };
                    if let Ok((client, target)) = tunnel {
                        seen.lock().unwrap_or_else(|p| p.into_inner()).push(target);
                        if let Ok(mut server) = TcpStream::connect(upstream).await {
                            let mut client = client;
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    }
                });
            }
        });
        Proxy {
            addr,
            targets,
            accept,
        }
    }

    /// The `host:port` of every tunnel asked for so far.
    pub fn targets(&self) -> Vec<String> {
        self.targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Read `CONNECT host:port HTTP/1.1` and its headers, answer 200.
async fn http_connect(client: TcpStream) -> std::io::Result<(TcpStream, String)> {
    let mut reader = BufReader::new(client);
    let mut request = String::new();
    reader.read_line(&mut request).await?;
    let mut parts = request.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            .await?;
        return Err(std::io::Error::other("not a CONNECT"));
    };
    let target = target.to_string();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut client = reader.into_inner();
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    Ok((client, target))
}

/// A SOCKS5 greeting (no authentication) and CONNECT request.
async fn socks5(mut client: TcpStream) -> std::io::Result<(TcpStream, String)> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await?;
    if head[0] != 5 || !methods.contains(&0) {
        client.write_all(&[5, 0xff]).await?;
        return Err(std::io::Error::other("no acceptable SOCKS5 method"));
    }
    client.write_all(&[5, 0]).await?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).await?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).await?;
            format!("[{}]", std::net::Ipv6Addr::from(ip))
        }
        _ => return Err(std::io::Error::other("bad SOCKS5 address type")),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await?;
    // Succeeded, bound to 0.0.0.0:0.
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    Ok((client, format!("{host}:{}", u16::from_be_bytes(port))))
}
