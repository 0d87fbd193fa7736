//! What a decoder written for one type needs to read protobuf without
//! going through serde: the wire (fields and their raw values) and the
//! schema (which field a tag is, whether JSON would leave it out, whether
//! a pruning leaves it out), and the serde path for any value it does not
//! decode itself.
//!
//! The serde deserializer (`de.rs`) serves every type; a direct decoder
//! (the daemon's, for pods) serves one type faster: no visitor per field,
//! no field names matched as strings, no `Option` per field built then
//! moved into the struct.

use serde::de::DeserializeOwned;

use super::schema::{Field, Message, SCHEMA, Type};
use super::{Error, Pruning, de};

pub use super::wire::{Raw, read_field, read_varint};

/// The fields of a message of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields(&'static Message);

impl Fields {
    /// The message of a full protobuf name (`k8s.io.api.core.v1.PodSpec`).
    pub fn named(name: &str) -> Option<Fields> {
        SCHEMA.message(name).map(|id| Fields(&SCHEMA.messages[id]))
    }

    /// The field with number `tag`; None for a field newer than the schema.
    #[inline]
    pub fn get(self, tag: u32) -> Option<FieldInfo> {
        self.0
            .field_by_tag(tag)
            .map(|index| FieldInfo(&self.0.fields[index]))
    }

    /// Every field: (number, protobuf name, the message it holds if any).
    pub fn list(self) -> impl Iterator<Item = (u32, &'static str, Option<&'static str>)> {
        self.0.fields.iter().map(|field| {
            let message = match &field.ty {
                Type::Message(id) => Some(SCHEMA.messages[*id].name.as_str()),
                _ => None,
            };
            (field.tag, field.name.as_str(), message)
        })
    }
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
pub struct FieldInfo(&'static Field);

impl FieldInfo {
    /// Whether a decode that gives what the JSON form gives leaves this
    /// value out: a field no decode builds (`metadata.managedFields`), an
    /// empty string or zero time Go writes where JSON omits it, or a field
    /// `pruning` leaves out.
    #[inline]
    pub fn left_out(self, raw: Raw<'_>, pruning: Option<&Pruning>) -> bool {
        self.0.skip
            || (!self.0.repeated && self.0.json_absent(raw))
            || pruning.is_some_and(|pruning| pruning.left_out[self.0.id])
    }

    /// The type of the field's values (of a map's values, for a map).
    #[inline]
    pub fn value_type(self) -> ValueType {
        match &self.0.ty {
            Type::Map(_, value) => ValueType(value),
            ty => ValueType(ty),
        }
    }
}

/// The type of a value on the wire.
#[derive(Debug, Clone, Copy)]
pub struct ValueType(&'static Type);

impl ValueType {
    /// Decode one value through the serde deserializer, as
    /// [`super::decode`] does a whole message.
    pub fn decode_serde<T: DeserializeOwned>(
        self,
        raw: Raw<'_>,
        pruning: Option<&'static Pruning>,
    ) -> Result<T, Error> {
        let decode = || {
            super::streaming_or_canonical(self.0, raw, |raw| {
                T::deserialize(de::ValueDe { ty: self.0, raw })
            })
        };
        match pruning {
            Some(pruning) => de::pruned(&pruning.left_out, decode),
            None => decode(),
        }
    }
}

/// `{1: seconds, 2: nanos}`, a `Time` or `MicroTime` on the wire.
pub fn timestamp(bytes: &[u8]) -> Result<(i64, i32), Error> {
    let (mut seconds, mut nanos) = (0i64, 0i32);
    let mut pos = 0;
    while pos < bytes.len() {
        match read_field(bytes, &mut pos)? {
            (1, Raw::Varint(v)) => seconds = v as i64,
            (2, Raw::Varint(v)) => nanos = v as i32,
            _ => {}
        }
    }
    Ok((seconds, nanos))
}

/// `resource.Quantity {1: string}`: the quantity's text.
pub fn quantity(message: &[u8]) -> Result<&str, Error> {
    let mut value = "";
    let mut pos = 0;
    while pos < message.len() {
        if let (1, raw) = read_field(message, &mut pos)? {
            value = string(raw)?;
        }
    }
    Ok(value)
}

/// An `intstr.IntOrString` as it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrStr<'a> {
    Int(i32),
    Str(&'a str),
}

/// `intstr.IntOrString {1: type (1: string), 2: intVal, 3: strVal}`.
pub fn int_or_string(message: &[u8]) -> Result<IntOrStr<'_>, Error> {
    let (mut kind, mut int, mut text) = (0, 0, "");
    let mut pos = 0;
    while pos < message.len() {
        match read_field(message, &mut pos)? {
            (1, raw) => kind = varint(raw)?,
            (2, raw) => int = varint(raw)? as i32,
            (3, raw) => text = string(raw)?,
            _ => {}
        }
    }
    Ok(if kind == 1 {
        IntOrStr::Str(text)
    } else {
        IntOrStr::Int(int)
    })
}

/// A value that should be length-delimited (a string, bytes, a message).
#[inline]
pub fn bytes(raw: Raw<'_>) -> Result<&[u8], Error> {
    match raw {
        Raw::Bytes(bytes) => Ok(bytes),
        _ => Err(Error::new("expected length-delimited bytes")),
    }
}

/// A value that should be a varint.
#[inline]
pub fn varint(raw: Raw<'_>) -> Result<u64, Error> {
    match raw {
        Raw::Varint(value) => Ok(value),
        _ => Err(Error::new("expected a varint")),
    }
}

/// A string value.
#[inline]
pub fn string(raw: Raw<'_>) -> Result<&str, Error> {
    std::str::from_utf8(bytes(raw)?).map_err(|_| Error::new("string is not UTF-8"))
}

/// An error with this message.
pub fn error(message: impl Into<String>) -> Error {
    Error::new(message)
}

/// Test-only: arbitrary messages (behind the `test-util` feature).
#[cfg(any(test, feature = "test-util"))]
mod arbitrary {
    use super::*;
    use crate::schema::{Message, SCHEMA, Special, Type};

    /// A message of type `name` with every field set, to test a decoder
    /// against the serde bridge on fields no recording has: lists and maps
    /// get one or two values, strings are sometimes empty (JSON's omission),
    /// repeated numbers are sometimes packed, and some messages have their
    /// fields in reverse order. Messages nested deeper than `depth` are left
    /// out. None if the schema has no such message.
    pub fn arbitrary(name: &str, seed: u64, depth: usize) -> Option<Vec<u8>> {
        let id = SCHEMA.message(name)?;
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut out = Vec::new();
        arbitrary_message(&SCHEMA.messages[id], &mut rng, depth, &mut out);
        Some(out)
    }

    /// xorshift64: tests need variety and repeatability, not quality.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn arbitrary_message(message: &Message, rng: &mut Rng, depth: usize, out: &mut Vec<u8>) {
        use crate::wire::{write_bytes_field, write_varint, write_varint_field};
        let mut fields: Vec<&Field> = message.fields.iter().collect();
        if rng.below(4) == 0 {
            fields.reverse();
        }
        for field in fields {
            let many = field.repeated || matches!(field.ty, Type::Map(..));
            let count = if many { 1 + rng.below(2) } else { 1 };
            let numeric = matches!(field.ty, Type::Bool | Type::Int32 | Type::Int64);
            if field.repeated && numeric && rng.below(2) == 0 {
                let mut packed = Vec::new();
                for _ in 0..count {
                    write_varint(&mut packed, arbitrary_varint(&field.ty, rng));
                }
                write_bytes_field(out, field.tag, &packed);
                continue;
            }
            for _ in 0..count {
                match &field.ty {
                    Type::Map(key, value) => {
                        let mut entry = Vec::new();
                        arbitrary_value(1, key, rng, depth, &mut entry);
                        arbitrary_value(2, value, rng, depth, &mut entry);
                        write_bytes_field(out, field.tag, &entry);
                    }
                    ty => arbitrary_value(field.tag, ty, rng, depth, out),
                }
            }
        }
        // A field number the schema does not have: a newer server's field.
        if rng.below(8) == 0 {
            write_varint_field(out, 999, 1);
        }
    }

    fn arbitrary_varint(ty: &Type, rng: &mut Rng) -> u64 {
        match ty {
            Type::Bool => rng.below(2),
            // Negative int32s travel sign-extended to ten bytes.
            Type::Int32 => i64::from(rng.below(1 << 20) as i32 - (1 << 19)) as u64,
            _ => rng.below(1 << 40).wrapping_sub(1 << 39),
        }
    }

    fn arbitrary_value(tag: u32, ty: &Type, rng: &mut Rng, depth: usize, out: &mut Vec<u8>) {
        use crate::wire::{write_bytes_field, write_varint, write_varint_field};
        match ty {
            Type::String => {
                let len = [0, 1, 5, 12][rng.below(4) as usize];
                let text: String = (0..len)
                    .map(|_| char::from(b"abcxyz-.0123/"[rng.below(13) as usize]))
                    .collect();
                write_bytes_field(out, tag, text.as_bytes());
            }
            Type::Bool | Type::Int32 | Type::Int64 => {
                write_varint_field(out, tag, arbitrary_varint(ty, rng));
            }
            Type::Double => {
                write_varint(out, (u64::from(tag) << 3) | 1);
                let value = rng.below(1000) as f64 / 8.0;
                out.extend_from_slice(&value.to_bits().to_le_bytes());
            }
            Type::Bytes => {
                let bytes: Vec<u8> = (0..rng.below(6)).map(|_| rng.next() as u8).collect();
                write_bytes_field(out, tag, &bytes);
            }
            Type::Map(..) => {}
            Type::Message(id) => {
                let message = &SCHEMA.messages[*id];
                let mut inner = Vec::new();
                match message.special {
                    Special::Time | Special::MicroTime => {
                        // Sometimes the zero time Go writes where JSON has null.
                        if rng.below(6) != 0 {
                            write_varint_field(&mut inner, 1, rng.below(4_000_000_000));
                            write_varint_field(&mut inner, 2, rng.below(1_000_000_000));
                        }
                    }
                    Special::Quantity => {
                        let value = ["1", "250m", "1Gi", "0.5", ""][rng.below(5) as usize];
                        write_bytes_field(&mut inner, 1, value.as_bytes());
                    }
                    Special::IntOrString => {
                        write_varint_field(&mut inner, 1, rng.below(2));
                        write_varint_field(&mut inner, 2, arbitrary_varint(&Type::Int32, rng));
                        write_bytes_field(&mut inner, 3, b"http");
                    }
                    Special::RawJson => {
                        write_bytes_field(&mut inner, 1, br#"{"f:spec":{"a":[1,"x"]}}"#);
                    }
                    Special::None if depth == 0 => return,
                    Special::None => arbitrary_message(message, rng, depth - 1, &mut inner),
                }
                write_bytes_field(out, tag, &inner);
            }
        }
    }
}

#[cfg(any(test, feature = "test-util"))]
pub use arbitrary::arbitrary;
