#![no_main]
// Invariants: see fuzz/src/checks.rs, fn redact_target.
libfuzzer_sys::fuzz_target!(|data: &[u8]| agensight_fuzz::checks::redact_target(data));
