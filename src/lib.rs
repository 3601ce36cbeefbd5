//! agensight-wasm's core: trace and span context, capture limits, redaction, LLM response
//! parsing and the wire encoders, in plain Rust (tested with `cargo test` on the host).
//! [`wasm`] is the only module that knows about JavaScript: it converts and delegates.

pub mod capture;
pub mod config;
pub mod context;
pub mod encode;
pub mod error;
pub mod export;
pub mod ids;
pub mod json;
pub mod llm;
pub mod model;
pub mod tracer;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};
pub use tracer::Tracer;
