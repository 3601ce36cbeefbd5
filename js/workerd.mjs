// Entry for workerd / Cloudflare Workers (the `workerd` condition): the .wasm is imported as a
// module (wrangler and workerd compile it: a WebAssembly.Module) and instantiated synchronously.
// Local store: memory (bounded). Export outbox: none, the queue is in memory only (an isolate
// has neither files nor IndexedDB, and lives per request or a little longer: flush in
// ctx.waitUntil, as instrumentWorker does, is what delivers; a Durable Object or KV outbox is
// not built). Nothing waits on a timer: writes are deferred with queueMicrotask, and
// instrumentWorker hands the flush to ctx.waitUntil. No static node:* import, so the worker
// bundles with or without Node.js compatibility.

import * as bindings from "./wasm/agensight_wasm.js";
import wasmModule from "./wasm/agensight_wasm_bg.wasm";
import { createAgensight } from "./core.js";
import { alsContext, stackContext } from "./context.js";
import { memoryStore } from "./store-memory.js";
import { createReadback } from "./readback.js";
import { createPropagation } from "./propagation.js";
import { createInstrumentWorker } from "./worker.js";

/** Largest in-memory store (bytes of JSON lines); past it the oldest records go. */
const MEMORY_STORE_BYTES = 4 << 20;

let wasm = null;
let loadError;
try {
  bindings.initSync({ module: wasmModule });
  wasm = bindings;
} catch (e) {
  loadError = e;
}

// AsyncLocalStorage: a global where the runtime has one; with `nodejs_compat`,
// process.getBuiltinModule; with only `nodejs_als`, a dynamic import (its specifier is
// computed so that bundlers leave it alone; without either flag it fails and the synchronous
// stack is used, see the README, "Context in browsers and workers").
let ALS = globalThis.AsyncLocalStorage;
try {
  ALS ??= globalThis.process?.getBuiltinModule?.("node:async_hooks")?.AsyncLocalStorage;
} catch {}
if (typeof ALS !== "function") {
  try {
    ALS = (await import(["node", "async_hooks"].join(":"))).AsyncLocalStorage;
  } catch {}
}

// At global scope workerd refuses crypto.getRandomValues and its clock reads 0: an init() made
// there is seeded from Math.random and completed at the first invocation (instrumentWorker).
let atGlobalScope = false;
function randomBytes(n) {
  try {
    return globalThis.crypto.getRandomValues(new Uint8Array(n));
  } catch {
    atGlobalScope = true;
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(Math.random() * 256);
    return b;
  }
}

let memory = null;
const api = createAgensight({
  wasm,
  loadError,
  context: typeof ALS === "function" ? alsContext(ALS) : stackContext(),
  openStore(config) {
    if (config.storage === "file" || config.storage === "indexeddb") {
      console.warn(`agensight: storage "${config.storage}" is not available in workerd; keeping traces in memory.`);
    }
    return (memory = memoryStore({ maxBytes: MEMORY_STORE_BYTES }));
  },
  randomBytes,
  now: () => Date.now(),
  defer: (fn) => queueMicrotask(fn),
});

let initAgain = null;

/**
 * Configures tracing (see index.d.ts). At a worker's global scope the ids are seeded and the
 * session's start time taken again at the first invocation of an instrumented handler.
 */
export function init(options) {
  atGlobalScope = false;
  api.init(options);
  initAgain = atGlobalScope ? options : null;
}

function beforeInvocation() {
  if (initAgain) {
    const options = initAgain;
    initAgain = null;
    api.init(options);
  }
}

export const { trace, span, flush, shutdown, currentTraceId, currentSpanId, wrapOpenAI, wrapAnthropic, ready } = api;
/** For the package's integrations (`agensight-wasm/ai`, ...): not public API. */
export const internal = api.internal;
export { AgensightError } from "./core.js";

/** readLocal(), exportLocal(), clearLocal(): over the in-memory store (see readback.js). */
export const { readLocal, exportLocal, clearLocal } = createReadback(() => memory?.reader() ?? null);

export const { inject, extract, continueTrace, bindContext } = createPropagation(api);
export const instrumentWorker = createInstrumentWorker({ api, flush, extract, beforeInvocation });
