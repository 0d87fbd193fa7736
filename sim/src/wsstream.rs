//! The API server's channel WebSocket (`k8s.io/apimachinery`'s wsstream),
//! which exec and portforward speak: an HTTP upgrade whose subprotocol is
//! chosen from the client's list in the client's order, then binary frames
//! whose first byte is the channel.

use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::server::failure;

/// Binary channels with a CLOSE signal (channel 255) for half-closing one.
pub const V5: &str = "v5.channel.k8s.io";
/// Binary channels; the error channel carries a JSON `Status`.
pub const V4: &str = "v4.channel.k8s.io";

/// The server's end of an upgraded connection.
pub type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Answer `request` with a switch to WebSocket speaking one of `supported`
/// (the first of the client's offers that is supported, as wsstream picks),
/// and run `session` on the socket once the switch is made. A request that
/// is not an upgrade, or offers nothing supported, gets the API server's
/// 400.
pub fn upgrade<F, Fut>(mut request: Request, supported: &[&'static str], session: F) -> Response
where
    F: FnOnce(Socket, &'static str) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let headers = request.headers();
    let is_upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|_| is_upgrade)
        .map(|k| derive_accept_key(k.as_bytes()))
    else {
        return failure(400, "BadRequest", "Upgrade request required", None, None);
    };
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let Some(protocol) = offered
        .iter()
        .find_map(|p| supported.iter().find(|s| **s == p.as_str()).copied())
    else {
        return failure(
            400,
            "BadRequest",
            &format!(
                "requested protocol(s) are not supported: [{}]; supports [{}]",
                offered.join(" "),
                supported.join(" ")
            ),
            None,
            None,
        );
    };
    let upgraded = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        match upgraded.await {
            Ok(upgraded) => {
                let socket =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                session(socket, protocol).await;
            }
            Err(error) => tracing::debug!(%error, "WebSocket upgrade failed"),
        }
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let set = response.headers_mut();
    set.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    set.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&key) {
        set.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    set.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol),
    );
    response
}

/// A frame on `channel`.
pub fn frame(channel: u8, data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(data.len() + 1);
    frame.push(channel);
    frame.extend_from_slice(data);
    frame
}

/// Every value of a repeated query parameter (`command=sh&command=-c`),
/// percent-decoded, in order.
pub fn query_values(query: &str, key: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| percent_decode(v))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_in_order_and_decoded() {
        let query = "command=sh&command=-c&command=echo%20a%2Bb+c&stdin=true&command=";
        assert_eq!(
            query_values(query, "command"),
            ["sh", "-c", "echo a+b c", ""]
        );
        assert_eq!(query_values(query, "stdin"), ["true"]);
        assert!(query_values(query, "tty").is_empty());
        // A cut escape stays as it came.
        assert_eq!(query_values("x=%2", "x"), ["%2"]);
    }
}
