//! Filter, selector and sort parsing and a query over rows made from the input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| timoneirod::fuzz::query(data));
