// Entry for Deno (the `deno` condition). The .wasm comes in as a source-phase import
// (`import source`), which needs no --allow-read; a Deno without that syntax reads the file
// instead (needs --allow-read). Context: AsyncLocalStorage; local store: files (the same
// as Node; --allow-read and --allow-write for the store directory, .agensight by default).

import * as bindings from "./wasm/agensight_wasm.js";
import { createServerEntry } from "./server.js";
import { once, lazy } from "./lazy.js";
import { createProviders } from "./providers.js";
import { createPropagation } from "./propagation.js";
import { createReadback } from "./readback.js";
import { createInstrumentWorker } from "./worker.js";

let wasm = null;
let loadError;
try {
  let module;
  try {
    // In a module of its own, so an older Deno's syntax error stays there.
    module = (await import("./deno-source.mjs")).default;
  } catch {
    module = Deno.readFileSync(new URL("./wasm/agensight_wasm_bg.wasm", import.meta.url));
  }
  bindings.initSync({ module });
  wasm = bindings;
} catch (e) {
  loadError = e;
}

const entry = createServerEntry({
  wasm,
  loadError,
  defer(fn) {
    const id = setTimeout(fn, 20);
    Deno.unrefTimer?.(id);
  },
  onExit: (fn) => globalThis.addEventListener("unload", fn),
  onIdle: (fn) => globalThis.addEventListener("beforeunload", fn),
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
