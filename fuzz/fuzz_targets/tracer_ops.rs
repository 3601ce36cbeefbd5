#![no_main]
// Invariants: see fuzz/src/checks.rs, fn tracer_ops.
libfuzzer_sys::fuzz_target!(|data: &[u8]| agensight_fuzz::checks::tracer_ops(data));
