//! Status bodies and response headers as the API server writes them.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use timoneiro_kpb as kpb;

use super::paths::encode_continue;
use crate::discovery;
use crate::gopb;

/// The Go type of an error.
pub(super) const STATUS: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.Status";

/// Bodies up to this size get Content-Length; larger ones are chunked (Go's net/http buffer).
pub(super) const CONTENT_LENGTH_LIMIT: usize = 2048;

pub(super) fn audit_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (nanos >> 64) as u32,
        (nanos >> 48) as u16,
        (nanos >> 36) as u16 & 0xfff,
        (nanos >> 24) as u16 & 0xfff,
        nanos as u64 & 0xffff_ffff_ffff
    )
}

pub(super) fn headers(
    builder: axum::http::response::Builder,
    authenticated: bool,
) -> axum::http::response::Builder {
    let builder = builder
        .header("Audit-Id", audit_id())
        .header(header::CACHE_CONTROL, "no-cache, private")
        .header(header::CONTENT_TYPE, "application/json");
    if authenticated {
        builder
            .header(
                "X-Kubernetes-Pf-Flowschema-Uid",
                "cc078bb2-f94f-4e1a-bc45-1d8da21f19fc",
            )
            .header(
                "X-Kubernetes-Pf-Prioritylevel-Uid",
                "18656fa5-5329-49ee-bf7b-75f23265c52d",
            )
    } else {
        builder
    }
}

/// A complete body: Content-Length when small, chunked when large.
pub(crate) fn body_response(status: StatusCode, body: Vec<u8>, authenticated: bool) -> Response {
    let builder = headers(Response::builder().status(status), authenticated);
    let body = if body.len() <= CONTENT_LENGTH_LIMIT {
        Body::from(body)
    } else {
        let bytes = Bytes::from(body);
        let chunks: Vec<Result<Bytes, std::convert::Infallible>> = (0..bytes.len())
            .step_by(64 * 1024)
            .map(|i| Ok(bytes.slice(i..(i + 64 * 1024).min(bytes.len()))))
            .collect();
        Body::from_stream(futures::stream::iter(chunks))
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

pub(crate) fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A `kind: Status` failure body, fields in the API server's order.
pub fn status_json(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<&str>,
    continue_token: Option<&str>,
) -> String {
    let metadata = match continue_token {
        Some(token) => format!("{{\"continue\":{}}}", quote(token)),
        None => "{}".to_string(),
    };
    let details = details
        .map(|d| format!(",\"details\":{d}"))
        .unwrap_or_default();
    format!(
        "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{metadata},\"status\":\"Failure\",\"message\":{},\"reason\":\"{reason}\"{details},\"code\":{code}}}",
        quote(message)
    )
}

pub(crate) fn failure(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<&str>,
    continue_token: Option<&str>,
) -> Response {
    let mut body = status_json(code, reason, message, details, continue_token).into_bytes();
    body.push(b'\n');
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    body_response(status, body, code != 401)
}

/// A discovery document in the real server's key order.
pub(super) fn discovery_response(value: &Value) -> Response {
    body_response(StatusCode::OK, discovery::to_body(value), true)
}

/// An aggregated discovery document, with the content type the real server sends.
pub(super) fn aggregated_response(value: &Value) -> Response {
    let mut response = discovery_response(value);
    if let Ok(content_type) = discovery::AGGREGATED_CONTENT_TYPE.parse() {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
        .headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    response
}

pub(crate) fn json_response(value: &Value) -> Response {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    body_response(StatusCode::OK, body, true)
}

/// An error response's JSON `Status` as protobuf (errors/*.pb).
pub(super) async fn protobuf_status(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(status) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let raw = gopb::encode(STATUS, &status).unwrap_or_default();
    let body = kpb::Envelope {
        api_version: "v1",
        kind: "Status",
        raw: &raw,
    }
    .to_bytes();
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(kpb::MEDIA_TYPE),
    );
    parts
        .headers
        .insert(header::CONTENT_LENGTH, body.len().into());
    Response::from_parts(parts, Body::from(body))
}

pub(super) fn too_old(from: u64, oldest: u64) -> String {
    format!("too old resource version: {from} ({oldest})")
}

/// HTTP 410 for a list from a compacted resourceVersion (errors/list-too-old-rv.json).
pub(super) fn list_too_old() -> Response {
    failure(
        410,
        "Expired",
        "The resourceVersion for the provided list is too old.",
        None,
        None,
    )
}

/// HTTP 410 for an expired continue token, carrying a fresh one (errors/expired-continue.json).
pub(super) fn expired_continue(start: &str) -> Response {
    let fresh = encode_continue(-1, start.trim_start_matches('/'));
    failure(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        None,
        Some(&fresh),
    )
}

/// 404 for a path the server does not serve.
pub(crate) fn not_found() -> Response {
    failure(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some("{}"),
        None,
    )
}

/// 500 for an object the sim cannot encode as protobuf, which the real
/// server would never send as JSON instead.
pub(crate) fn not_encodable(what: &str, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, what, "cannot encode as protobuf");
    failure(
        500,
        "InternalError",
        &format!("timoneiro-sim cannot encode {what} as protobuf: {error}"),
        None,
        None,
    )
}
