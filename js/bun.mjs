// Entry for Bun (the `bun` condition): reads the .wasm with Bun's node:fs, AsyncLocalStorage
// context, local store in files (as in Node). No top-level await, so `require()` works too.

import { readFileSync } from "node:fs";
import * as bindings from "./wasm/agensight_wasm.js";
import { createServerEntry } from "./server.js";

let wasm = null;
let loadError;
try {
  bindings.initSync({ module: readFileSync(new URL("./wasm/agensight_wasm_bg.wasm", import.meta.url)) });
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

export const { init, trace, span, flush, shutdown, currentTraceId, currentSpanId, readLocal, exportLocal, clearLocal } = entry;
export const { inject, extract, continueTrace, bindContext, instrumentWorker, wrapOpenAI, wrapAnthropic } = entry;
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = entry.internal;
export { AgensightError } from "./core.js";
