//! Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`)
//! for the built-in kinds, without generated types: a schema of field
//! numbers (`schema.txt`) drives a serde deserializer, so the types that
//! read the JSON form (k8s-openapi's) read the protobuf form too, and an
//! encoder that writes JSON values as protobuf (the simulated API server).
//!
//! Framing, as recorded from kube-apiserver 1.36:
//! - a body is `k8s\0` + `runtime.Unknown {1: TypeMeta{apiVersion, kind},
//!   2: raw (the object's message)}`;
//! - a watch is a sequence of `[4-byte big-endian length][WatchEvent]`
//!   frames, `WatchEvent {1: type, 2: RawExtension {1: raw}}` whose raw is
//!   again a whole `k8s\0` envelope.

mod canonical;
mod de;
pub mod direct;
mod en;
#[cfg(any(test, feature = "test-util"))]
pub mod fuzz;
pub mod go_types;
pub mod json;
mod schema;
mod wire;

use std::fmt;

use serde::de::DeserializeOwned;

use self::schema::{Message, MessageId, SCHEMA, Type};
use self::wire::{Raw, read_field, write_bytes_field};

/// The media type of protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// The media type of protobuf watch streams.
pub const WATCH_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";
/// The four bytes every protobuf body starts with.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// A body that is not what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    /// A message's fields were not in field-number order, or a singular
    /// field came more than once, which the streaming decoder does not
    /// read (Go writes neither; protobuf allows both): the caller decodes
    /// again from the message made canonical.
    not_canonical: bool,
}

impl Error {
    fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            not_canonical: false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "protobuf: {}", self.message)
    }
}

impl std::error::Error for Error {}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(msg.to_string())
    }
}

/// Decode `raw` (a value of type `ty`) with the streaming reader, and again
/// from the message rewritten canonically when it is not
/// ([`Error::not_canonical`]).
fn streaming_or_canonical<T>(
    ty: &'static Type,
    raw: Raw<'_>,
    decode: impl Fn(Raw<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    match (decode(raw), ty, raw) {
        (Err(e), Type::Message(id), Raw::Bytes(bytes)) if e.not_canonical => {
            let canonical = canonical::canonical(*id, bytes)?;
            decode(Raw::Bytes(&canonical))
        }
        (decoded, ..) => decoded,
    }
}

/// The schema's type of each message, by id (for values decoded whole).
fn message_types() -> &'static [Type] {
    static MESSAGE: std::sync::OnceLock<Vec<Type>> = std::sync::OnceLock::new();
    MESSAGE.get_or_init(|| (0..SCHEMA.messages.len()).map(Type::Message).collect())
}

/// A message type of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType(MessageId);

impl MessageType {
    /// The message of a full protobuf name (`k8s.io.api.core.v1.Pod`).
    pub fn named(name: &str) -> Option<MessageType> {
        SCHEMA.message(name).map(MessageType)
    }

    /// The message of an object's `apiVersion` and `kind`: `v1`/`Pod` →
    /// `k8s.io.api.core.v1.Pod`, `networking.k8s.io/v1`/`IngressList` →
    /// `k8s.io.api.networking.v1.IngressList`.
    pub fn of(api_version: &str, kind: &str) -> Option<MessageType> {
        if kind == "Status" {
            // Every group's errors are meta.k8s.io's Status (sent as v1/Status).
            return Some(status());
        }
        let package = match api_version.split_once('/') {
            None => format!("k8s.io.api.core.{api_version}"),
            Some(("meta.k8s.io", version)) => {
                format!("k8s.io.apimachinery.pkg.apis.meta.{version}")
            }
            Some((group, version)) => {
                let group = group.strip_suffix(".k8s.io").unwrap_or(group);
                format!("k8s.io.api.{group}.{version}")
            }
        };
        MessageType::named(&format!("{package}.{kind}"))
    }

    /// The type of a list's items (field 2 of every `…List`).
    pub fn items(self) -> Option<MessageType> {
        let message = &SCHEMA.messages[self.0];
        let field = message.fields.get(message.field_by_tag(2)?)?;
        match (&field.ty, field.repeated) {
            (Type::Message(id), true) => Some(MessageType(*id)),
            _ => None,
        }
    }

    /// The full protobuf name.
    pub fn name(self) -> &'static str {
        &SCHEMA.messages[self.0].name
    }
}

/// Decode a message into any type that reads the object's JSON form.
pub fn decode<T: DeserializeOwned>(ty: MessageType, bytes: &[u8]) -> Result<T, Error> {
    let ty = &message_types()[ty.0];
    streaming_or_canonical(ty, Raw::Bytes(bytes), |raw| {
        T::deserialize(de::ValueDe { ty, raw })
    })
}

/// Decode a top-level object, with the `apiVersion` and `kind` its
/// envelope carried, into any type that reads the object's JSON form.
pub fn decode_object<T: DeserializeOwned>(
    ty: MessageType,
    bytes: &[u8],
    api_version: &str,
    kind: &str,
) -> Result<T, Error> {
    streaming_or_canonical(&message_types()[ty.0], Raw::Bytes(bytes), |raw| {
        T::deserialize(de::ObjectDe {
            message: de::MessageDe {
                message: ty.0,
                bytes: direct::bytes(raw)?,
            },
            api_version,
            kind,
        })
    })
}

/// Fields a decode leaves out, as if the messages had no such fields: for
/// a reader that needs only part of an object (the daemon's projections),
/// so what it does not read is skipped on the wire instead of built.
#[derive(Debug, Clone)]
pub struct Pruning {
    /// By field id.
    left_out: Vec<bool>,
}

impl Pruning {
    /// Leave out the fields named `message.field` with protobuf names
    /// (`k8s.io.api.core.v1.PodSpec.volumes`). A name the schema does not
    /// have is an error.
    pub fn new<'a>(fields: impl IntoIterator<Item = &'a str>) -> Result<Pruning, Error> {
        let mut left_out = vec![false; SCHEMA.field_count];
        for name in fields {
            let found = name.rsplit_once('.').and_then(|(message, field)| {
                let message = &SCHEMA.messages[SCHEMA.message(message)?];
                message.fields.iter().find(|f| f.name == field)
            });
            let field =
                found.ok_or_else(|| Error::new(format!("no field {name} in the schema")))?;
            left_out[field.id] = true;
        }
        Ok(Pruning { left_out })
    }
}

/// [`decode_object`] leaving out the fields `pruning` names.
pub fn decode_object_pruned<T: DeserializeOwned>(
    ty: MessageType,
    bytes: &[u8],
    api_version: &str,
    kind: &str,
    pruning: &'static Pruning,
) -> Result<T, Error> {
    de::pruned(&pruning.left_out, || {
        decode_object(ty, bytes, api_version, kind)
    })
}

/// A `k8s\0` body of the object in `message` (of type `ty`, with the
/// `apiVersion` and `kind` its envelope carried) without the fields no
/// decode builds (`metadata.managedFields`), in the same wire order: what a
/// cache keeps of an object to decode it again later. Messages below the
/// top level are copied as they are, but those holding such fields; one
/// pass measures, one writes.
pub fn kept_body(
    ty: MessageType,
    message: &[u8],
    api_version: &str,
    kind: &str,
) -> Result<Vec<u8>, Error> {
    let len = kept_len(ty.0, message)?;
    let type_meta = Envelope::type_meta(api_version, kind);
    let mut out = Vec::with_capacity(MAGIC.len() + type_meta.len() + len + 16);
    out.extend_from_slice(MAGIC);
    write_bytes_field(&mut out, 1, &type_meta);
    wire::write_varint(&mut out, (2 << 3) | 2);
    wire::write_varint(&mut out, len as u64);
    copy_kept(ty.0, message, &mut out)?;
    Ok(out)
}

/// What a field of a message kept without skipped fields is: dropped,
/// rewritten (a message holding skipped fields), or copied as it is.
enum KeptField<'a> {
    Dropped,
    Rewritten(MessageId, &'a [u8]),
    Copied,
}

fn kept_field<'a>(message: &Message, tag: u32, raw: Raw<'a>) -> KeptField<'a> {
    let field = message.field_by_tag(tag).map(|i| &message.fields[i]);
    match (field.map(|f| (f.skip, &f.ty)), raw) {
        (Some((true, _)), _) => KeptField::Dropped,
        (Some((false, Type::Message(inner))), Raw::Bytes(bytes))
            if SCHEMA.messages[*inner].holds_skipped =>
        {
            KeptField::Rewritten(*inner, bytes)
        }
        _ => KeptField::Copied,
    }
}

/// The length of message `id` without its skipped fields.
fn kept_len(id: MessageId, bytes: &[u8]) -> Result<usize, Error> {
    let message = &SCHEMA.messages[id];
    let mut len = 0;
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let (tag, raw) = read_field(bytes, &mut pos)?;
        len += match kept_field(message, tag, raw) {
            KeptField::Dropped => 0,
            KeptField::Rewritten(inner, inner_bytes) => {
                let inner_len = kept_len(inner, inner_bytes)?;
                wire::varint_len((u64::from(tag) << 3) | 2)
                    + wire::varint_len(inner_len as u64)
                    + inner_len
            }
            KeptField::Copied => pos - start,
        };
    }
    Ok(len)
}

/// Write message `id` without its skipped fields.
fn copy_kept(id: MessageId, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    let message = &SCHEMA.messages[id];
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let (tag, raw) = read_field(bytes, &mut pos)?;
        match kept_field(message, tag, raw) {
            KeptField::Dropped => {}
            KeptField::Rewritten(inner, inner_bytes) => {
                wire::write_varint(out, (u64::from(tag) << 3) | 2);
                wire::write_varint(out, kept_len(inner, inner_bytes)? as u64);
                copy_kept(inner, inner_bytes, out)?;
            }
            KeptField::Copied => out.extend_from_slice(&bytes[start..pos]),
        }
    }
    Ok(())
}

/// Write a JSON value as a message of type `ty`. Keys the message does not
/// have are an error (but `apiVersion` and `kind`, which travel in the
/// envelope); nulls are left out.
pub fn encode_json(ty: MessageType, value: &serde_json::Value) -> Result<Vec<u8>, Error> {
    en::encode(ty.0, value)
}

/// The `runtime.Unknown` envelope of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    /// The object's message.
    pub raw: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Read a `k8s\0`-prefixed body.
    pub fn parse(body: &'a [u8]) -> Result<Envelope<'a>, Error> {
        let rest = body
            .strip_prefix(MAGIC)
            .ok_or_else(|| Error::new("body does not start with the k8s\\0 magic"))?;
        let mut envelope = Envelope {
            api_version: "",
            kind: "",
            raw: &[],
        };
        let mut pos = 0;
        while pos < rest.len() {
            match read_field(rest, &mut pos)? {
                (1, Raw::Bytes(type_meta)) => {
                    let mut p = 0;
                    while p < type_meta.len() {
                        match read_field(type_meta, &mut p)? {
                            (1, Raw::Bytes(v)) => envelope.api_version = str_of(v)?,
                            (2, Raw::Bytes(v)) => envelope.kind = str_of(v)?,
                            _ => {}
                        }
                    }
                }
                (2, Raw::Bytes(raw)) => envelope.raw = raw,
                (3 | 4, Raw::Bytes(b)) if !b.is_empty() => {
                    return Err(Error::new(
                        "content encoding or type in the envelope is not supported",
                    ));
                }
                _ => {}
            }
        }
        Ok(envelope)
    }

    /// The message type named by the envelope's TypeMeta.
    pub fn message_type(&self) -> Result<MessageType, Error> {
        MessageType::of(self.api_version, self.kind).ok_or_else(|| {
            Error::new(format!(
                "no protobuf schema for {}/{}",
                self.api_version, self.kind
            ))
        })
    }

    /// Write the envelope: `k8s\0` + Unknown.
    /// `TypeMeta {1: apiVersion, 2: kind}`.
    fn type_meta(api_version: &str, kind: &str) -> Vec<u8> {
        let mut type_meta = Vec::with_capacity(api_version.len() + kind.len() + 4);
        write_bytes_field(&mut type_meta, 1, api_version.as_bytes());
        write_bytes_field(&mut type_meta, 2, kind.as_bytes());
        type_meta
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let type_meta = Envelope::type_meta(self.api_version, self.kind);
        let mut out = Vec::with_capacity(self.raw.len() + type_meta.len() + 16);
        out.extend_from_slice(MAGIC);
        write_bytes_field(&mut out, 1, &type_meta);
        write_bytes_field(&mut out, 2, self.raw);
        out
    }
}

fn str_of(bytes: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(bytes).map_err(|_| Error::new("string is not UTF-8"))
}

/// A list body, its items left encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<'a> {
    /// The list's `metadata` (a `ListMeta` message).
    pub metadata: &'a [u8],
    /// Each item's message.
    pub items: Vec<&'a [u8]>,
}

impl<'a> List<'a> {
    /// Split a `…List` message into its metadata and items.
    pub fn parse(raw: &'a [u8]) -> Result<List<'a>, Error> {
        let mut list = List {
            metadata: &[],
            items: Vec::new(),
        };
        let mut pos = 0;
        while pos < raw.len() {
            match read_field(raw, &mut pos)? {
                (1, Raw::Bytes(metadata)) => list.metadata = metadata,
                (2, Raw::Bytes(item)) => list.items.push(item),
                _ => {}
            }
        }
        Ok(list)
    }
}

/// One field of a message as it sits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireField<'a> {
    /// The field number.
    pub number: u32,
    /// The whole field: tag, length if any, value.
    pub wire: &'a [u8],
    /// The value of a length-delimited field (a message, string, bytes).
    pub payload: Option<&'a [u8]>,
}

/// The fields of a message in wire order, not decoded: to look at or
/// rearrange a message's encoding.
pub fn wire_fields(message: &[u8]) -> Result<Vec<WireField<'_>>, Error> {
    let mut fields = Vec::new();
    let mut pos = 0;
    while pos < message.len() {
        let start = pos;
        let (number, raw) = read_field(message, &mut pos)?;
        fields.push(WireField {
            number,
            wire: &message[start..pos],
            payload: match raw {
                Raw::Bytes(payload) => Some(payload),
                _ => None,
            },
        });
    }
    Ok(fields)
}

/// Where a message of type `ty` has fields out of number order (the
/// order the API server writes and the decoder reads in place): the path
/// of field numbers to the first such message, or None when all are in order.
pub fn unordered_at(ty: MessageType, message: &[u8]) -> Result<Option<Vec<u32>>, Error> {
    fn walk(id: MessageId, bytes: &[u8], path: &mut Vec<u32>) -> Result<bool, Error> {
        let message = &SCHEMA.messages[id];
        let mut pos = 0;
        let mut last = 0;
        while pos < bytes.len() {
            let (tag, raw) = read_field(bytes, &mut pos)?;
            if tag < last {
                return Ok(true);
            }
            last = tag;
            let Some(field) = message.field_by_tag(tag).map(|i| &message.fields[i]) else {
                continue;
            };
            if let (Type::Message(inner), Raw::Bytes(inner_bytes)) = (&field.ty, raw)
                && SCHEMA.messages[*inner].special == schema::Special::None
            {
                path.push(tag);
                if walk(*inner, inner_bytes, path)? {
                    return Ok(true);
                }
                path.pop();
            }
        }
        Ok(false)
    }
    let mut path = Vec::new();
    Ok(walk(ty.0, message, &mut path)?.then_some(path))
}

/// A length-delimited field: `number` with `payload` as its value.
pub fn length_delimited(number: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 6);
    write_bytes_field(&mut out, number, payload);
    out
}

/// A whole list body: `k8s\0` + Unknown{TypeMeta, `…List{1: metadata, 2: items…}`}.
pub fn list_body<'a>(
    api_version: &str,
    kind: &str,
    metadata: &[u8],
    items: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut raw = Vec::new();
    write_bytes_field(&mut raw, 1, metadata);
    for item in items {
        write_bytes_field(&mut raw, 2, item);
    }
    Envelope {
        api_version,
        kind,
        raw: &raw,
    }
    .to_bytes()
}

/// The `ListMeta` message type.
pub fn list_meta() -> MessageType {
    MessageType::named("k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta").expect("ListMeta in schema")
}

/// The `Status` message type.
pub fn status() -> MessageType {
    MessageType::named("k8s.io.apimachinery.pkg.apis.meta.v1.Status").expect("Status in schema")
}

/// One watch event: its type and the object's envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchEvent<'a> {
    /// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
    pub kind: &'a str,
    /// The object, a whole `k8s\0` envelope.
    pub object: &'a [u8],
}

impl<'a> WatchEvent<'a> {
    /// Read a `WatchEvent` message (one frame without its length).
    pub fn parse(frame: &'a [u8]) -> Result<WatchEvent<'a>, Error> {
        let mut event = WatchEvent {
            kind: "",
            object: &[],
        };
        let mut pos = 0;
        while pos < frame.len() {
            match read_field(frame, &mut pos)? {
                (1, Raw::Bytes(v)) => event.kind = str_of(v)?,
                (2, Raw::Bytes(raw_extension)) => {
                    let mut p = 0;
                    while p < raw_extension.len() {
                        if let (1, Raw::Bytes(raw)) = read_field(raw_extension, &mut p)? {
                            event.object = raw;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(event)
    }

    /// Write the event as one frame: length, then the message.
    pub fn to_frame(&self) -> Vec<u8> {
        let mut raw_extension = Vec::with_capacity(self.object.len() + 8);
        write_bytes_field(&mut raw_extension, 1, self.object);
        let mut message = Vec::with_capacity(raw_extension.len() + 24);
        write_bytes_field(&mut message, 1, self.kind.as_bytes());
        write_bytes_field(&mut message, 2, &raw_extension);
        let mut frame = Vec::with_capacity(message.len() + 4);
        frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
        frame.extend_from_slice(&message);
        frame
    }
}

/// Cuts a byte stream into watch frames.
#[derive(Debug, Default)]
pub struct FrameReader {
    buffer: Vec<u8>,
}

impl FrameReader {
    /// The largest frame accepted (a watch event of one object).
    pub const MAX_FRAME: usize = 64 << 20;

    /// Add bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole frame, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let Some(len) = self.buffer.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*len) as usize;
        if len > Self::MAX_FRAME {
            return Err(Error::new(format!("watch frame of {len} bytes")));
        }
        if self.buffer.len() < 4 + len {
            return Ok(None);
        }
        let frame = self.buffer[4..4 + len].to_vec();
        self.buffer.drain(..4 + len);
        Ok(Some(frame))
    }

    /// Bytes of an unfinished frame.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_api_version_and_kind() {
        assert_eq!(
            MessageType::of("v1", "Pod").map(MessageType::name),
            Some("k8s.io.api.core.v1.Pod")
        );
        assert_eq!(
            MessageType::of("networking.k8s.io/v1", "IngressList").map(MessageType::name),
            Some("k8s.io.api.networking.v1.IngressList")
        );
        assert_eq!(
            MessageType::of("autoscaling/v2", "HorizontalPodAutoscalerList")
                .and_then(MessageType::items)
                .map(MessageType::name),
            Some("k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler")
        );
        assert_eq!(
            MessageType::of("meta.k8s.io/v1", "PartialObjectMetadataList")
                .and_then(MessageType::items)
                .map(MessageType::name),
            Some("k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata")
        );
        assert_eq!(MessageType::of("example.com/v1", "Widget"), None);
    }

    #[test]
    fn a_watch_frame_round_trips_and_is_cut_from_a_stream_in_pieces() {
        let envelope = Envelope {
            api_version: "v1",
            kind: "Pod",
            raw: b"\x0a\x00",
        }
        .to_bytes();
        let frame = WatchEvent {
            kind: "ADDED",
            object: &envelope,
        }
        .to_frame();
        let mut reader = FrameReader::default();
        let mut stream = frame.clone();
        stream.extend_from_slice(&frame);
        let mut frames = Vec::new();
        for chunk in stream.chunks(3) {
            reader.push(chunk);
            while let Some(frame) = reader.next_frame().expect("frames") {
                frames.push(frame);
            }
        }
        assert_eq!(frames.len(), 2);
        assert_eq!(reader.pending(), 0);
        let event = WatchEvent::parse(&frames[1]).expect("event");
        assert_eq!(event.kind, "ADDED");
        let envelope = Envelope::parse(event.object).expect("envelope");
        assert_eq!((envelope.api_version, envelope.kind), ("v1", "Pod"));
        assert_eq!(envelope.raw, b"\x0a\x00");
    }

    fn pod_json() -> serde_json::Value {
        serde_json::json!({
            "metadata": {"name": "web-1", "namespace": "shop",
                "labels": {"app": "web"},
                "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
            "spec": {"nodeName": "node-1",
                "containers": [{"name": "web", "image": "web:1", "args": ["--port=80"]}],
                "volumes": [{"name": "data", "emptyDir": {}}]},
            "status": {"phase": "Running"}
        })
    }

    #[test]
    fn a_pruned_decode_leaves_out_the_named_fields_and_nothing_else() {
        let pod = MessageType::of("v1", "Pod").expect("Pod");
        let message = encode_json(pod, &pod_json()).expect("encodes");
        static PRUNING: std::sync::LazyLock<Pruning> = std::sync::LazyLock::new(|| {
            Pruning::new([
                "k8s.io.api.core.v1.PodSpec.volumes",
                "k8s.io.api.core.v1.Container.args",
            ])
            .expect("fields of the schema")
        });
        let pruned: serde_json::Value =
            decode_object_pruned(pod, &message, "v1", "Pod", &PRUNING).expect("decodes");
        let whole: serde_json::Value = decode_object(pod, &message, "v1", "Pod").expect("decodes");
        assert_eq!(whole["spec"]["volumes"][0]["name"], "data");
        assert_eq!(whole["spec"]["containers"][0]["args"][0], "--port=80");
        let mut expected = whole.clone();
        let spec = expected["spec"].as_object_mut().expect("spec");
        spec.remove("volumes");
        spec["containers"][0]
            .as_object_mut()
            .expect("container")
            .remove("args");
        assert_eq!(pruned, expected);
        // The pruning ends with its decode.
        let again: serde_json::Value = decode_object(pod, &message, "v1", "Pod").expect("decodes");
        assert_eq!(again, whole);
        assert!(Pruning::new(["k8s.io.api.core.v1.PodSpec.nope"]).is_err());
        assert!(Pruning::new(["nope"]).is_err());
    }

    #[test]
    fn kept_bodies_drop_managed_fields_and_keep_the_rest_as_it_was() {
        let pod = MessageType::of("v1", "Pod").expect("Pod");
        let message = encode_json(pod, &pod_json()).expect("encodes");
        let body = kept_body(pod, &message, "v1", "Pod").expect("rewrites");
        let envelope = Envelope::parse(&body).expect("an envelope");
        assert_eq!((envelope.api_version, envelope.kind), ("v1", "Pod"));
        let kept = envelope.raw;
        assert!(kept.len() < message.len());
        let metadata = |bytes: &[u8]| -> Vec<u32> {
            let fields = wire_fields(bytes).expect("fields");
            let meta = fields.iter().find(|f| f.number == 1).expect("metadata");
            wire_fields(meta.payload.expect("a message"))
                .expect("metadata fields")
                .iter()
                .map(|f| f.number)
                .collect()
        };
        assert!(metadata(&message).contains(&17), "managedFields encoded");
        assert!(!metadata(kept).contains(&17), "managedFields left out");
        let a: serde_json::Value = decode_object(pod, &message, "v1", "Pod").expect("decodes");
        let b: serde_json::Value = decode_object(pod, kept, "v1", "Pod").expect("decodes");
        assert_eq!(a, b);
        assert_eq!(
            wire_fields(kept).expect("fields")[1..],
            wire_fields(&message).expect("fields")[1..],
            "spec and status are the same bytes"
        );
    }

    #[test]
    fn a_body_without_the_magic_is_an_error() {
        assert!(Envelope::parse(b"{\"kind\":\"PodList\"}").is_err());
    }
}
