// Entry for workerd / Cloudflare Workers (the `workerd` condition): the .wasm is imported as a
// module (wrangler and workerd compile it: a WebAssembly.Module) and instantiated synchronously
// by the shared edge part (edge-entry.js: memory store, no outbox, flush in ctx.waitUntil).
// Context: AsyncLocalStorage with `nodejs_compat` or `nodejs_als`, else the synchronous stack.

import wasmModule from "./wasm/agensight_wasm_bg.wasm";
import { createEdgeEntry } from "./edge-entry.js";
import { providerWrapper } from "./providers.js";

const entry = createEdgeEntry({ wasmModule, platform: "workerd", importAls: true });

export const { init, trace, span, flush, shutdown, currentTraceId, currentSpanId, readLocal, exportLocal, clearLocal, ready } = entry;
export const { inject, extract, continueTrace, bindContext, instrumentWorker } = entry;
// Made at the first call, and left out of bundles that do not call them (providers.js).
export const wrapOpenAI = /* @__PURE__ */ providerWrapper(entry, "openai");
export const wrapAnthropic = /* @__PURE__ */ providerWrapper(entry, "anthropic");
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = entry.internal;
export { AgensightError } from "./core.js";
