// The local store of browsers and web workers: IndexedDB, written by the wasm core
// (src/store.rs, through storeAppend/storeRead/storeClear). This adapter gives it the store
// shape core.js expects (`write(text)`, synchronous) and keeps track of the writes in flight,
// so flush() and the read-back API can wait for them. No runtime imports.

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
