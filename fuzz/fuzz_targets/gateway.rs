#![no_main]
//! See `authorizer_fuzz::gateway` (fuzz/src/gateway.rs) for the input format and the properties checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| authorizer_fuzz::gateway(data));
