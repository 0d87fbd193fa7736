//! A message decoded as an object of a built-in kind (timoneiro_kpb::fuzz::decode).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| timoneiro_kpb::fuzz::decode(data));
