#![no_main]
// Invariants: see fuzz/src/checks.rs, fn clamp_json_target.
libfuzzer_sys::fuzz_target!(|data: &[u8]| agensight_fuzz::checks::clamp_json_target(data));
