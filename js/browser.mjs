// Entry for browsers and web workers (the `browser` and `default` conditions): fetches the
// .wasm next to this file and compiles it while it downloads (instantiateStreaming). No
// top-level await (Vite's worker build, iife/cjs bundles and module service workers reject
// it, and a worker's first message would be lost while it waits): loading starts on import,
// init() stays synchronous, spans made before the core is there are kept (bounded) and
// recorded once it is, and `ready` says when that is. Local store and export outbox:
// IndexedDB (store-idb.js), memory where there is none. Context: a synchronous stack (no
// AsyncLocalStorage in browsers; see the README, "Context in browsers"). No node:* import, so
// every bundler takes it as is.

// The bindings apart from the loaders (scripts/wasm-bindings.mjs): this namespace is kept
// whole, and agensight_wasm.js's would keep initSync, which this entry never calls.
import initWasm from "./wasm/agensight_wasm.js";
import * as bindings from "./wasm/bindings.js";
import { createAgensight } from "./core.js";
import { alsContext, stackContext } from "./context.js";
import { DEFAULT_MEMORY_STORE_BYTES, memoryStore } from "./store-memory.js";
import { idbAvailable, idbOutbox, idbStore } from "./store-idb.js";
import { useEntry } from "./parts.js";
import { createPendingLog } from "./pending.js";

/** The loaded bindings, or a rejection saying why they could not be loaded. */
function loadWasm() {
  try {
    // `new URL(..., import.meta.url)`: bundlers (Vite, webpack 5, Parcel) ship the .wasm as an
    // asset and rewrite the URL. wasm-bindgen's loader uses WebAssembly.instantiateStreaming on
    // the Response (and falls back to instantiate if the server sends a wrong MIME type).
    return initWasm({ module_or_path: fetch(new URL("./wasm/agensight_wasm_bg.wasm", import.meta.url)) }).then(() => bindings);
  } catch (e) {
    return Promise.reject(e);
  }
}

const warn = (...args) => console.warn(...args);
/** IndexedDB, when this global object has it (pages and workers do). The read-back API uses it
 * without the wasm too. */
const idb = idbAvailable() ? idbStore(warn) : null;
let memory = null;
// timeOrigin never changes, and its getter is slow: read it once.
const timeOrigin = performance.timeOrigin;

const api = createAgensight({
  wasm: loadWasm(),
  // The span calls made while the .wasm loads (the other entries have it at once).
  pendingLog: createPendingLog,
  // A runtime that has AsyncLocalStorage as a global gets it; browsers get the stack.
  context: typeof globalThis.AsyncLocalStorage === "function" ? alsContext(globalThis.AsyncLocalStorage) : stackContext(),
  openStore(config) {
    memory = null;
    if (config.storage === "memory" || !idb) {
      if (config.storage === "indexeddb" || (config.storage === "file" && !idb)) {
        console.warn(`agensight: storage "${config.storage}" is not available here; keeping traces in memory.`);
      }
      return (memory = memoryStore({ maxBytes: DEFAULT_MEMORY_STORE_BYTES }));
    }
    if (config.storage === "file") console.warn('agensight: storage "file" exists only in Node, Deno and Bun; using IndexedDB.');
    return idb;
  },
  // The export outbox (dev, prod) in IndexedDB beside the store (storage "memory" or false,
  // or no IndexedDB: memory only). Asynchronous: core.js reads it after init() returns.
  openOutbox: (config) => (config.storage === "memory" || config.storage === "none" || !idb ? null : idbOutbox()),
  // A page being left cannot write IndexedDB (Chromium aborts the transactions of an unloading
  // document): finished traces are written to the outbox soon after they end (held until
  // their batch is due), so what pagehide cannot send is there at the next page load.
  saveEarly: true,
  randomBytes: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
  now: () => timeOrigin + performance.now(),
  defer: (fn) => setTimeout(fn, 20),
  // Leaving the page (or hiding it, the last moment a mobile browser promises): write what is
  // buffered (IndexedDB finishes the transaction if it can) and send what waits for export
  // with keepalive requests, within their 64 KiB limit; the rest stays in the outbox for the
  // next page load. Workers get neither event: their outbox is written before each send.
  onExit(fn) {
    if (typeof globalThis.addEventListener !== "function") return;
    globalThis.addEventListener("pagehide", () => fn(true));
    globalThis.addEventListener("visibilitychange", () => {
      if (globalThis.document?.visibilityState === "hidden") fn(true);
    });
  },
  warn,
});

export const { init, trace, span, currentTraceId, currentSpanId } = api;

/**
 * Resolves when the WebAssembly core is loaded and the spans made before are recorded, or
 * when tracing is off because it could not be loaded (never rejects). Waiting is optional:
 * init() and traced functions work at once; the ids of spans started before it resolved
 * (currentTraceId(), currentSpanId(), inject()) are undefined.
 * @example await ready;
 */
export const ready = api.ready;
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = api.internal;
export { AgensightError } from "./core.js";

/**
 * Writes what is buffered (waiting until IndexedDB has committed it), sends what waits for
 * export, and reports what happened to the spans so far.
 * @param {{ timeoutMs?: number }} [options]
 */
export async function flush(options) {
  const result = await api.flush(options);
  await written(options?.timeoutMs);
  return result;
}

/** Flushes, then turns tracing off until the next `init()`. */
export async function shutdown(options) {
  const result = await api.shutdown(options);
  await written(options?.timeoutMs);
  return result;
}

/** Waits for the IndexedDB writes under way, for at most `ms` (a stuck database never hangs flush). */
async function written(ms = 30000) {
  if (!idb) return;
  let timer;
  await Promise.race([idb.settled(), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

// The parts only some apps call, made from this entry at their first call (parts.js). The
// read-back reads IndexedDB, or memory: Promises here, and they work without init(), e.g.
// after a reload (`await flush()` first).
useEntry({ api, flush, storeReader: () => (memory ? memory.reader() : (idb?.reader() ?? null)) });
export { wrapOpenAI, wrapAnthropic, inject, extract, continueTrace, bindContext, readLocal, exportLocal, clearLocal, instrumentWorker } from "./parts.js";
