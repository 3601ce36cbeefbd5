#![no_main]
// Invariants: see fuzz/src/checks.rs, fn agensight_encoder.
libfuzzer_sys::fuzz_target!(|data: &[u8]| agensight_fuzz::checks::agensight_encoder(data));
