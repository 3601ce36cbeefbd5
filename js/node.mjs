// Entry for Node (`import`; `require` goes through node.cjs): reads the .wasm from the
// package with fs; everything else (AsyncLocalStorage context, file store and outbox,
// read-back) is the server-runtime part shared with Deno and Bun (server.js). No top-level
// await, so Node's require(esm) can load it.

// The bindings apart from the loaders (scripts/wasm-bindings.mjs): a namespace is kept whole.
import { initSync } from "./wasm/agensight_wasm.js";
import * as bindings from "./wasm/bindings.js";
import { createServerEntry } from "./server.js";
import { readWasm } from "./node-wasm.js";
import { useEntry } from "./parts.js";

let wasm = null;
let loadError;
try {
  initSync({ module: readWasm() });
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
// The parts only some apps call, made from this entry at their first call (parts.js).
useEntry({ api: entry, flush: entry.flush, storeReader: entry.storeReader, beforeInvocation: entry.beforeInvocation });
export { wrapOpenAI, wrapAnthropic, inject, extract, continueTrace, bindContext, readLocal, exportLocal, clearLocal, instrumentWorker } from "./parts.js";
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = entry.internal;
export { AgensightError } from "./core.js";
