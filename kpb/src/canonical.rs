//! A message rewritten as Go writes one: fields in number order, each
//! singular field once. Protobuf lets a sender put fields in any order and
//! send a field more than once (the last scalar wins, an embedded message
//! is merged); the streaming decoder (`de.rs`) reads each field once, in
//! order, so a message that is not canonical is rewritten first. Go never
//! sends one, so this is the rare path.

use crate::Error;
use crate::schema::{MessageId, SCHEMA, Type};
use crate::wire::{Raw, read_field, write_bytes_field};

/// Message `id` in `bytes`, canonical.
pub(crate) fn canonical(id: MessageId, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(bytes.len());
    write(id, &[bytes], &mut out)?;
    Ok(out)
}

/// Write the message whose occurrences are `segments` (read as one, which
/// is how protobuf merges a message sent more than once).
fn write(id: MessageId, segments: &[&[u8]], out: &mut Vec<u8>) -> Result<(), Error> {
    let message = &SCHEMA.messages[id];
    let mut fields: Vec<(u32, &[u8], Raw<'_>)> = Vec::new();
    for segment in segments {
        let mut pos = 0;
        while pos < segment.len() {
            let start = pos;
            let (tag, raw) = read_field(segment, &mut pos)?;
            fields.push((tag, &segment[start..pos], raw));
        }
    }
    // Stable: repeated values keep their order.
    fields.sort_by_key(|(tag, ..)| *tag);
    let mut i = 0;
    while i < fields.len() {
        let tag = fields[i].0;
        let end = i + fields[i..].iter().take_while(|f| f.0 == tag).count();
        let run = &fields[i..end];
        i = end;
        let Some(field) = message
            .field_by_tag(tag)
            .map(|index| &message.fields[index])
        else {
            // Unknown to the schema: every decoder skips it, but it is kept,
            // since whether a message is empty matters (an empty `Time` is
            // the zero time, one with any field is not).
            for (_, wire, _) in run {
                out.extend_from_slice(wire);
            }
            continue;
        };
        match &field.ty {
            Type::Message(inner) if field.repeated => {
                for (_, _, raw) in run {
                    let Raw::Bytes(element) = raw else {
                        return Err(Error::new("a message that is not length-delimited"));
                    };
                    let mut buffer = Vec::with_capacity(element.len());
                    write(*inner, &[element], &mut buffer)?;
                    write_bytes_field(out, tag, &buffer);
                }
            }
            Type::Message(inner) => {
                let mut occurrences = Vec::with_capacity(run.len());
                for (_, _, raw) in run {
                    let Raw::Bytes(occurrence) = raw else {
                        return Err(Error::new("a message that is not length-delimited"));
                    };
                    occurrences.push(*occurrence);
                }
                let mut buffer = Vec::new();
                write(*inner, &occurrences, &mut buffer)?;
                write_bytes_field(out, tag, &buffer);
            }
            _ if field.repeated || matches!(field.ty, Type::Map(..)) => {
                for (_, wire, _) in run {
                    out.extend_from_slice(wire);
                }
            }
            // The last value of the field's own wire type (one of another
            // type is skipped by the decoders, so it must not win), or
            // else the last value, for the decoders to refuse as before.
            ty => {
                let last = run
                    .iter()
                    .rev()
                    .find(|(_, _, raw)| fits(ty, *raw))
                    .or(run.last());
                if let Some((_, wire, _)) = last {
                    out.extend_from_slice(wire);
                }
            }
        }
    }
    Ok(())
}

/// Whether a singular value is on the wire as its type is written.
fn fits(ty: &Type, raw: Raw<'_>) -> bool {
    matches!(
        (ty, raw),
        (Type::Bool | Type::Int32 | Type::Int64, Raw::Varint(_))
            | (Type::Double, Raw::Fixed64(_))
            | (
                Type::String | Type::Bytes | Type::Message(_) | Type::Map(..),
                Raw::Bytes(_)
            )
    )
}
