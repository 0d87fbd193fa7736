//! A protobuf body's `k8s\0` envelope (timoneiro_kpb::fuzz::envelope).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| timoneiro_kpb::fuzz::envelope(data));
