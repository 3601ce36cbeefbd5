// Entry for workerd / Cloudflare Workers (the `workerd` condition): the .wasm is imported as a
// module (wrangler and workerd compile it: a WebAssembly.Module) and instantiated synchronously
// by the shared edge part (edge-entry.js: memory store, no outbox, flush in ctx.waitUntil).
// Context: AsyncLocalStorage with `nodejs_compat` or `nodejs_als`, else the synchronous stack.

import wasmModule from "./wasm/agensight_wasm_bg.wasm";
import { createEdgeEntry } from "./edge-entry.js";
import { useEntry } from "./parts.js";

const entry = createEdgeEntry({ wasmModule, platform: "workerd", importAls: true });

export const { init, trace, span, flush, shutdown, currentTraceId, currentSpanId, ready } = entry;
// The parts only some apps call, made from this entry at their first call (parts.js).
useEntry({ api: entry, flush: entry.flush, storeReader: entry.storeReader, beforeInvocation: entry.beforeInvocation });
export { wrapOpenAI, wrapAnthropic, inject, extract, continueTrace, bindContext, readLocal, exportLocal, clearLocal, instrumentWorker } from "./parts.js";
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = entry.internal;
export { AgensightError } from "./core.js";
