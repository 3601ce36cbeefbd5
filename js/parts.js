// The parts of the API only some apps call (the provider wrappers, propagation, the read-back,
// instrumentWorker), written once for every entry. Each is a static export made at its first
// call from the entry that registered itself (`useEntry`), so an entry re-exports them as they
// are and a bundler drops those an app does not use, with the modules behind them (lazy.js;
// HACKING.md, "What a bundle leaves out").
import { once, lazy } from "./lazy.js";
import { createProviders } from "./providers.js";
import { createPropagation } from "./propagation.js";
import { createReadback } from "./readback.js";
import { createInstrumentWorker } from "./worker.js";

/**
 * What the parts are made from: the entry's API (`init`, `flush`, `internal.begin`, ...), the
 * reader of its local store, and the hook run before each worker invocation (edge entries).
 * @typedef {{ api: any, flush: Function, storeReader: () => any, beforeInvocation?: Function }} EntrySource
 */

/** @type {EntrySource | null} */
let source = null;

/**
 * Registers the loading entry (one per module graph: each entry file is its own graph's only
 * entry; the CommonJS and inline builds bundle their own copy of this module).
 * @param {EntrySource} entry
 */
export function useEntry(entry) {
  source = entry;
}

const providers = /* @__PURE__ */ once(() => createProviders({ begin: source.api.internal.begin }));
const propagation = /* @__PURE__ */ once(() => createPropagation(source.api));
const readback = /* @__PURE__ */ once(() => createReadback(source.storeReader));

export const wrapOpenAI = /* @__PURE__ */ lazy(() => providers().wrapOpenAI);
export const wrapAnthropic = /* @__PURE__ */ lazy(() => providers().wrapAnthropic);
export const inject = /* @__PURE__ */ lazy(() => propagation().inject);
export const extract = /* @__PURE__ */ lazy(() => propagation().extract);
export const continueTrace = /* @__PURE__ */ lazy(() => propagation().continueTrace);
export const bindContext = /* @__PURE__ */ lazy(() => propagation().bindContext);
export const readLocal = /* @__PURE__ */ lazy(() => readback().readLocal);
export const exportLocal = /* @__PURE__ */ lazy(() => readback().exportLocal);
export const clearLocal = /* @__PURE__ */ lazy(() => readback().clearLocal);
export const instrumentWorker = /* @__PURE__ */ lazy(
  /* @__PURE__ */ once(() =>
    createInstrumentWorker({ api: source.api, flush: source.flush, extract: propagation().extract, beforeInvocation: source.beforeInvocation }),
  ),
);
