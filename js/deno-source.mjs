// Deno: the .wasm as a WebAssembly.Module, through a source-phase import (no file permission
// needed). Imported dynamically by deno.mjs so that a runtime without the syntax can fall back.
import source wasmModule from "./wasm/agensight_wasm_bg.wasm";
export default wasmModule;
