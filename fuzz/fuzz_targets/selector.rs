//! Label selector (and filter) parsing and matching.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| timoneirod::fuzz::selector(data));
