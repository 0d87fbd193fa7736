//! JSON values written as protobuf messages, by the schema (what the
//! simulated API server sends when a client asks for protobuf).

use base64::Engine;
use serde_json::Value;

use super::Error;
use super::schema::{MessageId, SCHEMA, Special, Type, normalize};
use super::wire::{write_bytes_field, write_varint_field};

pub(crate) fn encode(message: MessageId, value: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    write_message(message, value, &mut out, "")?;
    Ok(out)
}

fn write_message(id: MessageId, value: &Value, out: &mut Vec<u8>, path: &str) -> Result<(), Error> {
    let message = &SCHEMA.messages[id];
    if message.special != Special::None {
        return write_special(message.special, value, out, path);
    }
    let object = value
        .as_object()
        .ok_or_else(|| Error::new(format!("{path}: {} must be an object", message.name)))?;
    let mut present = present_fields(id, object, path)?;
    // By field number, as the API server writes them (the schema lists
    // fields in declaration order, which is not number order).
    present.sort_by_key(|(index, _, _)| message.fields[*index].tag);
    for (index, key, value) in present {
        let value = value.as_ref();
        let field = &message.fields[index];
        let path = format!("{path}.{key}");
        match (&field.ty, field.repeated) {
            (Type::Map(key_type, value_type), _) => {
                let map = value
                    .as_object()
                    .ok_or_else(|| Error::new(format!("{path}: a map must be an object")))?;
                // serde_json keeps keys sorted, as Go writes them.
                for (k, v) in map {
                    let mut entry = Vec::new();
                    write_value(key_type, &Value::String(k.clone()), 1, &mut entry, &path)?;
                    write_value(value_type, v, 2, &mut entry, &path)?;
                    write_bytes_field(out, field.tag, &entry);
                }
            }
            (ty, true) => {
                let items = value
                    .as_array()
                    .ok_or_else(|| Error::new(format!("{path}: a list must be an array")))?;
                for item in items {
                    write_value(ty, item, field.tag, out, &path)?;
                }
            }
            (ty, false) => write_value(ty, value, field.tag, out, &path)?,
        }
    }
    Ok(())
}

/// A message with a JSON form of its own: times, quantities, int-or-string,
/// raw JSON.
fn write_special(
    special: Special,
    value: &Value,
    out: &mut Vec<u8>,
    path: &str,
) -> Result<(), Error> {
    match special {
        Special::None => Ok(()),
        Special::Time | Special::MicroTime => {
            let text = value
                .as_str()
                .ok_or_else(|| Error::new(format!("{path}: a time must be a string")))?;
            let time: jiff::Timestamp = text
                .parse()
                .map_err(|e| Error::new(format!("{path}: {text:?}: {e}")))?;
            write_varint_field(out, 1, time.as_second() as u64);
            if time.subsec_nanosecond() != 0 {
                write_varint_field(out, 2, time.subsec_nanosecond() as u64);
            }
            Ok(())
        }
        Special::Quantity => {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(Error::new(format!("{path}: a quantity must be a string"))),
            };
            write_bytes_field(out, 1, text.as_bytes());
            Ok(())
        }
        Special::IntOrString => {
            match value {
                Value::Number(n) => {
                    write_varint_field(out, 1, 0);
                    write_varint_field(out, 2, n.as_i64().unwrap_or_default() as u64);
                }
                Value::String(s) => {
                    write_varint_field(out, 1, 1);
                    write_bytes_field(out, 3, s.as_bytes());
                }
                _ => return Err(Error::new(format!("{path}: int or string expected"))),
            }
            Ok(())
        }
        Special::RawJson => {
            let json = serde_json::to_vec(value).map_err(|e| Error::new(e.to_string()))?;
            write_bytes_field(out, 1, &json);
            Ok(())
        }
    }
}

/// A field present in an object: its index in the message, its JSON key,
/// its value (an embedded struct's gathered keys are a new object).
type Present<'a> = (usize, &'a str, std::borrow::Cow<'a, Value>);

/// An object's fields with their values, in JSON order; keys of embedded
/// structs (JSON inlines them, protobuf nests them) gathered per embedding
/// field. apiVersion and kind (TypeMeta) travel in the envelope, and not at
/// all in nested objects (a StatefulSet's volumeClaimTemplates).
fn present_fields<'a>(
    id: MessageId,
    object: &'a serde_json::Map<String, Value>,
    path: &str,
) -> Result<Vec<Present<'a>>, Error> {
    let message = &SCHEMA.messages[id];
    let mut present: Vec<Present<'_>> = Vec::with_capacity(object.len());
    let mut embedded: Vec<(usize, serde_json::Map<String, Value>)> = Vec::new();
    for (key, value) in object {
        if value.is_null() {
            continue;
        }
        let normalized = normalize(key);
        if let Some(index) = message.field_by_key(&normalized) {
            present.push((index, key, std::borrow::Cow::Borrowed(value)));
        } else if let Some(index) = embedding_field(id, &normalized, object, 0) {
            match embedded.iter_mut().find(|(i, _)| *i == index) {
                Some((_, map)) => {
                    map.insert(key.clone(), value.clone());
                }
                None => embedded.push((
                    index,
                    serde_json::Map::from_iter([(key.clone(), value.clone())]),
                )),
            }
        } else if !(key == "apiVersion" || key == "kind") {
            // apiVersion and kind (TypeMeta) travel in the envelope, and not at all in
            // nested objects (a StatefulSet's volumeClaimTemplates).
            return Err(Error::new(format!(
                "{path}.{key}: no such field in {}",
                message.name
            )));
        }
    }
    for (index, map) in embedded {
        let name = message.fields[index].name.as_str();
        present.push((index, name, std::borrow::Cow::Owned(Value::Object(map))));
    }
    Ok(present)
}

fn write_value(
    ty: &Type,
    value: &Value,
    tag: u32,
    out: &mut Vec<u8>,
    path: &str,
) -> Result<(), Error> {
    let wrong = |what: &str| Error::new(format!("{path}: {what} expected, found {value}"));
    match ty {
        Type::String => write_bytes_field(
            out,
            tag,
            value.as_str().ok_or_else(|| wrong("a string"))?.as_bytes(),
        ),
        Type::Bool => write_varint_field(
            out,
            tag,
            u64::from(value.as_bool().ok_or_else(|| wrong("a bool"))?),
        ),
        Type::Int32 | Type::Int64 => write_varint_field(
            out,
            tag,
            value.as_i64().ok_or_else(|| wrong("an integer"))? as u64,
        ),
        Type::Double => {
            let v = value.as_f64().ok_or_else(|| wrong("a number"))?;
            super::wire::write_varint(out, (u64::from(tag) << 3) | 1);
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        Type::Bytes => {
            let text = value.as_str().ok_or_else(|| wrong("base64 bytes"))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| Error::new(format!("{path}: {e}")))?;
            write_bytes_field(out, tag, &bytes);
        }
        Type::Message(id) => {
            let mut inner = Vec::new();
            write_message(*id, value, &mut inner, path)?;
            write_bytes_field(out, tag, &inner);
        }
        Type::Map(..) => return Err(wrong("no nested map")),
    }
    Ok(())
}

/// The field of message `id` that embeds a struct with a field `key`
/// (normalized): a singular message field the JSON object does not name.
fn embedding_field(
    id: MessageId,
    key: &str,
    object: &serde_json::Map<String, Value>,
    depth: usize,
) -> Option<usize> {
    if depth > 3 {
        return None;
    }
    let message = &SCHEMA.messages[id];
    message.fields.iter().position(|field| match &field.ty {
        Type::Message(inner)
            if !field.repeated
                && SCHEMA.messages[*inner].special == Special::None
                && !object
                    .keys()
                    .any(|k| normalize(k) == normalize(&field.name)) =>
        {
            SCHEMA.messages[*inner].field_by_key(key).is_some()
                || embedding_field(*inner, key, &serde_json::Map::new(), depth + 1).is_some()
        }
        _ => false,
    })
}
