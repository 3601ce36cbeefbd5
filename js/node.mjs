// Entry for Node (`import`; `require` goes through node.cjs): reads the .wasm from the
// package with fs, AsyncLocalStorage context, local store in files. No top-level await, so
// Node's require(esm) can load it.

import { readFileSync } from "node:fs";
import { AsyncLocalStorage } from "node:async_hooks";
import * as bindings from "./wasm/agensight_wasm.js";
import { createAgensight } from "./core.js";
import { alsContext } from "./context.js";
import { join } from "node:path";
import { clearStoreDir, fileOutbox, fileStore, memoryStore, readStoreDir, readStoreRecords } from "./store-file.js";
import { groupRecords, parseLines, toExport } from "./records.js";
import { createPropagation } from "./propagation.js";
import { createInstrumentWorker } from "./worker.js";

let wasm = null;
let loadError;
try {
  bindings.initSync({ module: readFileSync(new URL("./wasm/agensight_wasm_bg.wasm", import.meta.url)) });
  wasm = bindings;
} catch (e) {
  loadError = e;
}

let memory = null;
const api = createAgensight({
  wasm,
  loadError,
  context: alsContext(AsyncLocalStorage),
  openStore(config) {
    if (config.storage === "indexeddb") {
      console.warn('agensight: storage "indexeddb" exists only in browsers; using files in', config.dir);
    }
    if (config.storage === "memory") return (memory = memoryStore());
    memory = null;
    return fileStore(config.dir);
  },
  // The export outbox lives beside the store (storage "memory" or false: memory only).
  openOutbox: (config) => (config.storage === "memory" || config.storage === "none" ? null : fileOutbox(join(config.dir, "outbox"))),
  randomBytes: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
  now: () => performance.timeOrigin + performance.now(),
  defer: (fn) => setTimeout(fn, 20).unref?.(),
  // At exit nothing can be sent any more: the export queue is only written to the outbox.
  onExit: (fn) => process.on("exit", () => fn(false)),
  onIdle: (fn) => process.on("beforeExit", fn),
});

export const { init, trace, span, flush, shutdown, currentTraceId, currentSpanId, wrapOpenAI, wrapAnthropic } = api;
export { AgensightError } from "./core.js";

/**
 * Reads the local store back: `{ sessions, traces, skipped }`, each trace with its spans.
 * Call `await flush()` first so everything buffered is written.
 * @param {{ dir?: string }} [options] the store directory (default: the one init() uses)
 */
export function readLocal({ dir } = {}) {
  if (memory && dir === undefined) {
    const r = parseLines(memory.read());
    return { ...groupRecords(r.records), skipped: r.skipped };
  }
  return readStoreDir(dir ?? api.config()?.dir ?? ".agensight");
}

/**
 * The local store as one JSON document, `{"agensight": "records", "version": 1, "records":
 * [...]}`, the format the viewer opens and browsers export.
 * @param {{ dir?: string }} [options]
 */
export async function exportLocal({ dir } = {}) {
  const { records } = memory && dir === undefined ? parseLines(memory.read()) : readStoreRecords(dir ?? api.config()?.dir ?? ".agensight");
  return toExport(records);
}

/**
 * Deletes the local store's records (the memory store, or the `*.jsonl` files in the store
 * directory).
 * @param {{ dir?: string }} [options]
 */
export async function clearLocal({ dir } = {}) {
  if (memory && dir === undefined) memory.clear();
  else clearStoreDir(dir ?? api.config()?.dir ?? ".agensight");
}

// W3C trace context and worker handlers, as in every entry (js/propagation.js, js/worker.js).
export const { inject, extract, continueTrace, bindContext } = createPropagation(api);
export const instrumentWorker = createInstrumentWorker({ api, flush, extract });
