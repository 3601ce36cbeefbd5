#![no_main]
// Invariants: see fuzz/src/checks.rs, fn llm_stream.
libfuzzer_sys::fuzz_target!(|data: &[u8]| agensight_fuzz::checks::llm_stream(data));
