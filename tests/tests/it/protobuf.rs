//! Protobuf against the recordings: every `.pb` list, watch stream and
//! error body decodes to what its JSON twin decodes to, through the same
//! types and projections; what the sim encodes decodes back to the object.

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;
use timoneiro_kpb::{self as kpb, Envelope, FrameReader, MessageType, WatchEvent};
use timoneiro_tests::fixtures::{self, without_nulls};
use timoneirod::catalog::Builtin;
use timoneirod::lean::Lean;
use timoneirod::wire::{self, FromProtobuf};

/// Go's protobuf writes zero values JSON leaves out (`omitempty`); both mean "unset".
fn without_empty(value: serde_json::Value) -> Option<serde_json::Value> {
    use serde_json::Value;
    let value = match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter_map(|(k, v)| without_empty(v).map(|v| (k, v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().filter_map(without_empty).collect()),
        other => other,
    };
    let empty = match &value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    };
    (!empty).then_some(value)
}

/// Every recorded protobuf list (`list/*.pb`) decodes, through the same
/// types and projections, to the rows and the objects of its JSON twin.
#[test]
fn protobuf_lists_decode_to_the_rows_and_objects_of_their_json_twins() {
    for builtin in Builtin::ALL {
        if builtin == Builtin::SECRETS {
            continue; // watched as the server's Table: fidelity.rs, golden.rs
        }
        let kind = builtin.kind();
        let json_file = fixtures::list_file(&kind);
        let pb_file = json_file.replace(".json", ".pb");
        let json = fixtures::read(&json_file);
        let pb = fixtures::read_bytes(&pb_file);
        // The rows; the kept objects (JSON or protobuf, compressed) are
        // compared below, as the JSON `Get` answers.
        let rows = |body| {
            let mut rows = fixtures::project_body(&kind, &pb_file, body);
            for row in &mut rows {
                row.object.clear();
            }
            rows
        };
        let from_json = rows(fixtures::Body::Json(&json));
        let from_pb = rows(fixtures::Body::Protobuf(&pb));
        assert!(!from_json.is_empty(), "{json_file} has objects");
        assert_eq!(
            format!("{from_pb:#?}"),
            format!("{from_json:#?}"),
            "{pb_file}: rows differ from {json_file}"
        );
        let objects_json = fixtures::objects_body(&kind, &json_file, fixtures::Body::Json(&json));
        let objects_pb = fixtures::objects_body(&kind, &pb_file, fixtures::Body::Protobuf(&pb));
        for (a, b) in objects_pb.into_iter().zip(objects_json) {
            let name = b["metadata"]["name"].clone();
            assert_eq!(
                without_empty(a),
                without_empty(b),
                "{pb_file}: object {name} differs from {json_file}"
            );
        }
    }
}

/// A pod as the daemon keeps it, normalized for comparison.
fn pod_value(pod: Lean<Pod>) -> Option<Value> {
    without_empty(serde_json::to_value(pod.object).expect("pod encodes"))
}

/// A recorded protobuf watch stream as (type, object) pairs.
fn pb_events(file: &str) -> Vec<(String, Option<Value>)> {
    let mut frames = FrameReader::default();
    frames.push(&fixtures::read_bytes(file));
    let mut events = Vec::new();
    while let Some(frame) = frames.next_frame().expect("frames") {
        let event = WatchEvent::parse(&frame).expect("watch event");
        let envelope = Envelope::parse(event.object).expect("envelope");
        let ty = envelope.message_type().expect("known type");
        let pod: Lean<Pod> =
            kpb::decode_object(ty, envelope.raw, envelope.api_version, envelope.kind)
                .expect("pod decodes");
        events.push((event.kind.to_string(), pod_value(pod)));
    }
    assert_eq!(frames.pending(), 0, "{file}: trailing bytes");
    events
}

fn json_events(file: &str) -> Vec<(String, Option<Value>)> {
    fixtures::read(file)
        .lines()
        .map(|line| {
            #[derive(serde::Deserialize)]
            struct Event {
                r#type: String,
                object: Lean<Pod>,
            }
            let event: Event = serde_json::from_str(line).expect("JSON watch event");
            (event.r#type, pod_value(event.object))
        })
        .collect()
}

#[test]
fn protobuf_watch_streams_carry_the_events_of_their_json_twins() {
    for name in ["watch/pods", "watch/pods-streaming-list"] {
        let pb = pb_events(&format!("{name}.pb.stream"));
        let json = json_events(&format!("{name}.json.stream"));
        assert!(pb.len() >= 8, "{name}: {} events", pb.len());
        assert_eq!(pb.len(), json.len(), "{name}: event count");
        for (i, (a, b)) in pb.into_iter().zip(json).enumerate() {
            assert_eq!(a, b, "{name}: event {i} differs");
        }
    }
}

#[test]
fn protobuf_error_bodies_decode_to_the_status_of_their_json_twins() {
    for name in ["errors/forbidden-secrets", "errors/not-found"] {
        let pb = wire::decode_status(
            0,
            kpb::MEDIA_TYPE,
            &fixtures::read_bytes(&format!("{name}.pb")),
        );
        let json = wire::decode_status(
            0,
            "application/json",
            fixtures::read(&format!("{name}.json")).as_bytes(),
        );
        assert_eq!(pb, json, "{name}");
        assert!(pb.code >= 400 && !pb.message.is_empty(), "{name}: {pb:?}");
    }
    let refused = wire::decode_status(
        406,
        kpb::MEDIA_TYPE,
        &fixtures::read_bytes("errors/widgets-protobuf-only.pb"),
    );
    assert_eq!(refused.code, 406);
    assert!(
        refused
            .message
            .contains("only the following media types are accepted"),
        "{refused:?}"
    );
    // A too-old watch: one ERROR frame carrying 410 Expired.
    let mut frames = FrameReader::default();
    frames.push(&fixtures::read_bytes("errors/watch-too-old-rv.pb.stream"));
    let frame = frames.next_frame().expect("frame").expect("one frame");
    let event = WatchEvent::parse(&frame).expect("event");
    assert_eq!(event.kind, "ERROR");
    let envelope = Envelope::parse(event.object).expect("envelope");
    let status: kube::core::Status = kpb::decode(kpb::status(), envelope.raw).expect("status");
    assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
    assert!(
        status.message.starts_with("too old resource version"),
        "{status:?}"
    );
    assert!(frames.next_frame().expect("no more").is_none());
}

/// What the sim sends: every recorded object, encoded from its JSON as the
/// Go server encodes it (`timoneiro_sim::gopb`), gives back through the
/// daemon's path (pruned decode for the row, the kept bytes for `Get`)
/// the rows and the objects of the JSON itself.
#[test]
fn objects_the_sim_encodes_decode_back_to_themselves() {
    for builtin in Builtin::ALL {
        if builtin == Builtin::SECRETS {
            continue; // watched as the server's Table: fidelity.rs, golden.rs
        }
        let kind = builtin.kind();
        let file = fixtures::list_file(&kind);
        let list: Value = serde_json::from_str(&fixtures::read(&file)).expect("list");
        let api_version = list["apiVersion"].as_str().expect("apiVersion");
        let list_kind = list["kind"].as_str().expect("kind");
        let name = timoneiro_sim::gopb::message_name(api_version, list_kind)
            .unwrap_or_else(|| panic!("{file}: no Go type for {list_kind}"));
        let raw = timoneiro_sim::gopb::encode(name, &list)
            .unwrap_or_else(|e| panic!("{file}: does not encode: {e}"));
        let envelope = Envelope {
            api_version,
            kind: list_kind,
            raw: &raw,
        }
        .to_bytes();
        let json = fixtures::read(&file);
        let from_json = fixtures::decode_body(&kind, &file, fixtures::Body::Json(&json));
        let from_pb = fixtures::decode_body(&kind, &file, fixtures::Body::Protobuf(&envelope));
        assert_eq!(from_json.len(), from_pb.len());
        for ((mut pb_row, pb_object), (mut json_row, json_object)) in
            from_pb.into_iter().zip(from_json)
        {
            let name = json_object["metadata"]["name"].clone();
            assert_eq!(
                without_nulls(pb_object),
                without_nulls(json_object),
                "{file}: {name}"
            );
            pb_row.object.clear();
            json_row.object.clear();
            assert_eq!(
                format!("{pb_row:#?}"),
                format!("{json_row:#?}"),
                "{file}: {name}"
            );
        }
    }
}

/// Protobuf lets a message's fields come in any order and a repeated
/// field's values be split up; Go writes them in order, and the decoder
/// reads that order in place. Recorded pods rearranged — the pod's fields
/// backwards, the spec's backwards with a repeated field split around the
/// rest — decode to the same objects.
#[test]
fn fields_out_of_order_decode_like_fields_in_order() {
    let body = fixtures::read_bytes("list/pods.pb");
    let envelope = Envelope::parse(&body).expect("envelope");
    let list = kpb::List::parse(envelope.raw).expect("list");
    let backwards = |fields: &mut Vec<kpb::WireField<'_>>| {
        fields.sort_by_key(|field| std::cmp::Reverse(field.number));
    };
    let mut split = 0;
    let items: Vec<Vec<u8>> = list
        .items
        .iter()
        .map(|item| {
            let mut fields = kpb::wire_fields(item).expect("pod fields");
            backwards(&mut fields);
            let mut pod = Vec::new();
            for field in fields {
                match (field.number, field.payload) {
                    // PodSpec
                    (2, Some(spec)) => {
                        let mut spec_fields = kpb::wire_fields(spec).expect("spec fields");
                        backwards(&mut spec_fields);
                        // The first value of a field that has several goes first.
                        let repeated = spec_fields.iter().position(|field| {
                            spec_fields
                                .iter()
                                .filter(|other| other.number == field.number)
                                .count()
                                > 1
                        });
                        if let Some(index) = repeated {
                            let first = spec_fields.remove(index);
                            spec_fields.insert(0, first);
                            split += 1;
                        }
                        let spec: Vec<u8> =
                            spec_fields.iter().flat_map(|f| f.wire).copied().collect();
                        pod.extend(kpb::length_delimited(2, &spec));
                    }
                    _ => pod.extend_from_slice(field.wire),
                }
            }
            pod
        })
        .collect();
    assert!(split > 0, "some recorded pod has a repeated spec field");
    let metadata =
        kpb::encode_json(kpb::list_meta(), &serde_json::json!({})).expect("list metadata encodes");
    let rearranged = kpb::list_body(
        envelope.api_version,
        envelope.kind,
        &metadata,
        items.iter().map(Vec::as_slice),
    );
    let in_order: Vec<Lean<Pod>> = wire::decode_list(&body).expect("in order").1;
    let out_of_order: Vec<Lean<Pod>> = wire::decode_list(&rearranged).expect("rearranged").1;
    let pod = MessageType::of("v1", "Pod").expect("Pod");
    assert_eq!(kpb::unordered_at(pod, list.items[0]).expect("walks"), None);
    assert_eq!(
        kpb::unordered_at(pod, &items[0]).expect("walks"),
        Some(vec![]),
        "the rearranged pod is out of order at the top"
    );
    assert_eq!(in_order.len(), out_of_order.len());
    // The whole objects (as `Get` decodes the kept bytes) and the pruned
    // ones the projection reads.
    let whole = |pod: &Lean<Pod>| {
        let kept = pod.protobuf.as_deref().expect("the bytes are kept");
        Lean::<Pod>::protobuf_json(kept).expect("the kept bytes decode")
    };
    for (a, b) in in_order.into_iter().zip(out_of_order) {
        let name = a.object.metadata.name.clone();
        assert_eq!(whole(&a), whole(&b), "pod {name:?}, whole");
        assert_eq!(pod_value(a), pod_value(b), "pod {name:?}, pruned");
    }
}
