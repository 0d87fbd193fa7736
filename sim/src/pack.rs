//! Packed objects, for a sim of a million pods (`--pack`): a recorded-shape
//! pod is 6 KB of JSON (managedFields included, as the real API server
//! sends it) plus its metadata and protobuf forms, about 25 KB of the sim's
//! memory each. Packed, each form is a zstd frame compressed with a
//! dictionary trained on the first objects of its resource and form (about
//! 300 bytes for a pod's JSON), and unpacked for every answer: CPU for
//! memory, and the bytes served stay the same.

use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe;

thread_local! {
    /// zstd contexts, one per thread: making one per object would cost more
    /// than the object's compression.
    static CCTX: std::cell::RefCell<zstd_safe::CCtx<'static>> = std::cell::RefCell::new(zstd_safe::CCtx::create());
    static DCTX: std::cell::RefCell<zstd_safe::DCtx<'static>> = std::cell::RefCell::new(zstd_safe::DCtx::create());
}

/// Objects kept whole before a dictionary is trained on them.
const SAMPLES: usize = 1000;
/// Size of a trained dictionary.
const DICTIONARY_BYTES: usize = 64 * 1024;
/// zstd level (the fastest; a dictionary does most of the work).
const LEVEL: i32 = 1;

/// One serialized form of an object: whole, or a packed zstd frame.
#[derive(Debug, Clone)]
pub enum Form {
    /// The bytes themselves.
    Whole(Bytes),
    /// Compressed with a packer's dictionary.
    Packed {
        /// Length of the bytes unpacked.
        len: u32,
        /// The zstd frame.
        frame: Box<[u8]>,
        /// The dictionary it needs.
        dictionary: &'static Dictionary,
    },
}

impl Form {
    /// The bytes of this form.
    pub fn bytes(&self) -> Bytes {
        match self {
            Form::Whole(bytes) => bytes.clone(),
            Form::Packed {
                len,
                frame,
                dictionary,
            } => Bytes::from(dictionary.unpack(frame, *len as usize)),
        }
    }

    /// Bytes kept for this form (for tests).
    pub fn kept_len(&self) -> usize {
        match self {
            Form::Whole(bytes) => bytes.len(),
            Form::Packed { frame, .. } => frame.len(),
        }
    }
}

/// A trained dictionary, prepared for both directions. Dictionaries live
/// as long as the sim (one per resource and form at most), so forms refer
/// to them as `&'static`.
pub struct Dictionary {
    encoder: EncoderDictionary<'static>,
    decoder: DecoderDictionary<'static>,
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dictionary")
    }
}

impl Dictionary {
    fn unpack(&self, frame: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        DCTX.with_borrow_mut(|context| {
            context.decompress_using_ddict(&mut out, frame, self.decoder.as_ddict())
        })
        .map_err(zstd_safe::get_error_name)
        .expect("a frame this sim packed unpacks");
        out
    }

    fn pack(&self, bytes: &[u8]) -> Option<Box<[u8]>> {
        let mut frame = Vec::with_capacity(zstd_safe::compress_bound(bytes.len()));
        CCTX.with_borrow_mut(|context| {
            context.compress_using_cdict(&mut frame, bytes, self.encoder.as_cdict())
        })
        .ok()?;
        Some(frame.into_boxed_slice())
    }
}

/// Packs one form of one resource's objects: the first [`SAMPLES`] stay
/// whole and train the dictionary every later one is packed with.
#[derive(Debug, Default)]
pub struct Packer {
    samples: Mutex<Vec<Bytes>>,
    dictionary: OnceLock<&'static Dictionary>,
}

impl Packer {
    /// Keep `bytes` as a form: packed once the dictionary is trained.
    pub fn pack(&self, bytes: Bytes) -> Form {
        if let Some(dictionary) = self.dictionary.get() {
            if let (Some(frame), Ok(len)) = (dictionary.pack(&bytes), u32::try_from(bytes.len())) {
                return Form::Packed {
                    len,
                    frame,
                    dictionary,
                };
            }
            return Form::Whole(bytes);
        }
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        samples.push(bytes.clone());
        if samples.len() >= SAMPLES && self.dictionary.get().is_none() {
            match zstd::dict::from_samples(&samples, DICTIONARY_BYTES) {
                Ok(raw) => {
                    let dictionary: &'static Dictionary = Box::leak(Box::new(Dictionary {
                        encoder: EncoderDictionary::copy(&raw, LEVEL),
                        decoder: DecoderDictionary::copy(&raw),
                    }));
                    let _ = self.dictionary.set(dictionary);
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot train a dictionary; objects stay whole")
                }
            }
            samples.clear();
            samples.shrink_to_fit();
        }
        Form::Whole(bytes)
    }
}

/// The packers of every resource and form, or none (objects stay whole).
#[derive(Debug, Default)]
pub struct Packers {
    enabled: bool,
    by_form: Mutex<std::collections::HashMap<(&'static str, u8), &'static Packer>>,
}

/// Which serialized form a packer keeps.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// The JSON list item.
    Item = 0,
    /// The JSON metadata.
    Meta = 1,
    /// The protobuf message.
    Protobuf = 2,
    /// The PartialObjectMetadata protobuf message.
    ProtobufMeta = 3,
}

impl Packers {
    /// Packers that pack (`enabled`) or keep everything whole.
    pub fn new(enabled: bool) -> Packers {
        Packers {
            enabled,
            ..Packers::default()
        }
    }

    /// Keep `bytes`, the `kind` form of a `plural` object.
    pub fn keep(&self, plural: &'static str, kind: Kind, bytes: Bytes) -> Form {
        if !self.enabled {
            return Form::Whole(bytes);
        }
        let packer = *self
            .by_form
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((plural, kind as u8))
            .or_insert_with(|| Box::leak(Box::default()));
        packer.pack(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_forms_give_back_their_bytes_and_keep_fewer() {
        let packers = Packers::new(true);
        let object = |i: usize| {
            Bytes::from(format!(
                r#"{{"metadata":{{"name":"web-{i}","namespace":"shop","uid":"{i:08}-aaaa"}},"spec":{{"nodeName":"node-{}"}},"status":{{"phase":"Running","podIP":"10.0.{}.{}"}}}}"#,
                i % 20,
                i / 250,
                i % 250
            ))
        };
        let forms: Vec<Form> = (0..SAMPLES + 500)
            .map(|i| packers.keep("pods", Kind::Item, object(i)))
            .collect();
        for (i, form) in forms.iter().enumerate() {
            assert_eq!(form.bytes(), object(i));
        }
        assert!(matches!(forms[0], Form::Whole(_)));
        let packed = &forms[SAMPLES..];
        assert!(packed.iter().all(|f| matches!(f, Form::Packed { .. })));
        let kept: usize = packed.iter().map(Form::kept_len).sum();
        let whole: usize = (SAMPLES..SAMPLES + 500).map(|i| object(i).len()).sum();
        assert!(kept * 3 < whole, "packed {kept} of {whole} bytes");
        let off = Packers::new(false);
        assert!(matches!(
            off.keep("pods", Kind::Item, object(SAMPLES + 1)),
            Form::Whole(_)
        ));
    }
}
