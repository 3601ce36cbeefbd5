// The local store and the export outbox of browsers and web workers: IndexedDB, written by the
// wasm core (src/store.rs, through storeAppend/storeRead/storeClear and
// outboxPut/outboxDelete/outboxList). These adapters give them the shapes core.js expects: the
// store's `write(text)` is synchronous and keeps track of the writes in flight, so flush() and
// the read-back API can wait for them; the outbox's methods return Promises. No runtime imports.

import { isRecord } from "./records.js";

/**
 * @param {object} wasm the initialized bindings
 * @param {(...args: any[]) => void} warn
 */
export function idbStore(wasm, warn) {
  const inFlight = new Set();
  let warned = false;

  /** Resolves once every write started so far has committed (or failed). */
  async function settled() {
    while (inFlight.size) await Promise.allSettled([...inFlight]);
  }

  return {
    kind: "indexeddb",
    write(text) {
      const p = wasm
        .storeAppend(text)
        .catch((e) => {
          if (!warned) {
            warned = true;
            warn("agensight: could not write traces to IndexedDB; they are lost, your app is unaffected.", e);
          }
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    settled,
    /** Every stored record, oldest first, and how many stored values were not records. */
    async records() {
      await settled();
      const all = Array.from(await wasm.storeRead());
      const records = all.filter(isRecord);
      return { records, skipped: all.length - records.length };
    },
    async clear() {
      await settled();
      await wasm.storeClear();
    },
  };
}

/**
 * The durable export queue in IndexedDB (object store `outbox`, job id -> job text). Every
 * method returns a Promise; core.js waits for `put` before a job's first send and reads
 * `list` after init().
 * @param {object} wasm the initialized bindings
 */
export function idbOutbox(wasm) {
  return {
    kind: "indexeddb",
    /** @returns {Promise<{id: number, text: string}[]>} */
    list: async () => Array.from(await wasm.outboxList()),
    put: (id, text) => wasm.outboxPut(id, text),
    delete: (id) => wasm.outboxDelete(id),
  };
}
