//! The HTTP client a context talks to its API server with: kube's own
//! stack (`kube::Client::try_from`), built from kube's public pieces
//! (`ConfigExt`: TLS, auth, headers, base URI), with one thing kube does not
//! let a caller set: how large a connection's read buffer may grow.
//!
//! hyper grows an HTTP/1 connection's read buffer while reads fill it, up
//! to 400 KiB by default, and never gives the memory back while the
//! connection lives. A list page fills it; the connection goes back to the
//! pool, and the kind's watch takes it for the life of the cache: each of a
//! dozen watches then held about 350 KiB that watch events never use (a
//! jemalloc heap profile of the settled daemon at 10k pods, all tiers:
//! 4.2 MB in `Buffered::poll_read_from_io`; BENCHMARKS.md, session 19).
//! [`READ_BUFFER_BYTES`] bounds it.

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt;
use tower::{BoxError, ServiceBuilder};

/// What a connection's read buffer may fill before hyper stops reading
/// into it (it grows by doubling, so it ends at most twice this): four TLS
/// records; a list page of megabytes is read in more, smaller reads (the
/// pods sync at 100k took as long, `bench sync`). It bounds a response's
/// head too (hyper's minimum is 8 KiB); an API server's heads are a few
/// hundred bytes.
pub const READ_BUFFER_BYTES: usize = 64 * 1024;

/// A client for `config`'s cluster, as kube builds it (TLS with the
/// kubeconfig's CA and client certificate or exec identity, its auth and
/// impersonation headers, the proxy in `config.proxy_url`, connect, read
/// and write timeouts), with connections' read buffers bounded. May run an
/// exec credential plugin: call it off the runtime.
pub fn build(config: &kube::Config) -> Result<kube::Client, kube::Error> {
    // Auth first, as kube does: a failing exec credential plugin fails the
    // build here, before the TLS setup runs it again for a client
    // certificate it might return.
    let layers = Layers {
        auth: config.auth_layer()?,
        headers: config.extra_headers_layer()?,
    };
    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    let Some(proxy) = config.proxy_url.clone() else {
        return with_connector(config, layers, connector);
    };
    match proxy.scheme_str() {
        Some("socks5") => with_connector(config, layers, SocksV5::new(proxy, connector)),
        Some("http") => {
            let tunnel = with_basic_auth(&proxy, Tunnel::new(proxy.clone(), connector));
            with_connector(config, layers, tunnel)
        }
        Some("https") => {
            let to_proxy = config.rustls_https_connector_with_connector(connector)?;
            let tunnel = with_basic_auth(&proxy, Tunnel::new(proxy.clone(), to_proxy));
            with_connector(config, layers, tunnel)
        }
        _ => Err(kube::Error::ProxyProtocolUnsupported {
            proxy_url: Box::new(proxy),
        }),
    }
}

/// What every request gets on its way: credentials and extra headers.
struct Layers {
    auth: Option<kube::client::middleware::AuthLayer>,
    headers: kube::client::middleware::ExtraHeadersLayer,
}

/// The client over `connector` (a TCP connector, or a proxy's).
fn with_connector<C>(
    config: &kube::Config,
    layers: Layers,
    connector: C,
) -> Result<kube::Client, kube::Error>
where
    C: tower::Service<http::Uri> + Clone + Send + Sync + 'static,
    C::Response: hyper::rt::Read
        + hyper::rt::Write
        + hyper_util::client::legacy::connect::Connection
        + Send
        + Unpin
        + 'static,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    let connector = config.rustls_https_connector_with_connector(connector)?;
    let mut connector = hyper_timeout::TimeoutConnector::new(connector);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .http1_max_buf_size(READ_BUFFER_BYTES)
        .build::<_, kube::client::Body>(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(layers.auth)
        .layer(layers.headers)
        .map_err(BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace.clone()))
}

/// A CONNECT tunnel that sends the proxy URL's `user:password` as Basic
/// credentials (percent-decoded, as client-go's `url.Parse` reads them).
fn with_basic_auth<C>(proxy: &http::Uri, tunnel: Tunnel<C>) -> Tunnel<C> {
    match basic_auth(proxy) {
        Some(header) => tunnel.with_auth(header),
        None => tunnel,
    }
}

/// `Basic base64(user:password)` for a proxy URL with user info.
fn basic_auth(proxy: &http::Uri) -> Option<http::HeaderValue> {
    use base64::Engine;
    let (userinfo, _) = proxy.authority()?.as_str().rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let credentials = format!("{}:{}", decode(user), decode(password));
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    http::HeaderValue::from_str(&format!("Basic {encoded}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_credentials_are_basic_auth_of_the_decoded_user_info() {
        // RFC 7617 §2's example: Aladdin / open sesame.
        let proxy: http::Uri = "http://Aladdin:open%20sesame@proxy.example:3128"
            .parse()
            .unwrap();
        assert_eq!(
            basic_auth(&proxy).unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        let plain: http::Uri = "http://proxy.example:3128".parse().unwrap();
        assert_eq!(basic_auth(&plain), None);
    }

    /// A server that answers every connection with a response whose head
    /// carries a header of `header_bytes`, and an empty body.
    async fn serve_a_head_of(header_bytes: usize) -> std::net::SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nx-filler: {}\r\ncontent-length: 0\r\n\r\n",
                    "a".repeat(header_bytes)
                );
                let _ = stream.write_all(head.as_bytes()).await;
            }
        });
        addr
    }

    async fn get(
        addr: std::net::SocketAddr,
    ) -> Result<http::Response<kube::client::Body>, kube::Error> {
        let config = kube::Config::new(format!("http://{addr}").parse().expect("url"));
        let client = build(&config).expect("client");
        let request = http::Request::get("/version")
            .body(kube::client::Body::empty())
            .expect("request");
        client.send(request).await
    }

    /// The connections' read buffer is bounded: hyper refuses a response
    /// head that does not fit in it ("message head is too large"). One of
    /// three times the bound still fits hyper's default (400 KiB); the
    /// bound is loose by a read (a read fills what the buffer has room for,
    /// and it grows by doubling), hence not just over it.
    #[tokio::test]
    async fn a_connections_read_buffer_is_bounded() {
        let fits = get(serve_a_head_of(READ_BUFFER_BYTES / 2).await).await;
        assert!(fits.is_ok(), "{:?}", fits.err());
        let too_large = get(serve_a_head_of(3 * READ_BUFFER_BYTES).await).await;
        assert!(too_large.is_err(), "{:?}", too_large.map(|r| r.status()));
    }
}
