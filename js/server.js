// The shared part of the Node, Deno and Bun entries (server runtimes with node:fs and
// AsyncLocalStorage): context, file store, outbox and the read-back's reader, given the wasm
// bindings the entry loaded its own way and the runtime's timers and exit hooks. The parts
// only some apps call (propagation, instrumentWorker, read-back, provider wrappers) are made
// by the entries at their first call (lazy.js).

import * as asyncHooks from "node:async_hooks";
import { join } from "node:path";
import { createAgensight } from "./core.js";
import { alsContext } from "./context.js";
import { DEFAULT_MAX_STORE_BYTES, fileOutbox, fileReader, fileStore, memoryStore } from "./store-file.js";
import { DEFAULT_MEMORY_STORE_BYTES } from "./store-memory.js";

/**
 * @param {object} p
 * @param {object|null} p.wasm the initialized bindings, or null when loading failed
 * @param {any} [p.loadError]
 * @param {(fn: () => void) => void} p.defer runs fn soon without keeping the process alive
 * @param {(fn: () => void) => void} [p.onExit] runs fn synchronously at exit
 * @param {(fn: () => void) => void} [p.onIdle] runs fn when the event loop is about to empty
 */
export function createServerEntry({ wasm, loadError, defer, onExit, onIdle }) {
  let memory = null;
  // timeOrigin never changes, and its getter is slow in Node: read it once. So is the global
  // `performance` itself (a getter on globalThis in Node 20: 6 ns of each clock read, two a span).
  const perf = performance;
  const timeOrigin = perf.timeOrigin;
  const api = createAgensight({
    wasm,
    loadError,
    // A namespace import: Deno and Bun may lack executionAsyncResource (context.js then keeps
    // the storage's own methods).
    context: alsContext(asyncHooks.AsyncLocalStorage, asyncHooks.executionAsyncResource),
    openStore(config) {
      if (config.storage === "indexeddb") {
        console.warn('agensight: storage "indexeddb" exists only in browsers; using files in', config.dir);
      }
      // maxStoreBytes: validated by the Rust config once it knows the option; the default before.
      const maxBytes = config.maxStoreBytes ?? DEFAULT_MAX_STORE_BYTES;
      if (config.storage === "memory") return (memory = memoryStore({ maxBytes: Math.min(maxBytes, DEFAULT_MEMORY_STORE_BYTES) }));
      memory = null;
      return fileStore(config.dir, { maxBytes });
    },
    openOutbox: (config) => (config.storage === "memory" || config.storage === "none" ? null : fileOutbox(join(config.dir, "outbox"))),
    randomBytes: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
    now: () => timeOrigin + perf.now(),
    defer,
    onExit,
    onIdle,
  });

  return {
    ...api,
    /** The read-back's reader (lazy.js parts, see the entries): the memory store, or a store
     * directory (`dir`, else init()'s). */
    storeReader: ({ dir }) => (memory && dir === undefined ? memory.reader() : fileReader(dir ?? api.config()?.dir ?? ".agensight")),
  };
}
