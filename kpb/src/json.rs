//! The JSON the API server would have sent for an object it sent as
//! protobuf: fields named, ordered and left out by the Go types' rules
//! ([`crate::go_types`], the recorded `go-types/` table), not by what a
//! Rust type happens to hold.
//!
//! The Go server writes every non-pointer field in protobuf, zero values
//! and empty messages included, and leaves zero values of `omitempty`
//! fields out of its JSON; a decode into k8s-openapi's types and back
//! cannot tell `hostPID: false` on the wire from a field the JSON had.
//!
//! Protobuf's own rules hold at every level: an embedded message that
//! occurs more than once is merged (its occurrences read as one), the last
//! value of a scalar wins, unknown fields are skipped.

use std::fmt::Write as _;

use base64::Engine;

use crate::go_types::{Custom, GO_TYPES, GoField, GoMessage, GoType, When};
use crate::wire::{Raw, read_field, read_varint};
use crate::{Envelope, Error, MessageType};

/// The JSON of a whole `k8s\0` body: `kind` and `apiVersion` from its
/// envelope first, then the object's fields as the server writes them.
pub fn object_json(body: &[u8]) -> Result<Vec<u8>, Error> {
    let envelope = Envelope::parse(body)?;
    let mut out = Vec::with_capacity(envelope.raw.len() * 2);
    write_object(&mut out, &envelope)?;
    Ok(out)
}

/// The JSON of message `name` (a full protobuf name) in `bytes`.
pub fn message_json(name: &str, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let message = go_message(name)?;
    let mut out = Vec::with_capacity(bytes.len() * 2);
    write_message(&mut out, message, &[bytes], None)?;
    Ok(out)
}

fn go_message(name: &str) -> Result<&'static GoMessage, Error> {
    GO_TYPES
        .message_any_case(name)
        .ok_or_else(|| Error::new(format!("no Go type for {name}")))
}

fn write_object(out: &mut Vec<u8>, envelope: &Envelope<'_>) -> Result<(), Error> {
    let ty = MessageType::of(envelope.api_version, envelope.kind).ok_or_else(|| {
        Error::new(format!(
            "no protobuf schema for {}/{}",
            envelope.api_version, envelope.kind
        ))
    })?;
    let message = go_message(ty.name())?;
    write_message(
        out,
        message,
        &[envelope.raw],
        Some((envelope.kind, envelope.api_version)),
    )
}

/// One message: its occurrences on the wire (merged, as protobuf merges
/// a message sent more than once), and the `kind` and `apiVersion` to put
/// first when JSON has them and protobuf does not.
fn write_message(
    out: &mut Vec<u8>,
    message: &GoMessage,
    segments: &[&[u8]],
    type_meta: Option<(&str, &str)>,
) -> Result<(), Error> {
    let wire = Wire::read(segments)?;
    if message.unwrapped {
        let field = &message.fields[0];
        let values = wire.values(field.number.unwrap_or(0));
        return write_list(out, &field.ty, &values, None).map(drop);
    }
    out.push(b'{');
    let mut first = true;
    if let Some((kind, api_version)) = type_meta {
        out.extend_from_slice(b"\"kind\":");
        write_str(out, kind);
        out.extend_from_slice(b",\"apiVersion\":");
        write_str(out, api_version);
        first = false;
    }
    fill(out, message, &wire, &mut first)?;
    out.push(b'}');
    Ok(())
}

/// The fields of a message (or of several occurrences of it), in wire order.
struct Wire<'a> {
    fields: Vec<(u32, Raw<'a>)>,
}

impl<'a> Wire<'a> {
    fn read(segments: &[&'a [u8]]) -> Result<Wire<'a>, Error> {
        let mut fields = Vec::new();
        for segment in segments {
            let mut pos = 0;
            while pos < segment.len() {
                fields.push(read_field(segment, &mut pos)?);
            }
        }
        Ok(Wire { fields })
    }

    fn values(&self, number: u32) -> Vec<Raw<'a>> {
        self.fields
            .iter()
            .filter(|(n, _)| *n == number)
            .map(|(_, raw)| *raw)
            .collect()
    }
}

/// Write the fields of `message` into the object being written.
fn fill(
    out: &mut Vec<u8>,
    message: &GoMessage,
    wire: &Wire<'_>,
    first: &mut bool,
) -> Result<(), Error> {
    for field in &message.fields {
        let Some(number) = field.number else {
            continue; // untagged (TypeMeta): not on the wire
        };
        let values = wire.values(number);
        match field.when {
            When::Never | When::Unwrapped => continue,
            When::Inline => {
                let GoType::Message(id) = &field.ty else {
                    return Err(Error::new(format!(
                        "inline {} is not a message",
                        field.json_name
                    )));
                };
                let segments = segments_of(&values)?;
                let inner = Wire::read(&segments)?;
                fill(out, message_at(*id), &inner, first)?;
                continue;
            }
            _ => {}
        }
        let start = out.len();
        if !*first {
            out.push(b',');
        }
        write_str(out, &field.json_name);
        out.push(b':');
        let present = !values.is_empty();
        if !present && matches!(field.when, When::NullIfUnset | When::NullIfNil) {
            out.extend_from_slice(b"null");
            *first = false;
            continue;
        }
        let zero = if let GoType::Map(key, value) = &field.ty {
            write_map(out, key, value, &values)?
        } else if field.repeated {
            let meta = volume_claim_template(message, field);
            write_list(out, &field.ty, &values, meta)?
        } else {
            write_value(out, &field.ty, &values)?
        };
        let keep = match field.when {
            When::Always | When::ByMarshalJson | When::NullIfUnset | When::NullIfNil => true,
            When::IfNonzero | When::IfNotIsZero => !zero,
            When::IfSet => present,
            When::IfNonempty => present && !zero,
            When::Inline | When::Never | When::Unwrapped => false,
        };
        if keep {
            *first = false;
        } else {
            out.truncate(start);
        }
    }
    Ok(())
}

fn message_at(id: usize) -> &'static GoMessage {
    &GO_TYPES.messages[id]
}

/// The API server's apps conversion gives each StatefulSet
/// `volumeClaimTemplates[i]` `kind: PersistentVolumeClaim, apiVersion: v1`
/// (go-types README, "Beyond the tags", 3).
fn volume_claim_template(
    message: &GoMessage,
    field: &GoField,
) -> Option<(&'static str, &'static str)> {
    (message.name.starts_with("k8s.io.api.apps.")
        && message.name.ends_with(".StatefulSetSpec")
        && field.json_name == "volumeClaimTemplates")
        .then_some(("PersistentVolumeClaim", "v1"))
}

fn segments_of<'a>(values: &[Raw<'a>]) -> Result<Vec<&'a [u8]>, Error> {
    values
        .iter()
        .map(|raw| match raw {
            Raw::Bytes(bytes) => Ok(*bytes),
            _ => Err(Error::new("a message that is not length-delimited")),
        })
        .collect()
}

/// A list: `[…]`, or `null` when empty (the caller decides what an empty
/// list prints). Returns whether it is empty.
fn write_list(
    out: &mut Vec<u8>,
    ty: &GoType,
    values: &[Raw<'_>],
    type_meta: Option<(&str, &str)>,
) -> Result<bool, Error> {
    out.push(b'[');
    let mut count = 0;
    for raw in values {
        let packed = matches!(ty, GoType::Bool | GoType::Int32 | GoType::Int64);
        if let (true, Raw::Bytes(bytes)) = (packed, raw) {
            let mut pos = 0;
            while pos < bytes.len() {
                if count > 0 {
                    out.push(b',');
                }
                write_value(out, ty, &[Raw::Varint(read_varint(bytes, &mut pos)?)])?;
                count += 1;
            }
            continue;
        }
        if count > 0 {
            out.push(b',');
        }
        match (ty, type_meta) {
            (GoType::Message(id), Some(meta)) => {
                write_message(out, message_at(*id), &[bytes_of(*raw)?], Some(meta))?
            }
            _ => {
                write_value(out, ty, std::slice::from_ref(raw))?;
            }
        }
        count += 1;
    }
    out.push(b']');
    Ok(count == 0)
}

/// A map: keys sorted bytewise, as `encoding/json` sorts them. Returns
/// whether it is empty.
fn write_map(
    out: &mut Vec<u8>,
    key: &GoType,
    value: &GoType,
    entries: &[Raw<'_>],
) -> Result<bool, Error> {
    let mut pairs: Vec<(String, Raw<'_>)> = Vec::with_capacity(entries.len());
    for entry in entries {
        let bytes = bytes_of(*entry)?;
        let (mut k, mut v) = (None, None);
        let mut pos = 0;
        while pos < bytes.len() {
            match read_field(bytes, &mut pos)? {
                (1, raw) => k = Some(raw),
                (2, raw) => v = Some(raw),
                _ => {}
            }
        }
        let k = match (key, k) {
            (GoType::String, Some(raw)) => str_of(raw)?.to_string(),
            (GoType::String, None) => String::new(),
            (other, _) => return Err(Error::new(format!("map key of type {other:?}"))),
        };
        let v = v.unwrap_or_else(|| zero_raw(value));
        match pairs.iter_mut().find(|(existing, _)| *existing == k) {
            Some(pair) => pair.1 = v, // a key sent twice: the last wins
            None => pairs.push((k, v)),
        }
    }
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push(b'{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, value, std::slice::from_ref(v))?;
    }
    out.push(b'}');
    Ok(pairs.is_empty())
}

/// The wire value of a field that is not on the wire.
fn zero_raw(ty: &GoType) -> Raw<'static> {
    match ty {
        GoType::Bool | GoType::Int32 | GoType::Int64 => Raw::Varint(0),
        GoType::Double => Raw::Fixed64(0),
        _ => Raw::Bytes(&[]),
    }
}

/// One value of a singular field, from its occurrences on the wire (none:
/// the zero value). Returns whether it is zero (`false`, `0`, `""`, `null`).
fn write_value(out: &mut Vec<u8>, ty: &GoType, values: &[Raw<'_>]) -> Result<bool, Error> {
    let last = values.last().copied().unwrap_or_else(|| zero_raw(ty));
    Ok(match ty {
        GoType::Bool => {
            let v = varint_of(last)? != 0;
            out.extend_from_slice(if v { b"true" } else { b"false" });
            !v
        }
        GoType::Int32 => {
            let v = varint_of(last)? as i32;
            let _ = write!(Fmt(out), "{v}");
            v == 0
        }
        GoType::Int64 => {
            let v = varint_of(last)? as i64;
            let _ = write!(Fmt(out), "{v}");
            v == 0
        }
        GoType::Double => {
            let Raw::Fixed64(bits) = last else {
                return Err(Error::new("expected a double"));
            };
            let v = f64::from_bits(bits);
            serde_json::to_writer(&mut *out, &v).map_err(|e| Error::new(e.to_string()))?;
            v == 0.0
        }
        GoType::String => {
            let v = str_of(last)?;
            write_str(out, v);
            v.is_empty()
        }
        GoType::Bytes => {
            let v = bytes_of(last)?;
            write_str(out, &base64::engine::general_purpose::STANDARD.encode(v));
            v.is_empty()
        }
        GoType::Message(id) => {
            let segments = segments_of(values)?;
            write_message(out, message_at(*id), &segments, None)?;
            false
        }
        GoType::Custom(custom) => write_custom(out, *custom, values)?,
        GoType::Unknown(name) => return Err(Error::new(format!("no Go type for {name}"))),
        GoType::Map(..) => return Err(Error::new("a map as a single value")),
    })
}

/// Types with their own `MarshalJSON` (go-types `marshalers.tsv`).
fn write_custom(out: &mut Vec<u8>, custom: Custom, values: &[Raw<'_>]) -> Result<bool, Error> {
    let segments = segments_of(values)?;
    let wire = Wire::read(&segments)?;
    let last = |number: u32| wire.values(number).last().copied();
    let int = |number: u32| -> Result<i64, Error> {
        last(number).map_or(Ok(0), |raw| Ok(varint_of(raw)? as i64))
    };
    Ok(match custom {
        Custom::Time | Custom::MicroTime => {
            // The zero time is an empty message, and prints null.
            if segments.iter().all(|s| s.is_empty()) {
                out.extend_from_slice(b"null");
                return Ok(true);
            }
            let seconds = int(1)?;
            let nanos = if custom == Custom::MicroTime {
                int(2)? as i32
            } else {
                0
            };
            let time = jiff::Timestamp::new(seconds, nanos.clamp(0, 999_999_999))
                .map_err(|e| Error::new(format!("time out of range: {e}")))?;
            let t = jiff::tz::Offset::UTC.to_datetime(time);
            out.push(b'"');
            let _ = write!(
                Fmt(out),
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
            if custom == Custom::MicroTime {
                let _ = write!(Fmt(out), ".{:06}", t.subsec_nanosecond() / 1000);
            }
            out.extend_from_slice(b"Z\"");
            false
        }
        Custom::Quantity => {
            let text = match last(1) {
                Some(raw) => str_of(raw)?,
                None => "0",
            };
            write_str(out, text);
            false
        }
        Custom::IntOrString => {
            if int(1)? == 1 {
                let text = match last(3) {
                    Some(raw) => str_of(raw)?,
                    None => "",
                };
                write_str(out, text);
                text.is_empty()
            } else {
                let v = int(2)? as i32;
                let _ = write!(Fmt(out), "{v}");
                v == 0
            }
        }
        Custom::RawJson => {
            let raw = match last(1) {
                Some(raw) => bytes_of(raw)?,
                None => &[],
            };
            if raw.is_empty() {
                out.extend_from_slice(b"null");
                return Ok(true);
            }
            if raw.starts_with(crate::MAGIC) {
                // An object in protobuf (a watch event's): its JSON.
                write_object(out, &Envelope::parse(raw)?)?;
            } else {
                let value: serde_json::Value = serde_json::from_slice(raw)
                    .map_err(|e| Error::new(format!("raw JSON: {e}")))?;
                serde_json::to_writer(&mut *out, &value).map_err(|e| Error::new(e.to_string()))?;
            }
            false
        }
        Custom::Duration => {
            let nanos = int(1)?;
            write_str(out, &go_duration(nanos));
            false
        }
    })
}

/// Go's `time.Duration.String()`: `1h0m0s`, `1.5s`, `300ms`, `0s`.
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let fraction = |value: u64, unit: u64| -> String {
        let whole = value / unit;
        let rest = value % unit;
        if rest == 0 {
            return whole.to_string();
        }
        let digits = unit.ilog10() as usize;
        let text = format!("{rest:0digits$}");
        format!("{whole}.{}", text.trim_end_matches('0'))
    };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}µs", fraction(n, 1_000));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}ms", fraction(n, 1_000_000));
    }
    let seconds = n / 1_000_000_000;
    let sub = n % 1_000_000_000;
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let s = fraction(s * 1_000_000_000 + sub, 1_000_000_000);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    // serde_json writes valid JSON string escapes; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

fn varint_of(raw: Raw<'_>) -> Result<u64, Error> {
    match raw {
        Raw::Varint(v) => Ok(v),
        _ => Err(Error::new("expected a varint")),
    }
}

fn bytes_of(raw: Raw<'_>) -> Result<&[u8], Error> {
    match raw {
        Raw::Bytes(bytes) => Ok(bytes),
        _ => Err(Error::new("expected length-delimited bytes")),
    }
}

fn str_of(raw: Raw<'_>) -> Result<&str, Error> {
    std::str::from_utf8(bytes_of(raw)?).map_err(|_| Error::new("string is not UTF-8"))
}

/// `write!` into a byte vector.
struct Fmt<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Fmt<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's `time.Duration.String` outputs, from its documentation and tests.
    #[test]
    fn durations_print_as_go_prints_them() {
        for (nanos, text) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (4 * 60_000_000_000 + 5_000_000_000, "4m5s"),
            (4 * 60_000_000_000 + 5_001_000_000, "4m5.001s"),
            (
                5 * 3_600_000_000_000 + 6 * 60_000_000_000 + 7_001_000_000,
                "5h6m7.001s",
            ),
            (8 * 60_000_000_000 + 1, "8m0.000000001s"),
            (3_600_000_000_000, "1h0m0s"),
            (-1_000_000_000, "-1s"),
        ] {
            assert_eq!(go_duration(nanos), text, "{nanos} ns");
        }
    }
}
