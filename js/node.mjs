// Entry for Node (`import`; `require` goes through node.cjs): reads the .wasm from the
// package with fs; everything else (AsyncLocalStorage context, file store and outbox,
// read-back) is the server-runtime part shared with Deno and Bun (server.js). No top-level
// await, so Node's require(esm) can load it.

import * as bindings from "./wasm/agensight_wasm.js";
import { createServerEntry } from "./server.js";
import { readWasm } from "./node-wasm.js";
import { once, lazy } from "./lazy.js";
import { createProviders } from "./providers.js";
import { createPropagation } from "./propagation.js";
import { createReadback } from "./readback.js";
import { createInstrumentWorker } from "./worker.js";

let wasm = null;
let loadError;
try {
  bindings.initSync({ module: readWasm() });
  wasm = bindings;
} catch (e) {
  loadError = e;
}

const entry = createServerEntry({
  wasm,
  loadError,
  defer: (fn) => setTimeout(fn, 20).unref?.(),
  // At exit nothing can be sent any more: the export queue is only written to the outbox.
  onExit: (fn) => process.on("exit", () => fn(false)),
  onIdle: (fn) => process.on("beforeExit", fn),
});

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
export const instrumentWorker = /* @__PURE__ */ lazy(/* @__PURE__ */ once(() => createInstrumentWorker({ api: entry, flush: entry.flush, extract: propagation().extract })));
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = entry.internal;
export { AgensightError } from "./core.js";
