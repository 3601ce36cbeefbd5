// Entry for Deno (the `deno` condition). The .wasm comes in as a source-phase import
// (`import source`), which needs no --allow-read; a Deno without that syntax reads the file
// instead (needs --allow-read). Context: AsyncLocalStorage; local store: files (the same
// as Node; --allow-read and --allow-write for the store directory, .agensight by default).

// The bindings apart from the loaders (scripts/wasm-bindings.mjs): a namespace is kept whole.
import { initSync } from "./wasm/agensight_wasm.js";
import * as bindings from "./wasm/bindings.js";
import { createServerEntry } from "./server.js";
import { useEntry } from "./parts.js";

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
  initSync({ module });
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
// The parts only some apps call, made from this entry at their first call (parts.js).
useEntry({ api: entry, flush: entry.flush, storeReader: entry.storeReader, beforeInvocation: entry.beforeInvocation });
export { wrapOpenAI, wrapAnthropic, inject, extract, continueTrace, bindContext, readLocal, exportLocal, clearLocal, instrumentWorker } from "./parts.js";
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = entry.internal;
export { AgensightError } from "./core.js";
