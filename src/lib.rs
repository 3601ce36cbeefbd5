//! agensight-wasm's core: trace and span context, capture limits, redaction, LLM response
//! parsing, the wire encoders and the export queue, in plain Rust (tested with `cargo test` on
//! the host). `wasm` (src/wasm.rs, wasm32 only) is the only module that knows about
//! JavaScript: it converts and delegates to [`core::Core`].
//!
//! Layers, bottom-up; each module imports only from layers below it (tests/layers.rs checks,
//! HACKING.md draws it): `error`, `ids`, `json`, `slab` | `model`, `capture` | `config`, `llm`
//! | `encode` | `export`, `tracer` | `core` | `wasm`.

// `agensight_size` (scripts/toolchain.sh, build-std route): code that runs once per init() or
// per LLM call is optimized for size (HACKING.md "Size"); the per-span path keeps opt-level "s".
#![cfg_attr(agensight_size, feature(optimize_attribute))]

pub mod capture;
pub mod config;
pub mod core;
pub mod encode;
pub mod error;
pub mod export;
pub mod ids;
pub mod json;
pub mod llm;
pub mod model;
pub mod slab;
pub mod tracer;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use crate::core::Core;
pub use error::{Error, Result};
