//! Content negotiation and the forms an answer takes: JSON as the recorded
//! fixtures write it, protobuf (`k8s\0` envelopes, watch frames),
//! PartialObjectMetadata.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use timoneiro_kpb as kpb;

use super::status::body_response;
use crate::gopb;
use crate::resources::Resource;
use crate::store::{Obj, ProtobufError};

/// The Go type of a list's metadata.
pub(super) const LIST_META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta";

/// What form a list or watch answers in.
#[derive(Debug, Clone, Copy)]
pub(super) struct Form {
    /// PartialObjectMetadata (`as=PartialObjectMetadataList`).
    pub(super) metadata: bool,
    /// The server's Table (`as=Table`, JSON only).
    pub(super) table: bool,
    /// Protobuf rather than JSON.
    pub(super) protobuf: bool,
}

/// The media types of an Accept header, in order, without parameters.
pub(super) fn accepted(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .collect()
}

/// Protobuf is the client's first choice.
pub(super) fn prefers_protobuf(headers: &HeaderMap) -> bool {
    accepted(headers)
        .first()
        .is_some_and(|t| t == kpb::MEDIA_TYPE)
}

/// JSON (or anything) is acceptable.
pub(super) fn accepts_json(headers: &HeaderMap) -> bool {
    accepted(headers)
        .iter()
        .any(|t| t == "application/json" || t == "*/*" || t == "application/*")
}

pub(super) fn metadata_only(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.contains("as=PartialObjectMetadata"))
    })
}

/// A protobuf body.
pub(super) fn protobuf_response(body: Vec<u8>) -> Response {
    let mut response = body_response(StatusCode::OK, body, true);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(kpb::MEDIA_TYPE),
    );
    response
}

/// An object's envelope: `k8s\0` + Unknown{TypeMeta, the object's message}.
pub(super) fn protobuf_object(
    resource: &Resource,
    obj: &Obj,
    metadata: bool,
) -> Result<Vec<u8>, ProtobufError> {
    let raw = obj.protobuf(resource, metadata)?;
    let api_version = resource.api_version();
    let (api_version, kind) = if metadata {
        ("meta.k8s.io/v1", "PartialObjectMetadata")
    } else {
        (api_version.as_str(), resource.kind)
    };
    Ok(kpb::Envelope {
        api_version,
        kind,
        raw: &raw,
    }
    .to_bytes())
}

/// A page of a list in protobuf.
pub(super) fn protobuf_list(
    resource: &Resource,
    page: &[Arc<Obj>],
    meta: &str,
    api_version: &str,
    kind: &str,
    metadata: bool,
) -> Result<Vec<u8>, ProtobufError> {
    let meta: Value = serde_json::from_str(meta)?;
    let meta = gopb::encode(LIST_META, &meta)?;
    let items = page
        .iter()
        .map(|obj| obj.protobuf(resource, metadata))
        .collect::<Result<Vec<Bytes>, _>>()?;
    Ok(kpb::list_body(
        api_version,
        kind,
        &meta,
        items.iter().map(|b| b.as_ref()),
    ))
}

/// A JSON watch line (`{"type":…,"object":…}`) as a protobuf frame: used for
/// bookmarks and ERROR events, which the sim writes as JSON.
pub(super) fn protobuf_frame(line: &[u8]) -> Bytes {
    let event: Value = serde_json::from_slice(line).unwrap_or_default();
    let object = &event["object"];
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let kind = object["kind"].as_str().unwrap_or("Status");
    let raw = gopb::message_name(api_version, kind)
        .and_then(|ty| gopb::encode(ty, object).ok())
        .unwrap_or_default();
    let envelope = kpb::Envelope {
        api_version,
        kind,
        raw: &raw,
    }
    .to_bytes();
    Bytes::from(
        kpb::WatchEvent {
            kind: event["type"].as_str().unwrap_or("ERROR"),
            object: &envelope,
        }
        .to_frame(),
    )
}

/// An object as it travels in a watch event or a GET: with kind and apiVersion first.
pub(super) fn full_object(resource: &Resource, obj: &Obj, metadata: bool) -> Vec<u8> {
    let item = if metadata { obj.meta() } else { obj.item() };
    let mut out = Vec::with_capacity(item.len() + 96);
    if metadata {
        out.extend_from_slice(
            b"{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":",
        );
        out.extend_from_slice(&item);
        out.push(b'}');
    } else {
        out.extend_from_slice(
            format!(
                "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",",
                resource.kind,
                resource.api_version()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&item[1..]);
    }
    out
}

pub(super) fn event_line(kind: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// A BOOKMARK as the Go server writes one: the empty object of the kind
/// with only `metadata.resourceVersion` (and the initial-events-end
/// annotation) set. Its protobuf (`protobuf_frame`) then carries every
/// non-pointer field empty, a workload's `spec.template.metadata` included;
/// its JSON is what Go's JSON of that empty object is.
pub(super) fn bookmark(resource: &Resource, rv: u64, metadata: bool, initial_end: bool) -> Bytes {
    let (api_version, kind) = if metadata {
        ("meta.k8s.io/v1".to_string(), "PartialObjectMetadata")
    } else {
        (resource.api_version(), resource.kind)
    };
    let mut meta = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    let go_json = gopb::message_name(&api_version, kind).and_then(|name| {
        let raw = gopb::encode(name, &json!({ "metadata": meta })).ok()?;
        let envelope = kpb::Envelope {
            api_version: &api_version,
            kind,
            raw: &raw,
        };
        kpb::json::object_json(&envelope.to_bytes()).ok()
    });
    let object = go_json.unwrap_or_else(|| {
        // A custom resource: no Go type, only what its JSON carries.
        serde_json::to_vec(&json!({ "kind": kind, "apiVersion": api_version, "metadata": meta }))
            .unwrap_or_default()
    });
    event_line("BOOKMARK", &object)
}
