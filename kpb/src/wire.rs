//! The protobuf wire format: varints, tags, length-delimited fields.

use super::Error;

/// One field value as it sits on the wire (a fixed32's value is not
/// kept: no field of the schema has one).
#[derive(Debug, Clone, Copy)]
pub enum Raw<'de> {
    Varint(u64),
    Fixed64(u64),
    Fixed32,
    Bytes(&'de [u8]),
}

#[inline(always)]
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, Error> {
    // Tags, lengths and most numbers are one byte.
    if let Some(&byte) = buf.get(*pos)
        && byte < 0x80
    {
        *pos += 1;
        return Ok(u64::from(byte));
    }
    read_long_varint(buf, pos)
}

/// A varint of two bytes or more (lengths of 128 and up, times, uids…).
#[inline(never)]
fn read_long_varint(buf: &[u8], pos: &mut usize) -> Result<u64, Error> {
    let rest = buf.get(*pos..).unwrap_or_default();
    if let [first, second, ..] = *rest
        && second < 0x80
    {
        *pos += 2;
        return Ok(u64::from(first & 0x7f) | (u64::from(second) << 7));
    }
    let mut value = 0u64;
    for (i, byte) in rest.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if *byte < 0x80 {
            *pos += i + 1;
            return Ok(value);
        }
    }
    Err(Error::new(if rest.len() < 10 {
        "truncated varint"
    } else {
        "varint longer than 10 bytes"
    }))
}

/// The next field of a message: its number and value.
#[inline(always)]
pub fn read_field<'de>(buf: &'de [u8], pos: &mut usize) -> Result<(u32, Raw<'de>), Error> {
    let key = read_varint(buf, pos)?;
    let tag = u32::try_from(key >> 3).map_err(|_| Error::new("field number out of range"))?;
    let take = |pos: &mut usize, n: usize| -> Result<&'de [u8], Error> {
        let end = pos
            .checked_add(n)
            .filter(|end| *end <= buf.len())
            .ok_or_else(|| Error::new("truncated field"))?;
        let bytes = &buf[*pos..end];
        *pos = end;
        Ok(bytes)
    };
    let raw = match key & 7 {
        0 => Raw::Varint(read_varint(buf, pos)?),
        1 => {
            let bytes = take(pos, 8)?;
            Raw::Fixed64(u64::from_le_bytes(bytes.try_into().unwrap_or_default()))
        }
        2 => {
            let len = usize::try_from(read_varint(buf, pos)?)
                .map_err(|_| Error::new("length out of range"))?;
            Raw::Bytes(take(pos, len)?)
        }
        5 => {
            let bytes = take(pos, 4)?;
            let _ = bytes;
            Raw::Fixed32
        }
        other => return Err(Error::new(format!("unsupported wire type {other}"))),
    };
    if tag == 0 {
        return Err(Error::new("field number 0"));
    }
    Ok((tag, raw))
}

/// How many bytes `value` takes as a varint.
pub(crate) fn varint_len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

pub(crate) fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(crate) fn write_varint_field(out: &mut Vec<u8>, tag: u32, value: u64) {
    write_varint(out, u64::from(tag) << 3);
    write_varint(out, value);
}

pub(crate) fn write_bytes_field(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    write_varint(out, (u64::from(tag) << 3) | 2);
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_truncation_is_an_error() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            write_varint(&mut out, value);
            let mut pos = 0;
            assert_eq!(read_varint(&out, &mut pos).expect("reads"), value);
            assert_eq!(pos, out.len());
            assert_eq!(varint_len(value), out.len());
            if out.len() > 1 {
                assert!(read_varint(&out[..out.len() - 1], &mut 0).is_err());
            }
        }
        let mut out = Vec::new();
        write_bytes_field(&mut out, 2, b"abc");
        let (tag, raw) = read_field(&out, &mut 0).expect("reads");
        assert!(tag == 2 && matches!(raw, Raw::Bytes(b"abc")));
        assert!(read_field(&out[..out.len() - 1], &mut 0).is_err());
    }
}
