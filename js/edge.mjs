// Entry for Vercel Edge Functions and Next.js edge routes (the `edge-light` condition). These
// platforms forbid compiling WebAssembly from bytes at run time: the .wasm comes in as a Wasm
// module import (`.wasm?module`, which Next.js and Vercel's bundler turn into a
// WebAssembly.Module compiled at deploy time) and is instantiated synchronously by the shared
// edge part (edge-entry.js: memory store, no outbox; flush before answering, or in
// waitUntil). Context: the platform's global AsyncLocalStorage.

import wasmModule from "./wasm/agensight_wasm_bg.wasm?module";
import { createEdgeEntry } from "./edge-entry.js";
import { useEntry } from "./parts.js";

const entry = createEdgeEntry({ wasmModule, platform: "the edge runtime" });

export const { init, trace, span, flush, shutdown, currentTraceId, currentSpanId, ready } = entry;
// The parts only some apps call, made from this entry at their first call (parts.js).
useEntry({ api: entry, flush: entry.flush, storeReader: entry.storeReader, beforeInvocation: entry.beforeInvocation });
export { wrapOpenAI, wrapAnthropic, inject, extract, continueTrace, bindContext, readLocal, exportLocal, clearLocal, instrumentWorker } from "./parts.js";
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = entry.internal;
export { AgensightError } from "./core.js";
