// Entry for Vercel Edge Functions and Next.js edge routes (the `edge-light` condition). These
// platforms forbid compiling WebAssembly from bytes at run time: the .wasm comes in as a Wasm
// module import (`.wasm?module`, which Next.js and Vercel's bundler turn into a
// WebAssembly.Module compiled at deploy time) and is instantiated synchronously by the shared
// edge part (edge-entry.js: memory store, no outbox; flush before answering, or in
// waitUntil). Context: the platform's global AsyncLocalStorage.

import wasmModule from "./wasm/agensight_wasm_bg.wasm?module";
import { createEdgeEntry } from "./edge-entry.js";
import { providerWrapper } from "./providers.js";

const entry = createEdgeEntry({ wasmModule, platform: "the edge runtime" });

export const { init, trace, span, flush, shutdown, currentTraceId, currentSpanId, readLocal, exportLocal, clearLocal, ready } = entry;
export const { inject, extract, continueTrace, bindContext, instrumentWorker } = entry;
// Made at the first call, and left out of bundles that do not call them (providers.js).
export const wrapOpenAI = /* @__PURE__ */ providerWrapper(entry, "openai");
export const wrapAnthropic = /* @__PURE__ */ providerWrapper(entry, "anthropic");
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = entry.internal;
export { AgensightError } from "./core.js";
