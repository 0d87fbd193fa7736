//! Server-side Tables (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`)
//! of secrets, as kube-apiserver 1.36 answers them (`table/secrets.json`,
//! `watch-all-kinds/secrets-table.json.stream`): the server's columns
//! (Name, Type, Data, Age), one row per secret whose object is its
//! PartialObjectMetadata (`includeObject=Metadata`, the default), Data the
//! number of keys. A watch's events are Tables of one row, the column
//! definitions in the first only; a BOOKMARK is a Table whose one row is
//! the printer's output for an empty secret. No protobuf: the real server
//! refuses it for Tables.

use std::sync::LazyLock;

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use crate::store::Obj;

/// The resources the sim prints as Tables.
pub const SERVED: &[&str] = &["secrets"];

/// Whether a request asks for a Table.
pub fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains("as=Table")))
}

/// The recorded column definitions of a secrets Table.
static COLUMNS: LazyLock<Value> = LazyLock::new(|| {
    let table: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/kube-apiserver-v1.36/table/secrets.json"
    )))
    .unwrap_or_default();
    table["columnDefinitions"].clone()
});

/// A secret's row: the server's printer (Name, Type, Data: the number of
/// keys, Age), and the object as PartialObjectMetadata.
fn row(obj: &Obj) -> Value {
    let secret = obj.value();
    let meta: Value = serde_json::from_slice(&obj.meta).unwrap_or_default();
    let keys = secret["data"].as_object().map_or(0, |d| d.len());
    let age = meta["creationTimestamp"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map_or("<unknown>".to_string(), |created| {
            let now = jiff::Timestamp::now();
            timoneiro_proto::render::human_duration(now.as_millisecond() - created.as_millisecond())
        });
    json!({
        "cells": [secret["metadata"]["name"], secret["type"], keys, age],
        "object": {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
        },
    })
}

fn table(metadata: Value, columns: bool, rows: Vec<Value>) -> Vec<u8> {
    let body = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": if columns { COLUMNS.clone() } else { Value::Null },
        "rows": rows,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// A list's body: the list metadata (`{"resourceVersion", "continue"…}`) and a row per object.
pub fn list(meta: &str, page: &[std::sync::Arc<Obj>]) -> Vec<u8> {
    let metadata: Value = serde_json::from_str(meta).unwrap_or_default();
    let mut body = table(metadata, true, page.iter().map(|obj| row(obj)).collect());
    body.push(b'\n');
    body
}

/// A watch event's object: a Table of the one changed object.
pub fn event(obj: &Obj, columns: bool) -> Vec<u8> {
    table(
        json!({"resourceVersion": obj.rv.to_string()}),
        columns,
        vec![row(obj)],
    )
}

/// A BOOKMARK's object: the printer's row of an empty secret, its object
/// carrying the resourceVersion (and the initial-events-end annotation).
pub fn bookmark(rv: u64, initial_end: bool) -> Vec<u8> {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    table(
        json!({"resourceVersion": rv.to_string()}),
        false,
        vec![json!({
            "cells": ["", "", 0, "<unknown>"],
            "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata},
        })],
    )
}
