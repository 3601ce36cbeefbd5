#![no_main]
// Invariants: see fuzz/src/checks.rs, fn otlp_proto.
libfuzzer_sys::fuzz_target!(|data: &[u8]| agensight_fuzz::checks::otlp_proto(data));
