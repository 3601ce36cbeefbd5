// Entry for workerd / Cloudflare Workers (the `workerd` condition): the .wasm is imported as a
// module (wrangler and workerd compile it: a WebAssembly.Module) and instantiated synchronously
// by the shared edge part (edge-entry.js: memory store, no outbox, flush in ctx.waitUntil).
// Context: AsyncLocalStorage with `nodejs_compat` or `nodejs_als`, else the synchronous stack.

import wasmModule from "./wasm/agensight_wasm_bg.wasm";
import { createEdgeEntry } from "./edge-entry.js";
import { once, lazy } from "./lazy.js";
import { createProviders } from "./providers.js";
import { createPropagation } from "./propagation.js";
import { createReadback } from "./readback.js";
import { createInstrumentWorker } from "./worker.js";

const entry = createEdgeEntry({ wasmModule, platform: "workerd", importAls: true });

export const { init, trace, span, flush, shutdown, currentTraceId, currentSpanId, ready } = entry;
// The parts only some apps call, made at their first call: a bundle leaves out those an app
// does not use (lazy.js).
const providers = /* @__PURE__ */ once(() => createProviders({ begin: entry.internal.begin }));
const propagation = /* @__PURE__ */ once(() => createPropagation(entry));
const readback = /* @__PURE__ */ once(() => createReadback(entry.storeReader));
export const wrapOpenAI = /* @__PURE__ */ lazy(() => providers().wrapOpenAI);
export const wrapAnthropic = /* @__PURE__ */ lazy(() => providers().wrapAnthropic);
export const inject = /* @__PURE__ */ lazy(() => propagation().inject);
export const extract = /* @__PURE__ */ lazy(() => propagation().extract);
export const continueTrace = /* @__PURE__ */ lazy(() => propagation().continueTrace);
export const bindContext = /* @__PURE__ */ lazy(() => propagation().bindContext);
export const readLocal = /* @__PURE__ */ lazy(() => readback().readLocal);
export const exportLocal = /* @__PURE__ */ lazy(() => readback().exportLocal);
export const clearLocal = /* @__PURE__ */ lazy(() => readback().clearLocal);
export const instrumentWorker = /* @__PURE__ */ lazy(/* @__PURE__ */ once(() => createInstrumentWorker({ api: entry, flush: entry.flush, extract: propagation().extract, beforeInvocation: entry.beforeInvocation })));
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = entry.internal;
export { AgensightError } from "./core.js";
