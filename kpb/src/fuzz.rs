//! Entry points for the fuzz targets in `kpb/fuzz/` (`cd kpb && cargo
//! +nightly fuzz run envelope`, `frames`, `decode`), with the properties
//! they check. They live here so `cargo test` runs them on the seeds in
//! `kpb/fuzz/seeds/` and they cannot rot between fuzzing sessions.
//!
//! Everything here reads bytes an API server (or anything pretending to
//! be one) sent: no input may panic a decoder.

use serde_json::Value;

use crate::{Envelope, FrameReader, MessageType, WatchEvent};

/// A body: its envelope parses or is an error, and a parsed one, written
/// back, parses to itself.
pub fn envelope(data: &[u8]) {
    let Ok(envelope) = Envelope::parse(data) else {
        return;
    };
    let written = envelope.to_bytes();
    let again = Envelope::parse(&written).expect("a written envelope parses");
    assert_eq!(again, envelope);
}

/// A watch stream: however it is cut into chunks, it gives the same frames
/// (and the same error, if any), and each frame parses or is an error.
pub fn frames(data: &[u8]) {
    let chunk = 1 + usize::from(data.first().copied().unwrap_or(0)) % 7;
    let whole = cut(data, data.len().max(1));
    let pieces = cut(data, chunk);
    assert_eq!(whole, pieces, "frames depend on how the stream was cut");
    for frame in &whole.0 {
        if let Ok(event) = WatchEvent::parse(frame) {
            envelope(event.object);
        }
    }
}

fn cut(data: &[u8], size: usize) -> (Vec<Vec<u8>>, bool) {
    let mut reader = FrameReader::default();
    let mut frames = Vec::new();
    for chunk in data.chunks(size) {
        reader.push(chunk);
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, false)
}

/// The object kinds a message is decoded as: the first byte of the input
/// picks one, the rest is the message.
const KINDS: [(&str, &str, &str); 8] = [
    ("k8s.io.api.core.v1.Pod", "v1", "Pod"),
    ("k8s.io.api.apps.v1.Deployment", "apps/v1", "Deployment"),
    ("k8s.io.api.apps.v1.StatefulSet", "apps/v1", "StatefulSet"),
    ("k8s.io.api.core.v1.Service", "v1", "Service"),
    ("k8s.io.api.core.v1.Node", "v1", "Node"),
    ("k8s.io.api.core.v1.Event", "v1", "Event"),
    (
        "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler",
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata",
        "meta.k8s.io/v1",
        "PartialObjectMetadata",
    ),
];

/// A message decoded as an object of a kind, whole through the serde
/// bridge and as the server's JSON (`crate::json`), and kept without
/// managedFields: no panic; the JSON written is valid JSON; the kept body
/// decodes as the message does but for managedFields; a message and its
/// canonical form (fields in order, repeats merged) decode alike.
pub fn decode(data: &[u8]) {
    let Some((selector, message)) = data.split_first() else {
        return;
    };
    let (name, api_version, kind) = KINDS[usize::from(*selector) % KINDS.len()];
    let Some(ty) = MessageType::named(name) else {
        panic!("{name} is not in the schema");
    };
    let bridge = crate::decode_object::<Value>(ty, message, api_version, kind);
    if let Ok(canonical) = crate::canonical::canonical(ty.0, message) {
        let again = crate::decode_object::<Value>(ty, &canonical, api_version, kind);
        if let (Ok(a), Ok(b)) = (&bridge, &again) {
            assert_eq!(a, b, "a message and its canonical form decode differently");
        }
    }
    if let Ok(json) = crate::json::message_json(name, message) {
        serde_json::from_slice::<Value>(&json).expect("the JSON written is JSON");
    }
    if let Ok(kept) = crate::kept_body(ty, message, api_version, kind) {
        let envelope = Envelope::parse(&kept).expect("a kept body is an envelope");
        let kept = crate::decode_object::<Value>(ty, envelope.raw, api_version, kind);
        if let (Ok(mut a), Ok(b)) = (bridge, kept) {
            if let Some(meta) = a.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
            assert_eq!(a, b, "the kept body decodes differently");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds of the fuzz corpus (recorded API server bodies), run as plain tests.
    #[test]
    fn the_fuzz_entry_points_hold_on_their_seeds() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
        let mut seen = 0;
        for (target, run) in [
            ("envelope", envelope as fn(&[u8])),
            ("frames", frames),
            ("decode", decode),
        ] {
            for entry in std::fs::read_dir(dir.join(target)).expect("seed folder") {
                let path = entry.expect("entry").path();
                let seed = std::fs::read(&path).expect("seed");
                run(&seed);
                // Every prefix too: a body cut short anywhere.
                for end in (0..seed.len()).step_by(seed.len() / 64 + 1) {
                    run(&seed[..end]);
                }
                // And bytes changed at places a small generator picks (the
                // same every run): lengths, tags and wire types gone wrong.
                let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ seed.len() as u64;
                for _ in 0..256 {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let mut mutated = seed.clone();
                    if mutated.is_empty() {
                        break;
                    }
                    let at = (state >> 33) as usize % mutated.len();
                    mutated[at] = (state >> 17) as u8;
                    run(&mutated);
                }
                seen += 1;
            }
        }
        assert!(seen >= 6, "seeds found: {seen}");
    }
}
