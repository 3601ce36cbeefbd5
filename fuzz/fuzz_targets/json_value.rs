#![no_main]
// Invariants: see fuzz/src/checks.rs, fn json_value.
libfuzzer_sys::fuzz_target!(|data: &[u8]| agensight_fuzz::checks::json_value(data));
