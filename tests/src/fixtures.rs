//! The recorded kube-apiserver 1.36 fixtures and the daemon's projection of them.

use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::DynamicObject;
use timoneirod::catalog::{Builtin, Discovered, Kind, Source};
use timoneirod::descriptor;
use timoneirod::project;
use timoneirod::row::RowParts;
use timoneirod::store::Store;

/// The fixture folder.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/kube-apiserver-v1.36")
}

/// A fixture file's bytes.
pub fn read_bytes(relative: &str) -> Vec<u8> {
    let path = dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// A fixture file's text.
pub fn read(relative: &str) -> String {
    let path = dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// When a fixture was captured, Unix ms: the `finished` time in
/// manifest.jsonl, because kubectl takes its "now" for relative times after
/// the response arrived, at the end of its 45–90 ms run (events.wide.txt
/// has an age that crosses a second boundary inside that window).
pub fn captured_at(relative: &str) -> i64 {
    for line in read("manifest.jsonl").lines() {
        let entry: serde_json::Value = serde_json::from_str(line).expect("manifest line is JSON");
        if entry["file"] == relative {
            let finished = entry["finished"].as_str().expect("finished");
            let ts: jiff::Timestamp = finished.parse().expect("finished is a timestamp");
            return ts.as_millisecond();
        }
    }
    panic!("{relative} is not in manifest.jsonl")
}

/// A recorded list body in either encoding.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    Json(&'a str),
    /// `k8s\0` + `runtime.Unknown`, as the API server answers protobuf.
    Protobuf(&'a [u8]),
    /// One object, as a JSON watch event carries it.
    JsonObject(&'a serde_json::Value),
    /// One object's `k8s\0` envelope, as a protobuf watch event carries it.
    ProtobufObject(&'a [u8]),
}

/// The file the daemon's view of a kind is recorded in: secrets are
/// watched as the server's Table (`table/secrets.json`), the others as
/// their list.
pub fn list_file(kind: &Kind) -> String {
    match kind.builtin() {
        Some(Builtin::SECRETS) => "table/secrets.json".to_string(),
        _ => format!("list/{}.json", kind.spec().plural),
    }
}

/// The recorded lists that have a protobuf twin (`.pb`), one per built-in
/// kind: secrets as metadata (`list/secrets.metadata.json`), the others whole.
pub fn protobuf_list_files() -> Vec<String> {
    Builtin::ALL
        .into_iter()
        .map(|builtin| match builtin {
            Builtin::SECRETS => "list/secrets.metadata.json".to_string(),
            _ => format!("list/{}.json", builtin.kind().spec().plural),
        })
        .collect()
}

/// The `widgets.example.com` kind as discovery and the recorded CRD
/// (`crd/widgets.json`) describe it to the daemon.
pub fn widgets() -> Kind {
    let crd: CustomResourceDefinition =
        serde_json::from_str(&read("crd/widgets.json")).expect("crd/widgets.json decodes");
    let names = &crd.spec.names;
    let found = Discovered {
        plural: names.plural.clone(),
        singular: names.singular.clone().unwrap_or_default(),
        kind: names.kind.clone(),
        group: crd.spec.group.clone(),
        version: "v1".into(),
        namespaced: crd.spec.scope == "Namespaced",
        short_names: names.short_names.clone().unwrap_or_default(),
    };
    let columns = timoneirod::discovery::crd_columns(&crd, "v1");
    Kind::dynamic(found, columns)
}

/// Project a recorded list the way the daemon's informer does.
pub fn project_list(kind: &Kind) -> Vec<RowParts> {
    let file = list_file(kind);
    project_text(kind, &file, &read(&file))
}

/// Project a list's JSON text (`what` names it in errors) the way the daemon's informer does.
pub fn project_text(kind: &Kind, what: &str, text: &str) -> Vec<RowParts> {
    project_body(kind, what, Body::Json(text))
}

/// Project a list body (`what` names it in errors) the way the daemon's informer does.
pub fn project_body(kind: &Kind, what: &str, body: Body<'_>) -> Vec<RowParts> {
    decode_body(kind, what, body)
        .into_iter()
        .map(|(parts, _)| parts)
        .collect()
}

/// The objects of a list body as the daemon decodes them, as JSON.
pub fn objects_body(kind: &Kind, what: &str, body: Body<'_>) -> Vec<serde_json::Value> {
    decode_body(kind, what, body)
        .into_iter()
        .map(|(_, object)| object)
        .collect()
}

/// Each object's projection and the object itself as the daemon keeps it
/// for `Get` (JSON without managedFields and with only the annotations its
/// kind keeps, or the protobuf it came in, turned into JSON), through the
/// informer's own path (the kind's `descriptor::Cache`).
pub fn decode_body(kind: &Kind, what: &str, body: Body<'_>) -> Vec<(RowParts, serde_json::Value)> {
    let object_text;
    let body = match body {
        Body::Json(text) => descriptor::Body::Json(text.as_bytes()),
        Body::Protobuf(bytes) => descriptor::Body::Protobuf(bytes),
        Body::JsonObject(value) => {
            object_text = serde_json::to_vec(value).expect("JSON");
            descriptor::Body::JsonObject(&object_text)
        }
        Body::ProtobufObject(bytes) => descriptor::Body::ProtobufObject(bytes),
    };
    let decoded = match kind.builtin() {
        Some(builtin) => builtin
            .descriptor()
            .cache
            .decode(builtin.descriptor(), body),
        None => {
            let Source::Dynamic(columns) = kind.spec().source.clone() else {
                unreachable!("not built in, so dynamic")
            };
            descriptor::decode_typed(|o: &DynamicObject| project::dynamic(&columns, o), body)
        }
    };
    let (rows, codec) =
        decoded.unwrap_or_else(|e| panic!("{what} does not decode as the daemon decodes it: {e}"));
    rows.into_iter()
        .map(|parts| {
            let kept = codec
                .decompress(&parts.object)
                .unwrap_or_else(|e| panic!("{what}: a kept object: {e}"));
            let object = serde_json::from_slice(&kept).expect("kept objects are JSON");
            (parts, object)
        })
        .collect()
}

/// A store holding a recorded list, synced.
pub fn store(kind: &Kind) -> Store {
    let store = Store::new(kind.clone(), Arc::new(tokio::sync::watch::channel(0).0));
    store.begin_relist();
    for parts in project_list(kind) {
        store.relist_apply(vec![parts]);
    }
    store.finish_relist();
    store
}

/// `value` without `null` members: the server writes `null` for unset
/// times and nil lists; the daemon's JSON path (typed objects) drops them.
pub fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}
