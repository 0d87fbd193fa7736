//! How a store keeps its objects for `Get`: as they came in protobuf, or
//! as JSON (JSON kinds, and secrets' metadata without some annotations),
//! managedFields left out either way, compressed with a zstd dictionary
//! trained on the kind's own objects. Objects of one kind share most of
//! their text (keys, images, labels, conditions), so a dictionary makes a
//! kept pod several times smaller than zstd alone (BENCHMARKS.md, `bench
//! memory`).
//!
//! The first `TRAINING_SAMPLES` objects of a kind are kept compressed by
//! zstd without a dictionary while they are collected as samples; then a dictionary is trained on a
//! thread of its own (the informer never waits for it) and every later
//! object uses it; the objects kept before it are compressed again with it
//! (`recompress`, called by the store once the kind is listed and the
//! dictionary trained, `wait_trained`: without it,
//! the thousands an informer keeps while the dictionary trains stay 4–5×
//! larger for the life of the cache). A kind that is fully listed with too
//! few objects for a dictionary to pay (`listed`) trains on what it has, or
//! drops its samples. Each kept object starts with a tag byte naming its codec
//! and encoding. Protobuf objects turn into JSON when asked for, through
//! the kind's decoder (`set_protobuf_json`): keeping the bytes as they came
//! costs the informer nothing, where writing JSON took a third of a pod's
//! sync time.

use std::sync::{Arc, Mutex, OnceLock};

use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe;

/// Objects collected before a dictionary is trained.
pub const TRAINING_SAMPLES: usize = 1000;
/// The most of one object a sample keeps: a dictionary is learnt from what
/// objects share, and a huge one (a 1 MiB ConfigMap) adds nothing but cost.
const SAMPLE_BYTES: usize = 16 * 1024;
/// The most all samples may hold together; training starts when they do.
const SAMPLES_BYTES: usize = 4 * 1024 * 1024;
/// Size of a trained dictionary.
pub const DICTIONARY_BYTES: usize = 64 * 1024;
/// The least the samples of a fully listed kind must hold to train on:
/// a dictionary costs about 220 KB (as trained, and the encoder's and
/// decoder's copies), which samples of a megabyte (16× the dictionary)
/// win back; fewer objects stay compressed without one.
const LISTED_SAMPLES_BYTES: usize = 1024 * 1024;
/// zstd level: 1, the fastest; with a dictionary it keeps objects about as
/// small as level 3 does (BENCHMARKS.md, `bench memory`) for less CPU.
const LEVEL: i32 = 1;

const TAG_ZSTD: u8 = 0;
const TAG_ZSTD_DICTIONARY: u8 = 1;
/// Kept as given (zstd failed).
const TAG_STORED: u8 = 4;
/// Added to the codec's tag when the object is protobuf.
const TAG_PROTOBUF: u8 = 2;

/// An object to keep, in the encoding it is in.
#[derive(Debug, Clone, Copy)]
pub enum Kept<'a> {
    Json(&'a [u8]),
    /// A `k8s\0` body, turned into JSON by the kind's decoder.
    Protobuf(&'a [u8]),
}

/// Turns a kept protobuf object into its JSON.
pub type ProtobufJson = fn(&[u8]) -> Result<Vec<u8>, String>;

self_cell::self_cell!(
    /// A trained dictionary, and zstd's compression and decompression
    /// tables made from it, which refer to it where copies of it cost
    /// 128 KB more a kind (a CDict of 113 KB and a DDict of 93 KB each hold
    /// the 64 KB dictionary): kept as trained, it is what a snapshot of the
    /// kept objects needs to read them again.
    struct Dictionary {
        owner: Vec<u8>,
        #[covariant]
        dependent: Tables,
    }
);

struct Tables<'a> {
    encoder: EncoderDictionary<'a>,
    decoder: DecoderDictionary<'a>,
}

impl Dictionary {
    fn trained(raw: Vec<u8>) -> Dictionary {
        Dictionary::new(raw, |raw| Tables {
            encoder: EncoderDictionary::new(raw, LEVEL),
            decoder: DecoderDictionary::new(raw),
        })
    }
}

/// One kind's object codec. Cheap to share.
#[derive(Default)]
pub struct ObjectCodec {
    dictionary: Arc<OnceLock<Dictionary>>,
    samples: Mutex<Option<Vec<Vec<u8>>>>,
    /// The thread training the dictionary, until someone waits for it.
    training: Mutex<Option<std::thread::JoinHandle<()>>>,
    protobuf_json: OnceLock<ProtobufJson>,
}

/// A zstd context and the buffer it compresses into: an object's frame is
/// then copied out once, at its size (a buffer of the worst case per
/// object, shrunk after, costs an allocation and a copy more, on every
/// object of a sync).
///
/// One per thread, shared by every kind's codec (a context takes its
/// parameters and dictionary with each object): one per kind held about
/// 31 KB each for the life of the cache, most of them for kinds that see
/// an event an hour.
struct Compressor {
    context: zstd_safe::CCtx<'static>,
    scratch: Vec<u8>,
}

thread_local! {
    static COMPRESSOR: std::cell::RefCell<Option<Compressor>> =
        const { std::cell::RefCell::new(None) };
}

/// A scratch buffer past this is let go after use (one huge object should
/// not keep its worst case for the life of the thread).
const SCRATCH_KEPT: usize = 64 * 1024;

/// Nor a context past this: zstd sizes a context's tables for the largest
/// object it compressed and keeps them (31 KB after pods; 583 KB after one
/// 1 MiB ConfigMap).
const CONTEXT_KEPT: usize = 128 * 1024;

impl Compressor {
    fn new() -> Compressor {
        Compressor {
            context: zstd_safe::CCtx::create(),
            scratch: Vec::new(),
        }
    }

    /// `tag`, then what `compress` writes for `bytes`; None if it fails.
    fn frame(
        &mut self,
        tag: u8,
        bytes: &[u8],
        compress: impl FnOnce(
            &mut zstd_safe::CCtx<'static>,
            &mut Vec<u8>,
        ) -> Result<usize, zstd_safe::ErrorCode>,
    ) -> Result<Vec<u8>, zstd_safe::ErrorCode> {
        self.scratch.clear();
        self.scratch.reserve(zstd_safe::compress_bound(bytes.len()));
        let written = compress(&mut self.context, &mut self.scratch);
        let framed = written.map(|_| {
            let mut out = Vec::with_capacity(self.scratch.len() + 1);
            out.push(tag);
            out.extend_from_slice(&self.scratch);
            out
        });
        if self.scratch.capacity() > SCRATCH_KEPT {
            self.scratch = Vec::new();
        }
        framed
    }
}

impl std::fmt::Debug for ObjectCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectCodec")
            .field("trained", &self.is_trained())
            .finish_non_exhaustive()
    }
}

impl ObjectCodec {
    /// A codec that collects samples until it can train its dictionary.
    pub fn new() -> ObjectCodec {
        ObjectCodec {
            samples: Mutex::new(Some(Vec::with_capacity(TRAINING_SAMPLES))),
            ..ObjectCodec::default()
        }
    }

    /// Whether the dictionary is ready.
    pub fn is_trained(&self) -> bool {
        self.dictionary.get().is_some()
    }

    /// The trained dictionary, if there is one yet: what a snapshot of the
    /// kept objects needs to read them again.
    pub fn dictionary(&self) -> Option<&[u8]> {
        self.dictionary.get().map(|d| d.borrow_owner().as_slice())
    }

    /// Use a dictionary trained before (from a snapshot) instead of
    /// training one; false when the codec already has one.
    pub fn restore_dictionary(&self, raw: Vec<u8>) -> bool {
        if self.dictionary.set(Dictionary::trained(raw)).is_err() {
            return false;
        }
        *self.samples.lock().unwrap_or_else(|p| p.into_inner()) = None;
        true
    }

    /// How this kind's protobuf objects become JSON (set by its informer).
    pub fn set_protobuf_json(&self, convert: ProtobufJson) {
        let _ = self.protobuf_json.set(convert);
    }

    /// Compress one object.
    pub fn compress(&self, object: Kept<'_>) -> Vec<u8> {
        let (encoding, bytes) = match object {
            Kept::Json(bytes) => (0, bytes),
            Kept::Protobuf(bytes) => (TAG_PROTOBUF, bytes),
        };
        if let Some(dictionary) = self.dictionary.get()
            && let Some(compressed) = self.compress_with(dictionary, encoding, bytes)
        {
            return compressed;
        }
        self.sample(bytes);
        self.compress_plain(encoding, bytes)
    }

    /// zstd without a dictionary, for the objects a dictionary is trained on.
    fn compress_plain(&self, encoding: u8, bytes: &[u8]) -> Vec<u8> {
        let framed = Self::with_compressor(|compressor| {
            compressor.frame(TAG_ZSTD + encoding, bytes, |context, out| {
                context.compress(out, bytes, LEVEL)
            })
        });
        match framed {
            Ok(out) => out,
            // Cannot happen with a bound-sized buffer; keep the bytes whole
            // rather than lose the object.
            Err(code) => {
                tracing::warn!(error = zstd_safe::get_error_name(code), "zstd failed");
                let mut out = Vec::with_capacity(bytes.len() + 1);
                out.push(TAG_STORED + encoding);
                out.extend_from_slice(bytes);
                out
            }
        }
    }

    /// `f` with this thread's compressor, made on first use (a passing one
    /// while the thread ends). Taken out while `f` runs, so nothing is
    /// borrowed across it.
    fn with_compressor<R>(f: impl FnOnce(&mut Compressor) -> R) -> R {
        let held = COMPRESSOR.try_with(|cell| cell.borrow_mut().take());
        let mut compressor = held.ok().flatten().unwrap_or_else(Compressor::new);
        let result = f(&mut compressor);
        if compressor.context.sizeof() <= CONTEXT_KEPT {
            let _ = COMPRESSOR.try_with(|cell| *cell.borrow_mut() = Some(compressor));
        }
        result
    }

    fn compress_with(
        &self,
        dictionary: &Dictionary,
        encoding: u8,
        bytes: &[u8],
    ) -> Option<Vec<u8>> {
        Self::with_compressor(|compressor| {
            compressor.frame(TAG_ZSTD_DICTIONARY + encoding, bytes, |context, out| {
                context.compress_using_cdict(
                    out,
                    bytes,
                    dictionary.borrow_dependent().encoder.as_cdict(),
                )
            })
        })
        .ok()
    }

    /// Keep a sample; the last one needed starts the training.
    fn sample(&self, json: &[u8]) {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let Some(collected) = samples.as_mut() else {
            return;
        };
        collected.push(json[..json.len().min(SAMPLE_BYTES)].to_vec());
        let held: usize = collected.iter().map(Vec::len).sum();
        if collected.len() < TRAINING_SAMPLES && held < SAMPLES_BYTES {
            return;
        }
        self.train(samples.take().unwrap_or_default());
    }

    /// The kind's list is complete: a kind of fewer objects than training
    /// waits for trains on the samples it has when they are enough for a
    /// dictionary to pay, and drops them otherwise (they would be held for
    /// the life of the cache, waiting for objects that may never come).
    pub fn listed(&self) {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let Some(collected) = samples.take() else {
            return;
        };
        if collected.iter().map(Vec::len).sum::<usize>() >= LISTED_SAMPLES_BYTES {
            self.train(collected);
        }
    }

    /// Wait for the dictionary's training to end, if it started; whether
    /// the dictionary is there. Blocks: call it off the runtime. Only the
    /// first caller waits for a training thread.
    pub fn wait_trained(&self) -> bool {
        let training = self
            .training
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(training) = training {
            let _ = training.join();
        }
        self.is_trained()
    }

    /// Train the dictionary on `collected`, on a thread of its own.
    fn train(&self, collected: Vec<Vec<u8>>) {
        let dictionary = self.dictionary.clone();
        let training = std::thread::Builder::new()
            .name("zstd-train".into())
            .spawn(move || match zstd::dict::from_samples(&collected, DICTIONARY_BYTES) {
                Ok(trained) => {
                    let _ = dictionary.set(Dictionary::trained(trained));
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot train a dictionary; objects stay compressed without one")
                }
            })
            .map_err(|error| tracing::warn!(%error, "cannot start dictionary training"))
            .ok();
        *self.training.lock().unwrap_or_else(|p| p.into_inner()) = training;
    }

    /// Whether `kept` was compressed without the dictionary, which is
    /// trained now: [`ObjectCodec::recompress`] has something to do.
    pub fn recompressible(&self, kept: &[u8]) -> bool {
        self.is_trained()
            && kept
                .first()
                .is_some_and(|tag| tag & !TAG_PROTOBUF == TAG_ZSTD)
    }

    /// `kept` compressed with the dictionary, when it was kept without one
    /// and the dictionary is trained; None when there is nothing to gain
    /// (it already uses the dictionary, was stored whole, or does not
    /// decompress).
    pub fn recompress(&self, kept: &[u8]) -> Option<Box<[u8]>> {
        let dictionary = self.dictionary.get()?;
        let (&tag, body) = kept.split_first()?;
        if !self.recompressible(kept) {
            return None;
        }
        let bytes = zstd_frame(body, None).ok()?;
        let compressed = self.compress_with(dictionary, tag & TAG_PROTOBUF, &bytes)?;
        Some(compressed.into_boxed_slice())
    }

    /// The JSON of a kept object.
    pub fn decompress(&self, kept: &[u8]) -> Result<Vec<u8>, String> {
        let Some((&tag, _)) = kept.split_first() else {
            return Err("the cached object does not decompress: nothing was kept".into());
        };
        let bytes = self.decompress_bytes(kept)?;
        if tag & TAG_PROTOBUF == 0 {
            return Ok(bytes);
        }
        let convert = self
            .protobuf_json
            .get()
            .ok_or("the cached object is protobuf and its kind has no decoder")?;
        convert(&bytes).map_err(|e| format!("the cached object does not decode: {e}"))
    }

    /// A kept object's bytes as they were given, in their encoding.
    fn decompress_bytes(&self, kept: &[u8]) -> Result<Vec<u8>, String> {
        let fail =
            |e: &dyn std::fmt::Display| format!("the cached object does not decompress: {e}");
        let tag = kept.first().map(|tag| tag & !TAG_PROTOBUF);
        match (tag, kept.get(1..)) {
            (Some(TAG_ZSTD), Some(body)) => zstd_frame(body, None).map_err(|e| fail(&e)),
            (Some(TAG_STORED), Some(body)) => Ok(body.to_vec()),
            (Some(TAG_ZSTD_DICTIONARY), Some(body)) => {
                let dictionary = self
                    .dictionary
                    .get()
                    .ok_or_else(|| fail(&"its dictionary is missing"))?;
                zstd_frame(body, Some(&dictionary.borrow_dependent().decoder)).map_err(|e| fail(&e))
            }
            (Some(tag), _) if tag > TAG_ZSTD_DICTIONARY => {
                Err(fail(&format!("unknown codec {tag}")))
            }
            _ => Err(fail(&"nothing was kept")),
        }
    }
}

/// One zstd frame, with the dictionary it was compressed with, if any.
fn zstd_frame(body: &[u8], dictionary: Option<&DecoderDictionary<'_>>) -> Result<Vec<u8>, String> {
    let size = zstd_safe::get_frame_content_size(body)
        .map_err(|e| format!("{e:?}"))?
        .ok_or("no content size")?;
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut context = zstd_safe::DCtx::create();
    let written = match dictionary {
        Some(dictionary) => context.decompress_using_ddict(&mut out, body, dictionary.as_ddict()),
        None => context.decompress(&mut out, body),
    };
    written.map_err(|code| zstd_safe::get_error_name(code).to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(i: usize) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("web-{i}"), "namespace": "shop",
                "uid": format!("0000{i:04}-aaaa-bbbb-cccc-dddddddddddd"),
                "labels": {"app": "web", "pod-template-hash": format!("{:x}", i * 7919)}},
            "spec": {"containers": [{"name": "web", "image": "registry.example.com/web:1.2.3"}],
                "nodeName": format!("node-{}", i % 20)},
            "status": {"phase": "Running", "podIP": format!("10.0.{}.{}", i / 250, i % 250)}
        }))
        .expect("json")
    }

    #[test]
    fn objects_round_trip_before_and_after_training_and_shrink_with_the_dictionary() {
        let codec = ObjectCodec::new();
        let early: Vec<(Vec<u8>, Vec<u8>)> = (0..TRAINING_SAMPLES)
            .map(|i| (pod(i), codec.compress(Kept::Json(&pod(i)))))
            .collect();
        assert!(codec.wait_trained(), "training finished");
        let late: Vec<(Vec<u8>, Vec<u8>)> = (TRAINING_SAMPLES..TRAINING_SAMPLES + 200)
            .map(|i| (pod(i), codec.compress(Kept::Json(&pod(i)))))
            .collect();
        for (json, kept) in early.iter().chain(&late) {
            assert_eq!(&codec.decompress(kept).expect("decompresses"), json);
        }
        // Objects kept in another encoding come back through the kind's
        // converter, with either codec; JSON ones do not.
        let upper = |bytes: &[u8]| -> Result<Vec<u8>, String> { Ok(bytes.to_ascii_uppercase()) };
        assert!(
            codec
                .decompress(&codec.compress(Kept::Protobuf(b"pod")))
                .is_err()
        );
        codec.set_protobuf_json(upper);
        let untrained = ObjectCodec::new();
        untrained.set_protobuf_json(upper);
        for codec in [&codec, &untrained] {
            let kept = codec.compress(Kept::Protobuf(&pod(7)));
            assert_eq!(
                codec.decompress(&kept).expect("converts"),
                pod(7).to_ascii_uppercase()
            );
            let kept = codec.compress(Kept::Json(&pod(7)));
            assert_eq!(codec.decompress(&kept).expect("decompresses"), pod(7));
        }
        assert_eq!(early[0].1[0], TAG_ZSTD);
        assert_eq!(late[0].1[0], TAG_ZSTD_DICTIONARY);
        let size = |kept: &[(Vec<u8>, Vec<u8>)]| {
            kept.iter().map(|k| k.1.len()).sum::<usize>() / kept.len()
        };
        assert!(
            size(&late) * 2 < size(&early[..200]),
            "{} vs {}",
            size(&late),
            size(&early[..200])
        );
        assert!(codec.decompress(&[9, 1, 2]).is_err());
        assert!(codec.decompress(&[]).is_err());
    }

    /// An object kept before training is compressed again with the
    /// dictionary once it exists, in its own encoding; one kept with it,
    /// or by an untrained codec, is not.
    #[test]
    fn objects_kept_before_training_compress_again_with_the_dictionary() {
        let upper = |bytes: &[u8]| -> Result<Vec<u8>, String> { Ok(bytes.to_ascii_uppercase()) };
        let codec = ObjectCodec::new();
        codec.set_protobuf_json(upper);
        let protobuf = codec.compress(Kept::Protobuf(&pod(0)));
        let early: Vec<Vec<u8>> = (1..TRAINING_SAMPLES)
            .map(|i| codec.compress(Kept::Json(&pod(i))))
            .collect();
        assert!(codec.wait_trained(), "training finished");
        for (i, kept) in early.iter().enumerate() {
            assert!(codec.recompressible(kept));
            let again = codec.recompress(kept).expect("recompressed");
            assert_eq!(again[0], TAG_ZSTD_DICTIONARY);
            assert!(
                again.len() < kept.len(),
                "{} vs {}",
                again.len(),
                kept.len()
            );
            assert_eq!(codec.decompress(&again).expect("decompresses"), pod(i + 1));
            assert_eq!(codec.recompress(&again), None);
        }
        let again = codec.recompress(&protobuf).expect("recompressed");
        assert_eq!(again[0], TAG_ZSTD_DICTIONARY + TAG_PROTOBUF);
        assert_eq!(
            codec.decompress(&again).expect("converts"),
            pod(0).to_ascii_uppercase()
        );
        let untrained = ObjectCodec::new();
        assert!(!untrained.recompressible(&early[0]));
        assert_eq!(untrained.recompress(&early[0]), None);
        assert_eq!(codec.recompress(&[]), None);
    }

    /// A kind listed whole before it had objects enough to train on trains
    /// on its samples if they hold a megabyte, and drops them otherwise.
    #[test]
    fn a_listed_kind_trains_on_a_megabyte_of_samples_or_drops_them() {
        let few = ObjectCodec::new();
        for i in 0..10 {
            few.compress(Kept::Json(&pod(i)));
        }
        few.listed();
        assert!(
            few.samples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none()
        );
        assert!(!few.wait_trained(), "nothing to wait for");
        let padded = |i: usize| {
            let mut object = pod(i);
            object.extend(format!("{i:>4096}").bytes());
            object
        };
        let enough = LISTED_SAMPLES_BYTES / 4096 + 10;
        assert!(enough < TRAINING_SAMPLES);
        let some = ObjectCodec::new();
        for i in 0..enough {
            some.compress(Kept::Json(&padded(i)));
        }
        assert!(!some.is_trained());
        some.listed();
        assert!(
            some.samples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none()
        );
        assert!(some.wait_trained(), "trained on what the listed kind had");
        let kept = some.compress(Kept::Json(&padded(enough)));
        assert_eq!(kept[0], TAG_ZSTD_DICTIONARY);
        assert_eq!(
            some.decompress(&kept).expect("decompresses"),
            padded(enough)
        );
    }

    /// A kind of huge objects (ConfigMaps of a megabyte) must not hold a
    /// thousand of them as samples: each sample keeps its first 16 KiB, and
    /// training starts once the samples hold 4 MiB, well before the
    /// thousandth object.
    #[test]
    fn huge_objects_do_not_pile_up_as_samples() {
        let codec = ObjectCodec::new();
        let huge = |i: usize| {
            let mut object = pod(i);
            object.extend(std::iter::repeat_n(b' ', 1024 * 1024));
            object
        };
        let wanted = SAMPLES_BYTES / SAMPLE_BYTES;
        for i in 0..wanted {
            codec.compress(Kept::Json(&huge(i)));
        }
        assert!(
            codec
                .samples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none(),
            "training started after {wanted} huge objects"
        );
        assert!(codec.wait_trained(), "training finished");
        let kept = codec.compress(Kept::Json(&huge(wanted)));
        assert_eq!(codec.decompress(&kept).expect("decompresses"), huge(wanted));
    }

    /// The size of this thread's kept compression context, if it keeps one.
    fn kept_context() -> Option<usize> {
        COMPRESSOR.with(|cell| cell.borrow().as_ref().map(|c| c.context.sizeof()))
    }

    /// Kinds share their thread's compression context, each object with its
    /// own kind's dictionary: interleaved, every object still reads back
    /// whole through its own codec (and not through the other's).
    #[test]
    fn kinds_on_one_thread_share_its_context_and_keep_their_dictionaries() {
        let service = |i: usize| {
            serde_json::to_vec(&serde_json::json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": format!("svc-{i}"), "namespace": "shop"},
                "spec": {"clusterIP": format!("10.96.{}.{}", i / 250, i % 250),
                    "ports": [{"port": 80 + i % 3, "protocol": "TCP"}]}
            }))
            .expect("json")
        };
        let (pods, services) = (ObjectCodec::new(), ObjectCodec::new());
        for i in 0..TRAINING_SAMPLES {
            pods.compress(Kept::Json(&pod(i)));
            services.compress(Kept::Json(&service(i)));
        }
        assert!(pods.wait_trained() && services.wait_trained());
        let kept: Vec<_> = (0..100)
            .map(|i| {
                (
                    pods.compress(Kept::Json(&pod(i))),
                    services.compress(Kept::Json(&service(i))),
                )
            })
            .collect();
        for (i, (pod_kept, service_kept)) in kept.iter().enumerate() {
            assert_eq!(pod_kept[0], TAG_ZSTD_DICTIONARY);
            assert_eq!(pods.decompress(pod_kept).expect("a pod"), pod(i));
            assert_eq!(
                services.decompress(service_kept).expect("a service"),
                service(i)
            );
            assert_ne!(services.decompress(pod_kept).ok(), Some(pod(i)));
        }
    }

    /// A context that grew for a huge object is let go, not kept for the
    /// life of the thread; an ordinary one is kept.
    #[test]
    fn a_context_grown_by_a_huge_object_is_not_kept() {
        let codec = ObjectCodec::new();
        codec.compress(Kept::Json(&pod(1)));
        let ordinary = kept_context().expect("the context is kept");
        assert!(ordinary <= CONTEXT_KEPT, "{ordinary}");
        let huge: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
        let kept = codec.compress(Kept::Json(&huge));
        assert_eq!(kept_context(), None);
        assert_eq!(codec.decompress(&kept).expect("decompresses"), huge);
        codec.compress(Kept::Json(&pod(2)));
        assert_eq!(kept_context(), Some(ordinary));
    }

    /// zstd's tables refer to the trained dictionary instead of copying it
    /// (each copy is the 64 KB dictionary again).
    #[test]
    fn a_dictionarys_tables_do_not_copy_it() {
        let codec = ObjectCodec::new();
        for i in 0..TRAINING_SAMPLES {
            codec.compress(Kept::Json(&pod(i)));
        }
        assert!(codec.wait_trained());
        let dictionary = codec.dictionary.get().expect("trained");
        let tables = dictionary.borrow_dependent();
        let raw = dictionary.borrow_owner().len();
        let (cdict, ddict) = (
            tables.encoder.as_cdict().sizeof(),
            tables.decoder.as_ddict().sizeof(),
        );
        let copied = zstd_safe::DDict::create(dictionary.borrow_owner()).sizeof();
        assert!(
            copied >= ddict + raw,
            "a copy {copied}, by reference {ddict}, the dictionary {raw}"
        );
        assert!(cdict + ddict < 2 * raw, "{cdict} + {ddict} against {raw}");
    }
}
