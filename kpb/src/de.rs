//! A serde `Deserializer` over protobuf bytes, driven by the schema: any
//! type that deserializes from the Kubernetes JSON form (k8s-openapi's)
//! deserializes from the protobuf form with it, so one projection per kind
//! serves both encodings.
//!
//! Field names come from the target: serde hands `deserialize_struct` the
//! JSON names it knows, and those are matched to protobuf fields by their
//! normalized form (`podIPs` ~ `pod_ips`), once per type and thread.
//!
//! Go's protobuf writes fields JSON leaves out: empty strings (`omitempty`)
//! and zero times (`null` in JSON) are skipped here so the decoded object
//! is the one the JSON would give. `metadata.managedFields` is skipped
//! without being decoded.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use base64::Engine;
use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::direct::{bytes, varint};
use super::schema::{Field, Message, MessageId, SCHEMA, Special, Type, normalize};
use super::wire::{Raw, read_field, read_varint};
use super::{Error, direct};

/// A message of type `message` in `bytes`.
pub(crate) struct MessageDe<'de> {
    pub(crate) message: MessageId,
    pub(crate) bytes: &'de [u8],
}

/// How the fields of a message meet a target type's field list.
#[derive(Debug)]
enum Slot {
    /// The target's JSON name of the field.
    Named(&'static str),
    /// Go embeds this struct (`json:",inline"`): JSON has its fields in the
    /// parent, protobuf nests them (`Probe.handler`, `Volume.volumeSource`,
    /// `SecretKeySelector.localObjectReference`…).
    Inline(MessageId, Plan),
    /// The target has no such field.
    Skip,
}

/// Made once per (message, target type) for the whole process and kept:
/// there are as many as the types decoded (a few hundred at most).
type Plan = &'static [Slot];

/// Plans are looked up for every message decoded: a multiplicative hash
/// of the (message, field list address) key, not SipHash.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type Plans = HashMap<(MessageId, usize, usize), Plan, std::hash::BuildHasherDefault<KeyHasher>>;

/// Every plan made, by (message, the target's field list).
static ALL_PLANS: LazyLock<Mutex<Plans>> = LazyLock::new(Mutex::default);

thread_local! {
    /// The plans this thread has used, looked up without a lock.
    static PLANS: RefCell<Plans> = RefCell::new(Plans::default());
}

fn plan_for(message: MessageId, fields: &'static [&'static str]) -> Plan {
    let key = (message, fields.as_ptr() as usize, fields.len());
    if let Some(plan) = PLANS.with_borrow(|plans| plans.get(&key).copied()) {
        return plan;
    }
    let plan = *ALL_PLANS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(key)
        .or_insert_with(|| make_plan(message, fields));
    PLANS.with_borrow_mut(|plans| plans.insert(key, plan));
    plan
}

fn make_plan(message: MessageId, fields: &'static [&'static str]) -> Plan {
    let message = &SCHEMA.messages[message];
    let mut slots: Vec<Slot> = (0..message.fields.len()).map(|_| Slot::Skip).collect();
    for name in fields {
        if let Some(index) = message.field_by_key(&normalize(name)) {
            slots[index] = Slot::Named(name);
        }
    }
    // Go embeds some messages (`json:",inline"`): their fields are the
    // parent's in JSON, so the target names them, not the message.
    for (index, field) in message.fields.iter().enumerate() {
        if let (Slot::Skip, Type::Message(id), true) = (&slots[index], &field.ty, field.inline) {
            let inner = make_plan(*id, fields);
            if inner.iter().any(|slot| !matches!(slot, Slot::Skip)) {
                slots[index] = Slot::Inline(*id, inner);
            }
        }
    }
    Vec::leak(slots)
}

/// lowerCamel of a protobuf name, for targets without a field list
/// (`serde_json::Value`).
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

thread_local! {
    /// Set while an object is decoded pruned: by field id, the fields to
    /// leave out as if the message had no such field.
    static PRUNED: Cell<Option<&'static [bool]>> = const { Cell::new(None) };
}

/// Run `decode` with the fields `pruned` marks left out.
pub(crate) fn pruned<T>(pruned: &'static [bool], decode: impl FnOnce() -> T) -> T {
    struct Restore(Option<&'static [bool]>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PRUNED.set(self.0);
        }
    }
    let _restore = Restore(PRUNED.replace(Some(pruned)));
    decode()
}

impl<'de> MessageDe<'de> {
    fn fields(self, plan: Option<Plan>) -> Result<Fields<'de>, Error> {
        Ok(Fields {
            stream: Stream::new(self, plan),
            current: None,
        })
    }
}

/// One message being read in place: the root, or an embedded message
/// whose fields JSON has in the parent.
struct Level<'de> {
    message: &'static Message,
    bytes: &'de [u8],
    pos: usize,
    plan: Option<Plan>,
    last_tag: u32,
}

/// A message's fields read in wire order without collecting them: each
/// field's values are one run of consecutive fields with its tag, which
/// is how Go writes them (in field-number order, each singular field
/// once). Anything else is `Error::not_canonical`, and the object is
/// decoded again from its canonical form (`crate::canonical`).
struct Stream<'de> {
    /// Fields left out by id (a pruned decode).
    pruned: Option<&'static [bool]>,
    root: Level<'de>,
    /// Embedded messages being read inside the root, innermost last.
    embedded: Vec<Level<'de>>,
}

/// A field's values, and the target's name for it (None: the lowerCamel
/// protobuf name).
type Next<'de> = (&'static Field, Option<&'static str>, Run<'de>);

impl<'de> Stream<'de> {
    fn new(message: MessageDe<'de>, plan: Option<Plan>) -> Stream<'de> {
        Stream {
            pruned: PRUNED.get(),
            root: Level {
                message: &SCHEMA.messages[message.message],
                bytes: message.bytes,
                pos: 0,
                plan,
                last_tag: 0,
            },
            embedded: Vec::new(),
        }
    }

    fn next(&mut self) -> Result<Option<Next<'de>>, Error> {
        loop {
            let level = match self.embedded.last_mut() {
                Some(level) => level,
                None => &mut self.root,
            };
            if level.pos >= level.bytes.len() {
                if self.embedded.pop().is_some() {
                    continue;
                }
                return Ok(None);
            }
            let start = level.pos;
            let (tag, raw) = read_field(level.bytes, &mut level.pos)?;
            let found = level.message.field_by_tag(tag);
            if tag < level.last_tag || (tag == level.last_tag && found.is_some()) {
                // A known field's run is read whole below, so a tag below
                // the last one is out of order and an equal one a repeat.
                return Err(Error {
                    message: format!("field {tag} after field {}", level.last_tag),
                    not_canonical: true,
                });
            }
            level.last_tag = tag;
            let Some(index) = found else {
                continue; // a field newer than the schema
            };
            let field = &level.message.fields[index];
            let mut last = raw;
            if field.repeated || matches!(field.ty, Type::Map(..)) {
                while level.pos < level.bytes.len() {
                    let mut pos = level.pos;
                    let (next, raw) = read_field(level.bytes, &mut pos)?;
                    if next != tag {
                        break;
                    }
                    (last, level.pos) = (raw, pos);
                }
            } else if field.json_absent(raw) {
                continue;
            }
            if field.skip || self.pruned.is_some_and(|pruned| pruned[field.id]) {
                continue;
            }
            let name = match level.plan.map(|plan| &plan[index]) {
                None => None,
                Some(Slot::Named(name)) => Some(*name),
                Some(Slot::Skip) => continue,
                Some(Slot::Inline(id, inner)) => {
                    let Raw::Bytes(bytes) = raw else { continue };
                    let inner = Level {
                        message: &SCHEMA.messages[*id],
                        bytes,
                        pos: 0,
                        plan: Some(*inner),
                        last_tag: 0,
                    };
                    self.embedded.push(inner);
                    continue;
                }
            };
            let bytes = &level.bytes[start..level.pos];
            return Ok(Some((field, name, Run { bytes, last })));
        }
    }
}

/// A message's fields as a serde map: all values of one field are one entry.
struct Fields<'de> {
    stream: Stream<'de>,
    /// The values of the key handed out last.
    current: Option<(&'static Field, Run<'de>)>,
}

impl<'de> MapAccess<'de> for Fields<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((field, name, values)) = self.stream.next()? else {
            return Ok(None);
        };
        self.current = Some((field, values));
        match name {
            Some(name) => seed
                .deserialize(BorrowedStrDeserializer::<Error>::new(name))
                .map(Some),
            None => seed
                .deserialize(StringDeserializer::<Error>::new(camel(&field.name)))
                .map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (field, values) = self
            .current
            .ok_or_else(|| Error::new("a value asked for before its key"))?;
        seed.deserialize(FieldDe { field, values })
    }
}

/// Consecutive fields with one tag on the wire, and the last one's value.
#[derive(Debug, Clone, Copy)]
struct Run<'de> {
    bytes: &'de [u8],
    last: Raw<'de>,
}

/// The values of one field, one by one.
struct Raws<'de> {
    bytes: &'de [u8],
    pos: usize,
}

impl<'de> Raws<'de> {
    #[inline]
    fn next(&mut self) -> Result<Option<Raw<'de>>, Error> {
        if self.pos >= self.bytes.len() {
            return Ok(None);
        }
        read_field(self.bytes, &mut self.pos).map(|(_, raw)| Some(raw))
    }
}

/// All values of one field.
struct FieldDe<'de> {
    field: &'static Field,
    values: Run<'de>,
}

impl<'de> FieldDe<'de> {
    #[inline]
    fn single(&self) -> ValueDe<'de> {
        ValueDe {
            ty: &self.field.ty,
            raw: self.values.last,
        }
    }

    #[inline]
    fn raws(&self) -> Raws<'de> {
        Raws {
            bytes: self.values.bytes,
            pos: 0,
        }
    }

    #[inline]
    fn many(&self) -> bool {
        self.field.repeated || matches!(self.field.ty, Type::Map(..))
    }
}

impl<'de> de::Deserializer<'de> for FieldDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.field.ty {
            Type::Map(key, value) => visitor.visit_map(MapEntries {
                key,
                value,
                raws: self.raws(),
                pending: None,
            }),
            ty if self.field.repeated => visitor.visit_seq(Elements {
                ty,
                raws: self.raws(),
                packed: None,
            }),
            _ => self.single().deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.many() {
            self.deserialize_any(visitor)
        } else {
            self.single().deserialize_struct(name, fields, visitor)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.many() {
            visitor.visit_newtype_struct(self)
        } else {
            self.single().deserialize_newtype_struct(name, visitor)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.single().deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map
        identifier ignored_any
    }
}

/// The elements of a repeated field (packed or not).
struct Elements<'de> {
    ty: &'static Type,
    raws: Raws<'de>,
    /// A packed run of varints being read, and the position in it.
    packed: Option<(&'de [u8], usize)>,
}

impl<'de> SeqAccess<'de> for Elements<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        loop {
            if let Some((bytes, pos)) = &mut self.packed {
                if *pos < bytes.len() {
                    let value = read_varint(bytes, pos)?;
                    return seed
                        .deserialize(ValueDe {
                            ty: self.ty,
                            raw: Raw::Varint(value),
                        })
                        .map(Some);
                }
                self.packed = None;
            }
            let Some(raw) = self.raws.next()? else {
                return Ok(None);
            };
            let numeric = matches!(self.ty, Type::Bool | Type::Int32 | Type::Int64);
            if let (true, Raw::Bytes(bytes)) = (numeric, raw) {
                self.packed = Some((bytes, 0));
                continue;
            }
            return seed.deserialize(ValueDe { ty: self.ty, raw }).map(Some);
        }
    }
}

/// The entries of a map field: each value is a message {1: key, 2: value}.
struct MapEntries<'de> {
    key: &'static Type,
    value: &'static Type,
    raws: Raws<'de>,
    pending: Option<Raw<'de>>,
}

fn default_raw(ty: &Type) -> Raw<'static> {
    match ty {
        Type::Bool | Type::Int32 | Type::Int64 => Raw::Varint(0),
        Type::Double => Raw::Fixed64(0),
        _ => Raw::Bytes(&[]),
    }
}

impl<'de> MapAccess<'de> for MapEntries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(raw) = self.raws.next()? else {
            return Ok(None);
        };
        let Raw::Bytes(entry) = raw else {
            return Err(Error::new("map entry is not a message"));
        };
        let (mut key, mut value) = (default_raw(self.key), default_raw(self.value));
        let mut pos = 0;
        while pos < entry.len() {
            match read_field(entry, &mut pos)? {
                (1, raw) => key = raw,
                (2, raw) => value = raw,
                _ => {}
            }
        }
        self.pending = Some(value);
        seed.deserialize(ValueDe {
            ty: self.key,
            raw: key,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let raw = self
            .pending
            .take()
            .ok_or_else(|| Error::new("map value without key"))?;
        seed.deserialize(ValueDe {
            ty: self.value,
            raw,
        })
    }
}

/// One value of a known type.
pub(crate) struct ValueDe<'de> {
    pub(crate) ty: &'static Type,
    pub(crate) raw: Raw<'de>,
}

/// RFC 3339 text on the stack: `2026-11-26T15:49:19Z` or, for
/// MicroTime, `2026-11-26T15:49:19.123456Z` (no allocation per time).
struct TimeText {
    buf: [u8; 32],
    len: usize,
}

impl TimeText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// `{1: seconds, 2: nanos}` as RFC 3339 in UTC.
fn timestamp(bytes: &[u8], micro: bool) -> Result<TimeText, Error> {
    let (seconds, nanos) = direct::timestamp(bytes)?;
    let time = jiff::Timestamp::new(seconds, nanos)
        .map_err(|e| Error::new(format!("time out of range: {e}")))?;
    let t = jiff::tz::Offset::UTC.to_datetime(time);
    let mut text = TimeText {
        buf: [0; 32],
        len: 0,
    };
    let mut put = |value: i64, digits: u32, after: u8| {
        for i in (0..digits).rev() {
            text.buf[text.len + i as usize] =
                b'0' + (value.unsigned_abs() / 10u64.pow(digits - 1 - i) % 10) as u8;
        }
        text.len += digits as usize;
        if after != 0 {
            text.buf[text.len] = after;
            text.len += 1;
        }
    };
    put(i64::from(t.year()), 4, b'-');
    put(i64::from(t.month()), 2, b'-');
    put(i64::from(t.day()), 2, b'T');
    put(i64::from(t.hour()), 2, b':');
    put(i64::from(t.minute()), 2, b':');
    if micro {
        put(i64::from(t.second()), 2, b'.');
        put(i64::from(t.subsec_nanosecond() / 1000), 6, b'Z');
    } else {
        put(i64::from(t.second()), 2, b'Z');
    }
    Ok(text)
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.ty {
            Type::String => visitor.visit_borrowed_str(direct::string(self.raw)?),
            Type::Bool => visitor.visit_bool(varint(self.raw)? != 0),
            Type::Int32 => visitor.visit_i32(varint(self.raw)? as i32),
            Type::Int64 => visitor.visit_i64(varint(self.raw)? as i64),
            Type::Double => match self.raw {
                Raw::Fixed64(bits) => visitor.visit_f64(f64::from_bits(bits)),
                _ => Err(Error::new("expected a double")),
            },
            // JSON's form of bytes: base64 (what k8s-openapi's ByteString reads).
            Type::Bytes => visitor
                .visit_string(base64::engine::general_purpose::STANDARD.encode(bytes(self.raw)?)),
            Type::Map(..) => Err(Error::new("a map outside a field")),
            Type::Message(id) => {
                let bytes = bytes(self.raw)?;
                match SCHEMA.messages[*id].special {
                    Special::None => visitor.visit_map(
                        MessageDe {
                            message: *id,
                            bytes,
                        }
                        .fields(None)?,
                    ),
                    Special::Time => visitor.visit_str(timestamp(bytes, false)?.as_str()),
                    Special::MicroTime => visitor.visit_str(timestamp(bytes, true)?.as_str()),
                    Special::Quantity => visitor.visit_borrowed_str(direct::quantity(bytes)?),
                    Special::IntOrString => match direct::int_or_string(bytes)? {
                        direct::IntOrStr::Str(text) => visitor.visit_borrowed_str(text),
                        direct::IntOrStr::Int(int) => visitor.visit_i64(i64::from(int)),
                    },
                    Special::RawJson => {
                        let mut raw: &[u8] = b"null";
                        let mut pos = 0;
                        while pos < bytes.len() {
                            if let (1, Raw::Bytes(b)) = read_field(bytes, &mut pos)? {
                                raw = b;
                            }
                        }
                        let mut json = serde_json::Deserializer::from_slice(raw);
                        de::Deserializer::deserialize_any(&mut json, visitor)
                            .map_err(|e| Error::new(format!("raw JSON: {e}")))
                    }
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.ty {
            Type::Message(id) if SCHEMA.messages[*id].special == Special::None => {
                let message = MessageDe {
                    message: *id,
                    bytes: bytes(self.raw)?,
                };
                visitor.visit_map(message.fields(Some(plan_for(*id, fields)))?)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// Enums of unit variants are strings (`status: Failure`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.ty {
            Type::String => visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(
                direct::string(self.raw)?,
            )),
            _ => self.deserialize_any(visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map
        identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Error> for ValueDe<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// A top-level object: its message plus the `apiVersion` and `kind` the
/// envelope carried (JSON has them in the object).
pub(crate) struct ObjectDe<'de> {
    pub(crate) message: MessageDe<'de>,
    pub(crate) api_version: &'de str,
    pub(crate) kind: &'de str,
}

impl<'de> ObjectDe<'de> {
    fn fields(self, plan: Option<Plan>) -> Result<ObjectFields<'de>, Error> {
        Ok(ObjectFields {
            type_meta: [("apiVersion", self.api_version), ("kind", self.kind)],
            next: 0,
            fields: self.message.fields(plan)?,
        })
    }
}

/// A top-level object's fields: `apiVersion` and `kind` first, then the
/// message's.
struct ObjectFields<'de> {
    type_meta: [(&'static str, &'de str); 2],
    /// How many of `type_meta` were handed out.
    next: usize,
    fields: Fields<'de>,
}

impl<'de> MapAccess<'de> for ObjectFields<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.type_meta.get(self.next) {
            Some((key, _)) => seed
                .deserialize(BorrowedStrDeserializer::<Error>::new(key))
                .map(Some),
            None => self.fields.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.type_meta.get(self.next) {
            Some((_, value)) => {
                self.next += 1;
                seed.deserialize(BorrowedStrDeserializer::<Error>::new(value))
            }
            None => self.fields.next_value_seed(seed),
        }
    }
}

impl<'de> de::Deserializer<'de> for ObjectDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(self.fields(None)?)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let plan = plan_for(self.message.message, fields);
        visitor.visit_map(self.fields(Some(plan))?)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map enum
        identifier ignored_any option
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::write_varint_field;

    #[test]
    fn times_read_as_rfc3339_like_the_json_form() {
        let mut bytes = Vec::new();
        write_varint_field(&mut bytes, 1, 1_795_708_159);
        assert_eq!(
            timestamp(&bytes, false).expect("time").as_str(),
            "2026-11-26T15:49:19Z"
        );
        write_varint_field(&mut bytes, 2, 123_456_789);
        assert_eq!(
            timestamp(&bytes, true).expect("time").as_str(),
            "2026-11-26T15:49:19.123456Z"
        );
        assert_eq!(
            timestamp(&[], false).expect("zero").as_str(),
            "1970-01-01T00:00:00Z"
        );
    }
}
