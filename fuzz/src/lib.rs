//! The fuzz targets' invariants (see checks.rs); tests/fuzz_regressions.rs includes the same
//! file to replay the saved inputs under `cargo test`.
pub mod checks;
