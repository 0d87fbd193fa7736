//! Server-side Tables (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`)
//! as kube-apiserver 1.36 answers them (`table/secrets.json`,
//! `other-kinds/table/priorityclasses.json`,
//! `watch-all-kinds/secrets-table.json.stream`), of the kinds the sim prints:
//! the server's columns, one row per object whose object is its
//! PartialObjectMetadata (`includeObject=Metadata`, the default; `None`
//! leaves it out). Secrets: Name, Type, Data (the number of keys), Age;
//! priority classes: Name, Value, Global-Default, Age, PreemptionPolicy. A
//! watch's events are Tables of one row, the column definitions in the
//! first only; a BOOKMARK is a Table whose one row is the printer's output
//! for an empty object. No protobuf: the real server refuses it for Tables.

use std::sync::LazyLock;

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use crate::store::Obj;

/// The resources the sim prints as Tables.
pub const SERVED: &[&str] = &["secrets", "priorityclasses"];

/// Whether a request asks for a Table.
pub fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains("as=Table")))
}

macro_rules! recorded_columns {
    ($file:literal) => {
        LazyLock::new(|| {
            let table: Value = serde_json::from_str(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/fixtures/kube-apiserver-v1.36/",
                $file
            )))
            .unwrap_or_default();
            table["columnDefinitions"].clone()
        })
    };
}

/// The recorded column definitions of each kind's Table.
static SECRET_COLUMNS: LazyLock<Value> = recorded_columns!("table/secrets.json");
static PRIORITY_CLASS_COLUMNS: LazyLock<Value> =
    recorded_columns!("other-kinds/table/priorityclasses.json");

fn columns(plural: &str) -> Value {
    match plural {
        "secrets" => SECRET_COLUMNS.clone(),
        "priorityclasses" => PRIORITY_CLASS_COLUMNS.clone(),
        _ => Value::Null,
    }
}

/// An object's row: the server's printer's cells, and the object as
/// PartialObjectMetadata (or none).
fn row(plural: &str, obj: &Obj, include_object: bool) -> Value {
    let object = obj.value();
    let meta: Value = serde_json::from_slice(&obj.meta()).unwrap_or_default();
    let age = meta["creationTimestamp"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map_or("<unknown>".to_string(), |created| {
            let now = jiff::Timestamp::now();
            timoneiro_client::render::human_duration(
                now.as_millisecond() - created.as_millisecond(),
            )
        });
    let name = &object["metadata"]["name"];
    let cells = match plural {
        "priorityclasses" => json!([
            name,
            object["value"],
            object["globalDefault"].as_bool().unwrap_or(false),
            age,
            object["preemptionPolicy"],
        ]),
        _ => {
            let keys = object["data"].as_object().map_or(0, |d| d.len());
            json!([name, object["type"], keys, age])
        }
    };
    let object = include_object.then(|| {
        json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
        })
    });
    json!({"cells": cells, "object": object})
}

fn table(metadata: Value, columns: Value, rows: Vec<Value>) -> Vec<u8> {
    let body = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// A list's body: the list metadata (`{"resourceVersion", "continue"…}`)
/// and a row per object of `plural`.
pub fn list(
    plural: &str,
    meta: &str,
    page: &[std::sync::Arc<Obj>],
    include_object: bool,
) -> Vec<u8> {
    let metadata: Value = serde_json::from_str(meta).unwrap_or_default();
    let rows = page
        .iter()
        .map(|obj| row(plural, obj, include_object))
        .collect();
    let mut body = table(metadata, columns(plural), rows);
    body.push(b'\n');
    body
}

/// A watch event's object: a Table of the one changed object (the column
/// definitions in a watch's first event only).
pub fn event(plural: &str, obj: &Obj, first: bool) -> Vec<u8> {
    table(
        json!({"resourceVersion": obj.rv.to_string()}),
        if first { columns(plural) } else { Value::Null },
        vec![row(plural, obj, true)],
    )
}

/// A BOOKMARK's object: the printer's row of an empty object, its object
/// carrying the resourceVersion (and the initial-events-end annotation).
pub fn bookmark(plural: &str, rv: u64, initial_end: bool) -> Vec<u8> {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let cells = match plural {
        "priorityclasses" => json!(["", 0, false, "<unknown>", null]),
        _ => json!(["", "", 0, "<unknown>"]),
    };
    table(
        json!({"resourceVersion": rv.to_string()}),
        Value::Null,
        vec![json!({
            "cells": cells,
            "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata},
        })],
    )
}
