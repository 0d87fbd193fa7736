//! How the Go API server writes each field, in protobuf and in JSON: the
//! recorded Go API types table (`go-types/fields.tsv` of the fixtures, cut
//! down to `go_types.tsv` by `scripts/gen-go-types.py`), read once.
//!
//! This is the rule for the JSON of a decoded object ([`crate::json`]) and
//! for an encoder that writes protobuf as the Go server does (the sim's);
//! it comes from the Go types, not from this crate's decoder schema
//! (`schema.txt`, from k8s-pb), so the two check each other.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Every message of the table.
pub static GO_TYPES: LazyLock<GoTypes> = LazyLock::new(|| {
    GoTypes::parse(include_str!("go_types.tsv")).expect("kpb/go_types.tsv parses")
});

/// The table's text, as cut from the recorded `fields.tsv`.
pub const TABLE: &str = include_str!("go_types.tsv");

/// The columns `go_types.tsv` keeps of `fields.tsv`, in order.
pub const COLUMNS: [&str; 9] = [
    "message",
    "field_number",
    "json_name",
    "pointer",
    "container",
    "underlying",
    "proto_type",
    "proto_label_actual",
    "json_when",
];

/// The messages, by full protobuf name.
#[derive(Debug)]
pub struct GoTypes {
    pub messages: Vec<GoMessage>,
    by_name: HashMap<String, usize>,
    /// By lowercase name: k8s-pb spells some names differently
    /// (`HttpGetAction` for Go's `HTTPGetAction`).
    by_lower_name: HashMap<String, usize>,
}

/// One Go struct that travels as a protobuf message.
#[derive(Debug)]
pub struct GoMessage {
    pub name: String,
    /// Its fields in Go declaration order, which is JSON's key order.
    pub fields: Vec<GoField>,
    /// A message that wraps one named slice (`ExtraValue`, `Verbs`): JSON
    /// is the bare array.
    pub unwrapped: bool,
}

/// Types whose own code, not their fields, decides their JSON and protobuf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Custom {
    /// `metav1.Time`: RFC 3339 in whole seconds, `null` when zero.
    Time,
    /// `metav1.MicroTime`: six fractional digits, `null` when zero.
    MicroTime,
    /// `resource.Quantity`: the string of field 1, `"0"` without it.
    Quantity,
    /// `intstr.IntOrString`: a number or a string, by field 1.
    IntOrString,
    /// `runtime.RawExtension`, `metav1.FieldsV1`: the raw JSON of field 1.
    RawJson,
    /// `metav1.Duration`: Go's `time.Duration` text.
    Duration,
}

/// The type of a field's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoType {
    Bool,
    Int32,
    Int64,
    Double,
    String,
    Bytes,
    Message(usize),
    Custom(Custom),
    /// A message the table does not have (none the built-in kinds reach).
    Unknown(String),
    Map(Box<GoType>, Box<GoType>),
}

/// When a field appears in the JSON the server writes (`json_when`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Zero values included (`false`, `0`, `""`, `{}`; a zero time is `null`).
    Always,
    /// Left out when zero (`false`, `0`, `""`).
    IfNonzero,
    /// A pointer: written exactly when it is on the wire.
    IfSet,
    /// A pointer without `omitempty`: `null` when not on the wire.
    NullIfUnset,
    /// A slice or map with `omitempty`: left out when empty.
    IfNonempty,
    /// A slice or map without `omitempty`: `null` when empty.
    NullIfNil,
    /// `omitzero`: left out when the value is zero (`creationTimestamp`).
    IfNotIsZero,
    /// An embedded struct whose fields JSON has in the parent.
    Inline,
    /// `json:"-"`.
    Never,
    /// A field of a type with its own `MarshalJSON`.
    ByMarshalJson,
    /// The one field of an unwrapped message.
    Unwrapped,
}

/// One field of a Go struct.
#[derive(Debug, Clone)]
pub struct GoField {
    /// Its protobuf field number; None: not on the wire (`TypeMeta`).
    pub number: Option<u32>,
    pub json_name: String,
    /// A Go pointer: on the wire only when set.
    pub pointer: bool,
    /// A slice or map (`[]byte` included): one wire entry per element.
    pub container: bool,
    /// `[]byte`: on the wire when non-nil, even empty.
    pub byte_slice: bool,
    pub ty: GoType,
    pub repeated: bool,
    pub when: When,
}

fn custom(name: &str) -> Option<Custom> {
    Some(match name {
        "k8s.io.apimachinery.pkg.apis.meta.v1.Time" => Custom::Time,
        "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime" => Custom::MicroTime,
        "k8s.io.apimachinery.pkg.api.resource.Quantity" => Custom::Quantity,
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString" => Custom::IntOrString,
        "k8s.io.apimachinery.pkg.runtime.RawExtension" => Custom::RawJson,
        "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1" => Custom::RawJson,
        "k8s.io.apimachinery.pkg.apis.meta.v1.Duration" => Custom::Duration,
        _ => return None,
    })
}

impl GoTypes {
    fn parse(text: &str) -> Result<GoTypes, String> {
        let mut lines = text.lines().filter(|line| !line.starts_with('#'));
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        if header != COLUMNS {
            return Err(format!("go_types.tsv columns are {header:?}"));
        }
        let rows: Vec<Vec<&str>> = lines.map(|line| line.split('\t').collect()).collect();
        let mut by_name = HashMap::new();
        for row in &rows {
            if row.len() != COLUMNS.len() {
                return Err(format!("go_types.tsv row {row:?}"));
            }
            let next = by_name.len();
            by_name.entry(row[0].to_string()).or_insert(next);
        }
        let mut messages: Vec<GoMessage> = Vec::with_capacity(by_name.len());
        for row in &rows {
            let [
                message,
                number,
                json_name,
                pointer,
                container,
                underlying,
                ty,
                label,
                when,
            ] = row[..]
            else {
                unreachable!("rows have every column")
            };
            if messages.last().is_none_or(|m| m.name != message) {
                messages.push(GoMessage {
                    name: message.to_string(),
                    fields: Vec::new(),
                    unwrapped: false,
                });
            }
            let bad = || format!("go_types.tsv: {message}.{json_name}: {row:?}");
            let when = match when {
                "always" => When::Always,
                "if-nonzero" => When::IfNonzero,
                "if-set" => When::IfSet,
                "always(null-if-unset)" => When::NullIfUnset,
                "if-nonempty" => When::IfNonempty,
                "always(null-if-nil)" => When::NullIfNil,
                "if-not-IsZero" => When::IfNotIsZero,
                "inline" => When::Inline,
                "never" => When::Never,
                "by-MarshalJSON" => When::ByMarshalJson,
                "unwrapped" => When::Unwrapped,
                _ => return Err(bad()),
            };
            let parsed_ty = if ty.is_empty() {
                GoType::Unknown(String::new())
            } else {
                parse_type(ty, &by_name).ok_or_else(bad)?
            };
            let current = messages.last_mut().ok_or_else(bad)?;
            current.unwrapped |= when == When::Unwrapped;
            current.fields.push(GoField {
                number: if number.is_empty() {
                    None
                } else {
                    Some(number.parse().map_err(|_| bad())?)
                },
                json_name: json_name.to_string(),
                pointer: pointer == "yes",
                container: container != "none",
                byte_slice: underlying == "bytes",
                ty: parsed_ty,
                repeated: label == "repeated",
                when,
            });
        }
        let by_lower_name = by_name
            .iter()
            .map(|(name, id)| (name.to_ascii_lowercase(), *id))
            .collect();
        Ok(GoTypes {
            messages,
            by_name,
            by_lower_name,
        })
    }

    /// The index in `messages` of a full protobuf name.
    pub fn message_id(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The message of a full protobuf name (`k8s.io.api.core.v1.Pod`).
    pub fn message(&self, name: &str) -> Option<&GoMessage> {
        self.by_name.get(name).map(|id| &self.messages[*id])
    }

    /// The message of a name spelled in any case (k8s-pb's `HttpGetAction`).
    pub fn message_any_case(&self, name: &str) -> Option<&GoMessage> {
        self.by_lower_name
            .get(&name.to_ascii_lowercase())
            .map(|id| &self.messages[*id])
    }
}

fn parse_type(ty: &str, by_name: &HashMap<String, usize>) -> Option<GoType> {
    Some(match ty {
        "bool" => GoType::Bool,
        "int32" => GoType::Int32,
        "int64" => GoType::Int64,
        "double" => GoType::Double,
        "string" => GoType::String,
        "bytes" => GoType::Bytes,
        _ => {
            if let Some(inner) = ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
                let (key, value) = inner.split_once(',')?;
                return Some(GoType::Map(
                    Box::new(parse_type(key, by_name)?),
                    Box::new(parse_type(value, by_name)?),
                ));
            }
            let name = ty.strip_prefix('.')?;
            if let Some(custom) = custom(name) {
                GoType::Custom(custom)
            } else if let Some(id) = by_name.get(name) {
                GoType::Message(*id)
            } else {
                GoType::Unknown(name.to_string())
            }
        }
    })
}

impl GoMessage {
    /// The field with protobuf number `number`.
    pub fn field(&self, number: u32) -> Option<&GoField> {
        self.fields.iter().find(|f| f.number == Some(number))
    }
}

impl GoField {
    /// Whether this field's value is left out of the server's JSON (or
    /// written `null`, which a typed decode reads as unset) when it is on
    /// the wire as `raw`: zero values of `omitempty` scalars, zero times,
    /// empty `[]byte` with `omitempty`.
    pub fn json_absent(&self, raw: crate::direct::Raw<'_>) -> bool {
        use crate::direct::Raw;
        let zero = match raw {
            Raw::Varint(v) => v == 0,
            Raw::Fixed64(v) => v == 0,
            Raw::Fixed32 => false,
            Raw::Bytes(b) => b.is_empty(),
        };
        match (&self.ty, self.when) {
            (GoType::Custom(Custom::Time | Custom::MicroTime), _) => zero && !self.repeated,
            (_, When::IfNonzero) => zero,
            (GoType::Bytes, When::IfNonempty) => zero,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_says_what_the_readme_examples_say() {
        let spec = GO_TYPES
            .message("k8s.io.api.core.v1.PodSpec")
            .expect("PodSpec");
        let host_pid = spec.field(12).expect("hostPID");
        assert_eq!(
            (host_pid.json_name.as_str(), host_pid.when),
            ("hostPID", When::IfNonzero)
        );
        let status = GO_TYPES
            .message("k8s.io.api.core.v1.ContainerStatus")
            .expect("ContainerStatus");
        assert_eq!(status.field(4).expect("ready").when, When::Always);
        let volume = GO_TYPES
            .message("k8s.io.api.core.v1.Volume")
            .expect("Volume");
        assert_eq!(volume.field(2).expect("volumeSource").when, When::Inline);
        assert!(
            GO_TYPES
                .message_any_case("k8s.io.api.core.v1.HttpGetAction")
                .is_some()
        );
    }
}
