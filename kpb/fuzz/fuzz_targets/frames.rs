//! A protobuf watch stream cut into frames (timoneiro_kpb::fuzz::frames).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| timoneiro_kpb::fuzz::frames(data));
