// Types of the browser, web worker and inline entries (the `browser`, `worker` and `default`
// conditions, `agensight-wasm/inline`): the same API as index.d.ts, except that the local
// store is IndexedDB, so reading it back is asynchronous.
export * from "./index.js";
import type { LocalTraces } from "./index.js";

/**
 * Reads the local store back (IndexedDB, or memory): a Promise of `{ sessions, traces,
 * skipped }`. Works without init(), e.g. after a reload. `await flush()` first.
 */
export function readLocal(options?: { maxBytes?: number }): Promise<LocalTraces>;
