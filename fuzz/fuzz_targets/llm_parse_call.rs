#![no_main]
// Invariants: see fuzz/src/checks.rs, fn llm_parse_call.
libfuzzer_sys::fuzz_target!(|data: &[u8]| agensight_fuzz::checks::llm_parse_call(data));
