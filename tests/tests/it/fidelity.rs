//! Objects as the real API server sends them, against its recordings: every
//! protobuf watch event and list decodes (pruned for the projection, whole
//! for `Get`), its row is the row of its JSON twin, and the JSON `Get`
//! answers is the JSON the server sent for the same object (a `null` member
//! counts as absent). The expected values are the recordings themselves.

use serde_json::Value;
use timoneiro_kpb::{self as kpb, Envelope, FrameReader, WatchEvent};
use timoneiro_tests::fixtures::{self, Body, without_nulls};
use timoneirod::catalog::{Builtin, Kind};
use timoneirod::informer::SECRET_ANNOTATIONS;
use timoneirod::wire;

/// A recorded object as the daemon may keep it: without managedFields
/// (never kept) and, for secrets, with only the annotations that cannot
/// carry values (`SECRET_ANNOTATIONS`).
fn as_kept(kind: &Kind, mut object: Value) -> Value {
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("managedFields");
        if kind.builtin() == Some(Builtin::SECRETS)
            && let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut)
        {
            annotations.retain(|key, _| SECRET_ANNOTATIONS.keeps(key));
            if annotations.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    without_nulls(object)
}

fn kind_named(plural: &str) -> Kind {
    Builtin::ALL
        .into_iter()
        .map(Builtin::kind)
        .find(|kind| kind.spec().plural == plural)
        .unwrap_or_else(|| panic!("no built-in kind {plural}"))
}

/// The (protobuf, JSON) twins of the recorded watch streams.
fn watch_twins() -> Vec<(String, String, Kind)> {
    let mut twins = Vec::new();
    for folder in ["watch-all-kinds", "watch"] {
        let mut names: Vec<String> = std::fs::read_dir(fixtures::dir().join(folder))
            .expect("fixture folder")
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".pb.stream").map(str::to_string))
            .collect();
        names.sort();
        for name in names {
            let plural = name.split('-').next().unwrap_or(&name);
            twins.push((
                format!("{folder}/{name}.pb.stream"),
                format!("{folder}/{name}.json.stream"),
                kind_named(plural),
            ));
        }
    }
    twins
}

fn pb_events(file: &str) -> Vec<(String, Vec<u8>)> {
    let mut frames = FrameReader::default();
    frames.push(&fixtures::read_bytes(file));
    let mut events = Vec::new();
    while let Some(frame) = frames.next_frame().expect("frames") {
        let event = WatchEvent::parse(&frame).expect("watch event");
        events.push((event.kind.to_string(), event.object.to_vec()));
    }
    assert_eq!(frames.pending(), 0, "{file}: trailing bytes");
    events
}

fn json_events(file: &str) -> Vec<(String, Value)> {
    fixtures::read(file)
        .lines()
        .map(|line| {
            let mut event: Value = serde_json::from_str(line).expect("JSON watch event");
            let kind = event["type"].as_str().expect("type").to_string();
            (kind, event["object"].take())
        })
        .collect()
}

/// Every event of every recorded protobuf watch (17 kinds in
/// `watch-all-kinds/`, pods in `watch/`: ADDED, MODIFIED, DELETED and the
/// BOOKMARKs full of empty messages) decodes as the informer decodes it;
/// its row is its JSON twin's row; its JSON is the server's JSON.
#[test]
fn every_recorded_watch_event_decodes_to_its_json_twin() {
    let twins = watch_twins();
    assert!(twins.len() >= 19, "{} recorded watch twins", twins.len());
    let mut bookmarks = 0;
    let mut objects = 0;
    for (pb_file, json_file, kind) in twins {
        let pb = pb_events(&pb_file);
        let json = json_events(&json_file);
        assert_eq!(pb.len(), json.len(), "{pb_file}: event count");
        for (i, ((pb_type, envelope), (json_type, recorded))) in pb.iter().zip(json).enumerate() {
            let what = format!("{pb_file} event {i} ({pb_type})");
            assert_eq!(pb_type, &json_type, "{what}");
            let whole = kpb::json::object_json(envelope)
                .unwrap_or_else(|e| panic!("{what}: whole decode: {e}"));
            let whole: Value = serde_json::from_slice(&whole).expect("JSON");
            if pb_type == "BOOKMARK" {
                let parsed = Envelope::parse(envelope).expect("envelope");
                let ty = parsed.message_type().expect("a known type");
                let rv = wire::bookmark_resource_version(ty, parsed.raw)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(
                    rv.as_deref(),
                    recorded["metadata"]["resourceVersion"].as_str(),
                    "{what}"
                );
                assert_eq!(without_nulls(whole), without_nulls(recorded), "{what}");
                bookmarks += 1;
                continue;
            }
            assert_eq!(
                without_nulls(whole),
                without_nulls(recorded.clone()),
                "{what}: the whole object"
            );
            objects += 1;
            if kind.builtin() == Some(Builtin::SECRETS) {
                continue; // the daemon watches secrets as Tables (below)
            }
            let mut from_pb = fixtures::decode_body(&kind, &what, Body::ProtobufObject(envelope));
            let mut from_json = fixtures::decode_body(&kind, &what, Body::JsonObject(&recorded));
            let ((mut pb_row, pb_kept), (mut json_row, _)) =
                (from_pb.remove(0), from_json.remove(0));
            assert_eq!(
                without_nulls(pb_kept),
                as_kept(&kind, recorded),
                "{what}: the object as Get answers it"
            );
            pb_row.object.clear();
            json_row.object.clear();
            assert_eq!(
                format!("{pb_row:#?}"),
                format!("{json_row:#?}"),
                "{what}: row"
            );
            objects += 1;
        }
    }
    assert!(bookmarks >= 17, "{bookmarks} bookmarks");
    assert!(objects >= 50, "{objects} objects");
}

/// Every recorded protobuf list (`list/*.pb`, 18 kinds, secrets as
/// metadata) gives, as the server's JSON (`kpb::json`) and as `Get`
/// answers them, exactly the objects of its JSON twin.
#[test]
fn every_recorded_list_gives_the_objects_of_its_json_twin() {
    for json_file in fixtures::protobuf_list_files() {
        let pb_file = json_file.replace(".json", ".pb");
        let recorded: Value = serde_json::from_str(&fixtures::read(&json_file)).expect("JSON");
        let recorded = recorded["items"].as_array().expect("items").clone();
        let body = fixtures::read_bytes(&pb_file);
        // Items of ordinary lists carry no kind and apiVersion (those of
        // a PartialObjectMetadataList do); objects have them.
        let type_meta = |value: Value| {
            let mut value = without_nulls(value);
            if let Some(map) = value.as_object_mut() {
                map.remove("kind");
                map.remove("apiVersion");
            }
            value
        };
        let envelope = Envelope::parse(&body).expect("envelope");
        let items = envelope
            .message_type()
            .ok()
            .and_then(kpb::MessageType::items)
            .expect("a list type");
        let list = kpb::List::parse(envelope.raw).expect("a list");
        assert_eq!(list.items.len(), recorded.len(), "{pb_file}");
        for (item, recorded) in list.items.iter().zip(&recorded) {
            let name = &recorded["metadata"]["name"];
            let json = kpb::json::message_json(items.name(), item).expect("JSON");
            let json: Value = serde_json::from_slice(&json).expect("JSON");
            assert_eq!(
                type_meta(json),
                type_meta(recorded.clone()),
                "{pb_file}: {name}, the server's JSON"
            );
        }
        let kind = kind_named(
            json_file
                .trim_start_matches("list/")
                .split('.')
                .next()
                .unwrap_or(""),
        );
        if kind.builtin() == Some(Builtin::SECRETS) {
            continue; // the daemon watches secrets as Tables
        }
        let objects = fixtures::objects_body(&kind, &pb_file, Body::Protobuf(&body));
        for (object, recorded) in objects.into_iter().zip(recorded) {
            let name = recorded["metadata"]["name"].clone();
            assert_eq!(
                type_meta(object),
                type_meta(as_kept(&kind, recorded)),
                "{pb_file}: {name}, as Get answers it"
            );
        }
    }
}

/// Secrets as the daemon watches them, the server's Table with each row's
/// metadata (recorded `watch-all-kinds/secrets-table.json.stream`): every
/// event gives kubectl's TYPE and DATA cells, and an object with the
/// secret's metadata and type, never a value.
#[test]
fn secrets_come_as_the_server_table_without_values() {
    let text = fixtures::read("watch-all-kinds/secrets-table.json.stream");
    let rows = timoneirod::table::watch_rows(&text, "v1", "Secret").expect("Table events");
    let recorded: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON"))
        .collect();
    assert_eq!(rows.len(), recorded.len());
    let codec = timoneirod::codec::ObjectCodec::new();
    for ((event, row), line) in rows.into_iter().zip(&recorded) {
        assert_eq!(event, line["type"].as_str().expect("type"));
        let cells = &line["object"]["rows"][0]["cells"];
        let parts = timoneirod::informer::row_parts(
            &timoneirod::project::secret,
            row,
            SECRET_ANNOTATIONS,
            &codec,
        );
        let shown: Vec<String> = parts.cells.iter().map(|c| c.text.to_string()).collect();
        assert_eq!(shown[0], cells[1].as_str().expect("Type"), "{event}");
        assert_eq!(shown[1], cells[2].to_string(), "{event}");
        if event == "BOOKMARK" {
            continue;
        }
        let kept: Value =
            serde_json::from_slice(&codec.decompress(&parts.object).expect("kept")).expect("JSON");
        assert_eq!(kept["kind"], "Secret");
        assert_eq!(kept["apiVersion"], "v1");
        assert_eq!(kept["type"], cells[1]);
        assert!(kept.get("data").is_none() && kept.get("stringData").is_none());
        let mut metadata = line["object"]["rows"][0]["object"]["metadata"].clone();
        metadata
            .as_object_mut()
            .expect("metadata")
            .remove("managedFields");
        assert_eq!(kept["metadata"], metadata, "{event}");
    }
}

/// The message bytes of a `k8s\0` body.
fn raw_of(body: &[u8]) -> (String, String, Vec<u8>) {
    let envelope = Envelope::parse(body).expect("envelope");
    (
        envelope.api_version.to_string(),
        envelope.kind.to_string(),
        envelope.raw.to_vec(),
    )
}

/// An object's message without `metadata.managedFields`: their `fieldsV1`
/// is raw JSON the server stores as it came (key order included), which
/// the sim cannot know from a parsed object. Everything else must be equal.
fn without_managed_fields(api_version: &str, kind: &str, message: &[u8]) -> Vec<u8> {
    let ty = kpb::MessageType::of(api_version, kind).expect("a known type");
    kpb::kept_body(ty, message, api_version, kind).expect("a message")
}

/// The sim writes protobuf as the Go server does (from the go-types table,
/// not the decoder's schema): every recorded JSON list, encoded by the sim,
/// is byte for byte the protobuf the server sent for the same list.
#[test]
fn the_sim_encodes_every_recorded_list_as_the_api_server_did() {
    let mut objects = 0;
    for json_file in fixtures::protobuf_list_files() {
        let pb_file = json_file.replace(".json", ".pb");
        let (api_version, kind, recorded) = raw_of(&fixtures::read_bytes(&pb_file));
        let list: Value = serde_json::from_str(&fixtures::read(&json_file)).expect("JSON");
        let name = timoneiro_sim::gopb::message_name(&api_version, &kind)
            .unwrap_or_else(|| panic!("{pb_file}: no Go type for {api_version} {kind}"));
        let encoded = timoneiro_sim::gopb::encode(name, &list)
            .unwrap_or_else(|e| panic!("{json_file}: does not encode: {e}"));
        let (recorded, encoded) = (
            kpb::List::parse(&recorded).expect("a list"),
            kpb::List::parse(&encoded).expect("a list"),
        );
        assert_same_bytes(
            &format!("{pb_file} metadata"),
            recorded.metadata,
            encoded.metadata,
        );
        assert_eq!(recorded.items.len(), encoded.items.len(), "{pb_file}");
        let item_kind = kind.strip_suffix("List").expect("a list kind");
        for (i, (a, b)) in recorded.items.iter().zip(&encoded.items).enumerate() {
            assert_same_bytes(
                &format!("{pb_file} item {i}"),
                &without_managed_fields(&api_version, item_kind, a),
                &without_managed_fields(&api_version, item_kind, b),
            );
            objects += 1;
        }
    }
    assert!(objects >= 200, "{objects} objects");
}

/// And every object of every recorded watch event, BOOKMARKs included.
#[test]
fn the_sim_encodes_every_recorded_watch_event_as_the_api_server_did() {
    let mut events = 0;
    for (pb_file, json_file, _) in watch_twins() {
        let pb = pb_events(&pb_file);
        let json = json_events(&json_file);
        for (i, ((pb_type, envelope), (_, recorded))) in pb.iter().zip(json).enumerate() {
            let (api_version, kind, raw) = raw_of(envelope);
            let name = timoneiro_sim::gopb::message_name(&api_version, &kind)
                .unwrap_or_else(|| panic!("{pb_file}: no Go type for {api_version} {kind}"));
            let encoded = timoneiro_sim::gopb::encode(name, &recorded)
                .unwrap_or_else(|e| panic!("{json_file} event {i}: does not encode: {e}"));
            assert_same_bytes(
                &format!("{pb_file} event {i} ({pb_type})"),
                &without_managed_fields(&api_version, &kind, &raw),
                &without_managed_fields(&api_version, &kind, &encoded),
            );
            events += 1;
        }
    }
    assert!(events >= 100, "{events} events");
}

fn assert_same_bytes(what: &str, recorded: &[u8], encoded: &[u8]) {
    if recorded == encoded {
        return;
    }
    panic!(
        "{what}: the sim's {} bytes differ from the recorded {}: {}",
        encoded.len(),
        recorded.len(),
        first_difference(recorded, encoded)
    );
}

/// Where two messages first differ, as a path of field numbers (nested
/// messages read as messages where they parse as one).
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (Ok(fa), Ok(fb)) = (kpb::wire_fields(a), kpb::wire_fields(b)) else {
        return format!(
            "recorded {:?}, sim {:?}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    };
    for i in 0..fa.len().max(fb.len()) {
        match (fa.get(i), fb.get(i)) {
            (Some(x), Some(y)) if x.wire == y.wire => continue,
            (Some(x), Some(y)) if x.number == y.number => {
                return match (x.payload, y.payload) {
                    (Some(px), Some(py)) => {
                        format!("{} > {}", x.number, first_difference(px, py))
                    }
                    _ => format!(
                        "field {}: recorded {:?}, sim {:?}",
                        x.number, x.wire, y.wire
                    ),
                };
            }
            (x, y) => {
                return format!(
                    "field #{i}: recorded {:?}, sim {:?}",
                    x.map(|f| (f.number, String::from_utf8_lossy(f.wire))),
                    y.map(|f| (f.number, String::from_utf8_lossy(f.wire)))
                );
            }
        }
    }
    "same fields".into()
}
