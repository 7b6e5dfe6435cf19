#![no_main]
//! See `authorizer_fuzz::token` (fuzz/src/lib.rs) for the input format and the properties checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| authorizer_fuzz::token(data));
