# Sourced by scripts/bootstrap and scripts/build: picks the route to a wasm32 Rust build and
# exports what it needs. See HACKING.md, "Building for wasm32".
#   route "rustup":     the active rustc has the wasm32 target; plain `cargo build`.
#   route "build-std":  Debian's rustc-web + rust-web-src build std from source (-Zbuild-std),
#                       linked by wasm-ld-19, because this rustup cannot download wasm32 std.
WASM_TARGET=wasm32-unknown-unknown
# opt-level 2 (Cargo.toml) with -Os's inlining threshold: opt-level 2's per-span speed (-11%
# against "s") for 3 KB less .wasm gzip than its own threshold (225), which bought nothing
# more. Both routes pass it (HACKING.md, "opt-level 2 with -Os's inlining").
WASM_INLINE=-Cllvm-args=-inline-threshold=75
if [ -d "$(rustc --print sysroot 2>/dev/null)/lib/rustlib/$WASM_TARGET/lib" ]; then
  WASM_ROUTE=rustup
  WASM_CARGO=(cargo)
  WASM_CARGO_FLAGS=(--config "target.wasm32-unknown-unknown.rustflags=[\"$WASM_INLINE\"]")
else
  WASM_ROUTE=build-std
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19
  WASM_CARGO=(/usr/bin/cargo)
  # Size (DESIGN.md 7.5): std built with its optimize_for_size feature, and panics that trap at
  # once without formatting a message (-Cpanic=immediate-abort: no panic machinery, message or
  # location strings). About -15% raw / -11% gzip on the .wasm (scripts/bench). A panic is a
  # wasm trap either way, which the JS wrapper turns into "tracing off". No Debug formatting
  # and no caller locations either (nothing in the .wasm prints them): -0.3 KB gzip.
  # --cfg agensight_size: #[optimize(size)] on the code that runs once per init() or per LLM
  # call (src/lib.rs), -2.5 KB gzip.
  WASM_CARGO_FLAGS=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
    --config 'target.wasm32-unknown-unknown.rustflags=["-Zunstable-options", "-Cpanic=immediate-abort", "-Zfmt-debug=none", "-Zlocation-detail=none", "--cfg", "agensight_size", "'"$WASM_INLINE"'"]')
fi
# The wasm-bindgen crate is pinned with `=` in Cargo.toml; the CLI must match it exactly.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
