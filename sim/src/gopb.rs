//! Protobuf as the Go API server writes it, from an object's JSON: driven
//! by the recorded Go API types table (`go-types/fields.tsv`, through
//! `timoneiro_kpb::go_types`), not by the daemon's decoder schema, so the
//! sim's bytes can catch a decoder bug instead of sharing it.
//!
//! gogo-protobuf's rules (go-types README): every non-pointer scalar is
//! written, zero included; every non-pointer struct is written as a
//! sub-message, empty or not; a pointer only when set; a slice or map one
//! entry per element (map keys sorted); `[]byte` when non-nil; fields in
//! field-number order; untagged fields (`TypeMeta`) never.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;
use timoneiro_kpb::go_types::{Custom, GO_TYPES, GoField, GoType, When};

/// An object that does not fit its Go type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct Error {
    path: String,
    message: String,
}

fn error(path: &Path<'_>, message: impl Into<String>) -> Error {
    Error {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Where in the object a value is, written out only for an error.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    name: &'a str,
    index: Option<usize>,
}

impl<'a> Path<'a> {
    fn child(&'a self, name: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            name,
            index: None,
        }
    }

    fn item(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            name: "",
            index: Some(index),
        }
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(parent) = self.parent {
            write!(f, "{parent}")?;
            if self.index.is_none() {
                f.write_str(".")?;
            }
        }
        f.write_str(self.name)?;
        match self.index {
            Some(i) => write!(f, "[{i}]"),
            None => Ok(()),
        }
    }
}

/// Each message's fields on the wire, in field-number order (Go's order
/// on the wire; the table has declaration order, JSON's).
static WIRE_ORDER: std::sync::LazyLock<Vec<Vec<usize>>> = std::sync::LazyLock::new(|| {
    GO_TYPES
        .messages
        .iter()
        .map(|message| {
            let mut order: Vec<usize> = (0..message.fields.len())
                .filter(|i| message.fields[*i].number.is_some())
                .collect();
            order.sort_by_key(|i| message.fields[*i].number);
            order
        })
        .collect()
});

/// The Go message of an object's `apiVersion` and `kind`, as the server
/// maps them: `v1`/`Pod` → `k8s.io.api.core.v1.Pod`, `meta.k8s.io/v1` →
/// apimachinery's meta package, `apps/v1`/`Deployment` →
/// `k8s.io.api.apps.v1.Deployment`, `networking.k8s.io/v1` → `networking`.
pub fn message_name(api_version: &str, kind: &str) -> Option<&'static str> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    GO_TYPES
        .messages
        .iter()
        .map(|m| m.name.as_str())
        .find(|name| {
            let Some((package, short)) = name.rsplit_once('.') else {
                return false;
            };
            if short != kind || !package.ends_with(&format!(".{version}")) {
                return false;
            }
            match group {
                "" if kind == "Status" => package == "k8s.io.apimachinery.pkg.apis.meta.v1",
                "" => package == format!("k8s.io.api.core.{version}"),
                "meta.k8s.io" => package.starts_with("k8s.io.apimachinery.pkg.apis.meta."),
                group => {
                    let first = group.split('.').next().unwrap_or(group);
                    package.split('.').nth(3) == Some(first)
                }
            }
        })
}

/// The message `name` (a full protobuf name) of the object `value`.
pub fn encode(name: &str, value: &Value) -> Result<Vec<u8>, Error> {
    let path = Path {
        parent: None,
        name,
        index: None,
    };
    let id = GO_TYPES
        .message_id(name)
        .ok_or_else(|| error(&path, "no such Go type"))?;
    let mut out = Vec::new();
    write_message(&mut out, id, value, &path)?;
    Ok(out)
}

/// The fields of `message` from the JSON object `value` (null: the zero struct).
fn write_message(
    out: &mut Vec<u8>,
    id: usize,
    value: &Value,
    path: &Path<'_>,
) -> Result<(), Error> {
    let message = &GO_TYPES.messages[id];
    let empty = serde_json::Map::new();
    let object = match value {
        Value::Object(object) => object,
        Value::Null => &empty,
        Value::Array(_) if message.unwrapped => {
            let field = &message.fields[0];
            let number = field.number.unwrap_or(1);
            return write_repeated(out, field, number, value, path);
        }
        other => return Err(error(path, format!("expected an object, not {other}"))),
    };
    for &index in &WIRE_ORDER[id] {
        let field = &message.fields[index];
        let number = field.number.unwrap_or_default();
        let here = path.child(&field.json_name);
        if field.when == When::Inline {
            // Embedded: its fields are the parent's in JSON.
            let GoType::Message(id) = &field.ty else {
                return Err(error(&here, "inline field is not a message"));
            };
            let mut inner = Vec::new();
            write_message(&mut inner, *id, value, &here)?;
            write_bytes(out, number, &inner);
            continue;
        }
        let json = object.get(&field.json_name).unwrap_or(&Value::Null);
        if let GoType::Map(key, value_type) = &field.ty {
            write_map(out, number, key, value_type, json, &here)?;
        } else if field.repeated {
            write_repeated(out, field, number, json, &here)?;
        } else if field.pointer || field.byte_slice {
            if !json.is_null() {
                write_value(out, number, &field.ty, json, &here)?;
            }
        } else {
            write_value(out, number, &field.ty, json, &here)?;
        }
    }
    Ok(())
}

fn write_repeated(
    out: &mut Vec<u8>,
    field: &GoField,
    number: u32,
    json: &Value,
    path: &Path<'_>,
) -> Result<(), Error> {
    match json {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                write_value(out, number, &field.ty, item, &path.item(i))?;
            }
            Ok(())
        }
        other => Err(error(path, format!("expected a list, not {other}"))),
    }
}

fn write_map(
    out: &mut Vec<u8>,
    number: u32,
    key: &GoType,
    value_type: &GoType,
    json: &Value,
    path: &Path<'_>,
) -> Result<(), Error> {
    let entries = match json {
        Value::Null => return Ok(()),
        Value::Object(entries) => entries,
        other => return Err(error(path, format!("expected a map, not {other}"))),
    };
    if *key != GoType::String {
        return Err(error(path, "a map whose keys are not strings"));
    }
    // Go sorts map keys before writing them.
    let sorted: BTreeMap<&String, &Value> = entries.iter().collect();
    for (k, v) in sorted {
        let mut entry = Vec::new();
        write_bytes(&mut entry, 1, k.as_bytes());
        // A nil []byte value is not written; everything else is.
        if !(matches!(value_type, GoType::Bytes) && v.is_null()) {
            write_value(&mut entry, 2, value_type, v, &path.child(k))?;
        }
        write_bytes(out, number, &entry);
    }
    Ok(())
}

/// One value of field `number` (null: the type's zero value).
fn write_value(
    out: &mut Vec<u8>,
    number: u32,
    ty: &GoType,
    json: &Value,
    path: &Path<'_>,
) -> Result<(), Error> {
    match ty {
        GoType::Bool => {
            let v = match json {
                Value::Null => false,
                Value::Bool(b) => *b,
                other => return Err(error(path, format!("expected a bool, not {other}"))),
            };
            write_varint_field(out, number, u64::from(v));
        }
        GoType::Int32 | GoType::Int64 => {
            let v = match json {
                Value::Null => 0,
                Value::Number(n) => n
                    .as_i64()
                    .ok_or_else(|| error(path, format!("expected an integer, not {n}")))?,
                other => return Err(error(path, format!("expected an integer, not {other}"))),
            };
            // Negative numbers are sign-extended to 64 bits, int32 included.
            write_varint_field(out, number, v as u64);
        }
        GoType::Double => {
            let v = json.as_f64().unwrap_or(0.0);
            write_varint(out, (u64::from(number) << 3) | 1);
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        GoType::String => {
            let v = match json {
                Value::Null => "",
                Value::String(s) => s,
                other => return Err(error(path, format!("expected a string, not {other}"))),
            };
            write_bytes(out, number, v.as_bytes());
        }
        GoType::Bytes => {
            let text = json.as_str().unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| error(path, format!("bytes are not base64: {e}")))?;
            write_bytes(out, number, &bytes);
        }
        GoType::Message(id) => {
            let mut inner = Vec::new();
            write_message(&mut inner, *id, json, path)?;
            write_bytes(out, number, &inner);
        }
        GoType::Custom(custom) => {
            let inner = custom_message(*custom, json, path)?;
            write_bytes(out, number, &inner);
        }
        GoType::Unknown(name) => return Err(error(path, format!("no Go type {name}"))),
        GoType::Map(..) => return Err(error(path, "a map as a single value")),
    }
    Ok(())
}

/// The message of a type with its own protobuf code (go-types `marshalers.tsv`).
fn custom_message(custom: Custom, json: &Value, path: &Path<'_>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    match custom {
        Custom::Time | Custom::MicroTime => {
            // The zero time (null) is an empty message; otherwise seconds
            // and nanos, both written (Time's nanos are 0: whole seconds).
            if let Some(text) = json.as_str() {
                let time: jiff::Timestamp = text
                    .parse()
                    .map_err(|e| error(path, format!("not a time: {e}")))?;
                let seconds = time.as_second();
                let nanos = if custom == Custom::MicroTime {
                    time.subsec_nanosecond() / 1000 * 1000
                } else {
                    0
                };
                write_varint_field(&mut out, 1, seconds as u64);
                write_varint_field(&mut out, 2, nanos as u64);
            }
        }
        Custom::Quantity => {
            let text = match json {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => "0".to_string(),
            };
            write_bytes(&mut out, 1, text.as_bytes());
        }
        Custom::IntOrString => {
            // Type, IntVal and StrVal are all written.
            let (kind, int, text) = match json {
                Value::String(s) => (1, 0, s.as_str()),
                Value::Number(n) => (0, n.as_i64().unwrap_or(0), ""),
                _ => (0, 0, ""),
            };
            write_varint_field(&mut out, 1, kind);
            write_varint_field(&mut out, 2, int as u64);
            write_bytes(&mut out, 3, text.as_bytes());
        }
        Custom::RawJson => {
            if !json.is_null() {
                let raw = serde_json::to_vec(json).map_err(|e| error(path, e.to_string()))?;
                write_bytes(&mut out, 1, &raw);
            }
        }
        Custom::Duration => {
            let text = json.as_str().unwrap_or("0s");
            let nanos = go_duration_nanos(text)
                .ok_or_else(|| error(path, format!("not a Go duration: {text}")))?;
            write_varint_field(&mut out, 1, nanos as u64);
        }
    }
    Ok(out)
}

/// Go's `time.ParseDuration` for the forms `Duration.String` writes.
fn go_duration_nanos(text: &str) -> Option<i64> {
    let (sign, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text),
    };
    if rest == "0" {
        return Some(0);
    }
    let mut total = 0.0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * unit;
    }
    Some((sign * total).round() as i64)
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn write_varint_field(out: &mut Vec<u8>, number: u32, value: u64) {
    write_varint(out, u64::from(number) << 3);
    write_varint(out, value);
}

fn write_bytes(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    write_varint(out, (u64::from(number) << 3) | 2);
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_their_go_messages() {
        for (api_version, kind, name) in [
            ("v1", "Pod", "k8s.io.api.core.v1.Pod"),
            ("apps/v1", "Deployment", "k8s.io.api.apps.v1.Deployment"),
            (
                "networking.k8s.io/v1",
                "IngressList",
                "k8s.io.api.networking.v1.IngressList",
            ),
            (
                "meta.k8s.io/v1",
                "PartialObjectMetadata",
                "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata",
            ),
            (
                "v1",
                "Status",
                "k8s.io.apimachinery.pkg.apis.meta.v1.Status",
            ),
            (
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler",
            ),
        ] {
            assert_eq!(
                message_name(api_version, kind),
                Some(name),
                "{api_version} {kind}"
            );
        }
    }

    #[test]
    fn go_durations_parse() {
        assert_eq!(go_duration_nanos("1h0m0s"), Some(3_600_000_000_000));
        assert_eq!(go_duration_nanos("1.5s"), Some(1_500_000_000));
        assert_eq!(go_duration_nanos("300ms"), Some(300_000_000));
        assert_eq!(go_duration_nanos("0s"), Some(0));
    }
}
