//! The field numbers and types of the Kubernetes messages we decode, read
//! once from `schema.txt` (generated from the k8s-pb crate by
//! `scripts/gen-kube-pb-schema.py`).

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::go_types::{GO_TYPES, GoField, When};
use crate::wire::Raw;

/// The schema of every message reachable from the built-in kinds' lists.
pub(crate) static SCHEMA: LazyLock<Schema> =
    LazyLock::new(|| Schema::parse(include_str!("schema.txt")).expect("kpb/schema.txt parses"));

/// Index of a message in the schema.
pub(crate) type MessageId = usize;

#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) messages: Vec<Message>,
    /// Fields of all messages together.
    pub(crate) field_count: usize,
    by_name: HashMap<String, MessageId>,
}

/// Messages whose JSON form is not an object of their fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    None,
    /// `metav1.Time`: RFC 3339 with seconds in JSON; `{seconds, nanos}` here.
    Time,
    /// `metav1.MicroTime`: RFC 3339 with microseconds.
    MicroTime,
    /// `resource.Quantity`: a string.
    Quantity,
    /// `intstr.IntOrString`: a number or a string.
    IntOrString,
    /// `runtime.RawExtension` and `metav1.FieldsV1`: raw JSON bytes.
    RawJson,
}

#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) name: String,
    pub(crate) special: Special,
    /// Some field is never decoded (`Field::skip`: ObjectMeta).
    pub(crate) holds_skipped: bool,
    /// Fields in tag order.
    pub(crate) fields: Vec<Field>,
    /// Field index by tag (tags are small: a table, not a hash).
    by_tag: Vec<Option<u16>>,
    /// Field index by normalized name (lowercase, no `_`): the JSON name
    /// `podIPs` and the protobuf name `pod_ips` meet there.
    by_key: HashMap<String, usize>,
}

#[derive(Debug)]
pub(crate) struct Field {
    /// Index of the field among all fields of all messages (a pruning's bit).
    pub(crate) id: usize,
    pub(crate) tag: u32,
    /// The protobuf (snake case) name.
    pub(crate) name: String,
    pub(crate) ty: Type,
    pub(crate) repeated: bool,
    /// Never decoded (`metadata.managedFields`: bookkeeping the daemon neither shows nor keeps).
    pub(crate) skip: bool,
    /// How the Go server writes this field (None: a field the Go types
    /// of this version do not have).
    pub(crate) go: Option<&'static GoField>,
    /// Go embeds this message (`json:",inline"`): JSON has its fields in
    /// the parent (`Volume.volumeSource`, `Probe.handler`).
    pub(crate) inline: bool,
}

impl Field {
    /// Whether the server's JSON leaves this value out (or writes `null`,
    /// which a typed decode reads as unset): zero values of `omitempty`
    /// scalars, zero times (go-types rules).
    #[inline]
    pub(crate) fn json_absent(&self, raw: Raw<'_>) -> bool {
        self.go.is_some_and(|go| go.json_absent(raw))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Type {
    String,
    Bool,
    Int32,
    Int64,
    Double,
    Bytes,
    Message(MessageId),
    Map(Box<Type>, Box<Type>),
}

/// `podIPs`, `pod_ips` → `podips`.
pub(crate) fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl Schema {
    fn parse(text: &str) -> Result<Schema, String> {
        // Two passes: names first, so fields can refer to any message.
        let mut by_name = HashMap::new();
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("M ") {
                let id = by_name.len();
                by_name.insert(name.to_string(), id);
            }
        }
        let mut messages: Vec<Message> = Vec::with_capacity(by_name.len());
        let mut field_count = 0;
        for (n, line) in text.lines().enumerate() {
            let bad = || format!("schema.txt line {}: {line:?}", n + 1);
            if let Some(name) = line.strip_prefix("M ") {
                let short = name.rsplit('.').next().unwrap_or(name);
                let special = match (name.contains(".meta.v1."), short) {
                    (true, "Time") => Special::Time,
                    (true, "MicroTime") => Special::MicroTime,
                    (true, "FieldsV1") => Special::RawJson,
                    (_, "Quantity") => Special::Quantity,
                    (_, "IntOrString") => Special::IntOrString,
                    (_, "RawExtension") => Special::RawJson,
                    _ => Special::None,
                };
                messages.push(Message {
                    name: name.to_string(),
                    special,
                    holds_skipped: false, // known once its fields are read
                    fields: Vec::new(),
                    by_tag: Vec::new(),
                    by_key: HashMap::new(),
                });
            } else if let Some(rest) = line.strip_prefix("F ") {
                let mut parts = rest.split(' ');
                let (Some(tag), Some(name), Some(ty), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad());
                };
                let tag: u32 = tag.parse().map_err(|_| bad())?;
                let (repeated, ty) = match ty.strip_prefix('*') {
                    Some(ty) => (true, ty),
                    None => (false, ty),
                };
                let ty = parse_type(ty, &by_name).ok_or_else(bad)?;
                let message = messages.last_mut().ok_or_else(bad)?;
                let skip = message.name == "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"
                    && name == "managed_fields";
                let index = message.fields.len();
                let slot = tag as usize;
                if message.by_tag.len() <= slot {
                    message.by_tag.resize(slot + 1, None);
                }
                message.by_tag[slot] = Some(index as u16);
                if message.by_key.insert(normalize(name), index).is_some() {
                    return Err(format!("{}: two fields named like {name}", bad()));
                }
                message.holds_skipped |= skip;
                message.fields.push(Field {
                    id: field_count,
                    tag,
                    name: name.to_string(),
                    ty,
                    repeated,
                    skip,
                    go: None, // known once every message is read
                    inline: false,
                });
                field_count += 1;
            } else if !line.starts_with('#') && !line.is_empty() {
                return Err(bad());
            }
        }
        for message in &mut messages {
            let go = GO_TYPES.message_any_case(&message.name);
            for field in &mut message.fields {
                field.go = go.and_then(|go| go.field(field.tag));
                field.inline = field.go.is_some_and(|go| go.when == When::Inline);
            }
        }
        Ok(Schema {
            messages,
            field_count,
            by_name,
        })
    }

    /// The message of a full protobuf name (`k8s.io.api.core.v1.Pod`).
    pub(crate) fn message(&self, name: &str) -> Option<MessageId> {
        self.by_name.get(name).copied()
    }
}

fn parse_type(ty: &str, by_name: &HashMap<String, MessageId>) -> Option<Type> {
    Some(match ty {
        "string" => Type::String,
        "bool" => Type::Bool,
        "int32" => Type::Int32,
        "int64" => Type::Int64,
        "double" => Type::Double,
        "bytes" => Type::Bytes,
        _ => {
            if let Some(name) = ty.strip_prefix("message:") {
                Type::Message(*by_name.get(name)?)
            } else {
                let rest = ty.strip_prefix("map:")?;
                let (key, value) = rest.split_once(':')?;
                Type::Map(
                    Box::new(parse_type(key, by_name)?),
                    Box::new(parse_type(value, by_name)?),
                )
            }
        }
    })
}

impl Message {
    #[inline]
    pub(crate) fn field_by_tag(&self, tag: u32) -> Option<usize> {
        self.by_tag
            .get(tag as usize)
            .copied()
            .flatten()
            .map(usize::from)
    }

    pub(crate) fn field_by_key(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_parses_and_knows_the_special_messages() {
        let schema = &*SCHEMA;
        let pod = schema.message("k8s.io.api.core.v1.Pod").expect("Pod");
        let pod = &schema.messages[pod];
        assert_eq!(
            pod.fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["metadata", "spec", "status"]
        );
        let status = &schema.messages[schema
            .message("k8s.io.api.core.v1.PodStatus")
            .expect("PodStatus")];
        let ips = &status.fields[status.field_by_key(&normalize("podIPs")).expect("podIPs")];
        assert!(ips.repeated);
        let time = schema
            .message("k8s.io.apimachinery.pkg.apis.meta.v1.Time")
            .expect("Time");
        assert_eq!(schema.messages[time].special, Special::Time);
        let meta = &schema.messages[schema
            .message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")
            .expect("ObjectMeta")];
        assert!(
            meta.fields
                .iter()
                .any(|f| f.skip && f.name == "managed_fields")
        );
    }
}
