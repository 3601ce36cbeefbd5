// The shared wrapper: the public API, composed for every runtime from the layers below it
// (HACKING.md, "JS layers"): the bridge (the only caller of the wasm), spans (wrappers and the
// span lifecycle), capture (serializer and redact) and the exporter (one per init()). The
// provider wrappers and instrumentModules are not imported here, so bundles leave them out
// unless the app uses them: the entries export the wrappers, and `agensight-wasm/modules`
// plugs init({ instrumentModules }) in through `internal.extend`. An entry per runtime
// (node.mjs, ...) loads the wasm its own way and passes it in with the platform's context,
// store, clock and randomness. Nothing here imports a runtime module.

import { AgensightError } from "./errors.js";
import { createBridge } from "./bridge.js";
import { createCapture } from "./capture.js";
import { createSpans } from "./spans.js";
import { createExporter } from "./exporter.js";

export { AgensightError };

const ZERO = Object.freeze({ exported: 0, failed: 0, pending: 0, dropped: 0 });
const isPromise = (v) => v !== null && typeof v === "object" && typeof v.then === "function";

/**
 * @param {object} p
 * @param {object|Promise<object>|null} p.wasm the wasm-bindgen module (initialized), a Promise
 *   of it (the browser entry: spans are kept until it resolves), or null if loading failed
 * @param {{active(): number, run(h: number, fn: Function): any, call(h: number, fn: Function, ...args: any[]): any, kind: string}} p.context
 * @param {(config: object) => ({write(text: string|Uint8Array): void, bytes?: boolean, counts?(): {failed: number, dropped: number}} | null)} p.openStore
 * @param {(n: number) => Uint8Array} p.randomBytes
 * @param {() => number} p.now milliseconds since the epoch, sub-millisecond where the runtime has it
 * @param {(fn: () => void) => void} p.defer runs fn soon, without keeping the process alive
 * @param {(fn: (canSend?: boolean) => void) => void} [p.onExit] runs fn synchronously when the
 *   process exits or the page is left; `fn(true)` where requests can still go out (a page:
 *   `keepalive` fetches), anything else where they cannot (Node's `exit`): then the export
 *   queue is only written to the outbox
 * @param {(fn: () => void) => void} [p.onIdle] runs fn when the process is about to exit
 *   with nothing left to do (Node's beforeExit): a last chance to send
 * @param {(config: object) => (import("./exporter.js").Outbox | null)} [p.openOutbox] the
 *   durable export queue's storage (files, IndexedDB); null or absent: memory only
 * @param {boolean} [p.saveEarly] write finished traces to the outbox as they end (browsers,
 *   where a page being left cannot write IndexedDB any more)
 * @param {(...args: any[]) => void} [p.warn]
 * @param {any} [p.loadError] why the wasm could not be loaded
 * @param {(max?: number) => object} [p.pendingLog] pending.js's createPendingLog, required
 *   when `wasm` is a Promise: it keeps the span calls made while it loads (only the browser
 *   entry loads asynchronously; the others leave pending.js out of their bundles)
 */
export function createAgensight({ wasm, context, openStore, openOutbox, saveEarly = false, randomBytes, now, defer, onExit, onIdle, warn = (...args) => console.warn(...args), loadError, pendingLog }) {
  let warned = false;
  const warnOnce = (...args) => {
    if (warned) return;
    warned = true;
    warn(...args);
  };
  if (isPromise(wasm) && !pendingLog) throw new TypeError("createAgensight: a wasm still loading needs pendingLog");
  const bridge = createBridge({ warnOnce, pendingLog });
  const utf8 = new TextDecoder();
  const keepalive = { inFlight: 0 }; // the page's keepalive budget, over every init()
  let state = null; // { epoch, config, store, exporter, captureInput, captureOutput, capture }
  let epoch = 0;
  let waitingInit = null; // an init() made while the wasm loads: applied once it is there
  let writeScheduled = false;
  let draining = false;

  const current = () => state;
  const spans = createSpans({ bridge, context, now, current, emitted, warnOnce });

  /** Local-store lines the core holds, written to the store. */
  function drainLocal() {
    writeScheduled = false;
    const st = state;
    if (!st?.store || draining) return;
    // UTF-8 bytes in wasm memory: stores that take bytes (file, memory) append or copy them
    // during write(), nothing else is made of them. Dropped from the core once written (or
    // failed: the store counted them), unless an init() during the write replaced the core.
    // A drain asked for during the write (a traced call in a warning) waits for the next one,
    // so no line is written twice.
    const lines = bridge.local.lines();
    const n = lines.length;
    if (!n) return;
    draining = true;
    try {
      st.store.write(st.store.bytes ? lines : utf8.decode(lines));
    } catch (e) {
      warnOnce("agensight: could not write the local trace store:", e);
    } finally {
      draining = false;
      if (state === st) bridge.local.taken(n);
    }
  }

  /** A trace (or late span) was handed on: write it locally (now when the core's buffer is
   * past its threshold) and/or send it soon. */
  function emitted(drainNow = false) {
    const st = state;
    if (drainNow && st?.store) drainLocal();
    else if (st?.store && !writeScheduled) {
      writeScheduled = true;
      defer(drainLocal);
    }
    st?.exporter?.emitted(drainNow);
  }

  onExit?.((canSend) => {
    drainLocal();
    state?.exporter?.exit(canSend === true);
  });
  onIdle?.(() => state?.exporter?.idle());

  /**
   * Configures tracing; call once at start-up (again to reconfigure). Synchronous: while the
   * wasm is still loading (browsers), the options are applied when it is, and spans made in
   * between are kept (bounded) and recorded then.
   * @param {object} [options] see index.d.ts `InitOptions`
   */
  function init(options = {}) {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new AgensightError("init(): options must be an object, such as init({ name: \"my-app\" })", "invalid_option");
    }
    // Without a working wasm core (it failed to load, or trapped) tracing stays off; the
    // warning has been given and the app runs on.
    if (bridge.off) return;
    const { instrumentModules: modules, ...rest } = options;
    const text = optionsText(rest);
    if (modules !== undefined) instrument(modules);
    if (bridge.loading) {
      if (waitingInit) bridge.restartLog();
      waitingInit = rest;
      state = provisional(rest, ++epoch);
      return;
    }
    apply(rest, text, ++epoch);
  }

  /** init() with the core there: configure it, open the store, start the exporter. */
  function apply(options, text, ep) {
    if (state) drainLocal();
    const config = bridge.configure(text, randomBytes(48), now());
    state?.exporter?.stop();
    if (!config) return; // tracing went off
    const store = config.storage !== "none" && config.mode !== "prod" ? openStore(config) : null;
    const exporting = config.mode !== "local";
    const redact = typeof options.redact === "function" ? options.redact : null;
    state = {
      epoch: ep,
      config,
      store,
      captureInput: config.captureInput,
      captureOutput: config.captureOutput,
      capture: createCapture({ maxBytes: config.maxFieldBytes, redact }),
      exporter: exporting
        ? createExporter({
            queue: bridge.queue,
            outbox: openOutbox ? openOutbox(config) : null,
            mode: config.mode,
            now,
            warn,
            // The `fetch` option; undefined: the global fetch, read at each send.
            fetch: typeof options.fetch === "function" ? options.fetch : undefined,
            saveEarly,
            keepalive,
          })
        : null,
    };
  }

  /** The wasm is there: apply the waiting init() (keeping its epoch, so spans running across
   * the load end normally), then record what was logged. */
  function attach(bindings) {
    bridge.attach(bindings);
    const options = waitingInit;
    waitingInit = null;
    if (!options || !state) return;
    try {
      apply(options, optionsText(options), state.epoch);
    } catch (e) {
      state = null;
      bridge.disable();
      warnOnce("agensight: init() options were rejected; tracing is off:", e?.message ?? e);
      return;
    }
    if (bridge.replay()) emitted();
  }

  function loadFailed(e) {
    bridge.disable();
    state = null;
    waitingInit = null;
    warnOnce("agensight: the WebAssembly core could not be loaded; tracing is off and your functions run untraced.", e ?? "");
  }

  /** Resolves when the core is loaded and what was kept meanwhile is recorded, or when tracing
   * is off because it could not be loaded; never rejects. */
  let ready;
  if (isPromise(wasm)) {
    ready = Promise.resolve(wasm).then(
      (w) => (w ? attach(w) : loadFailed(loadError)),
      (e) => loadFailed(e ?? loadError),
    );
  } else {
    if (wasm) attach(wasm);
    else loadFailed(loadError);
    ready = Promise.resolve();
  }

  /**
   * Writes what is buffered, sends what waits for export (retrying as the policy says, for at
   * most `timeoutMs`), and reports what happened to the spans so far: `exported` counts only
   * spans the receiver accepted; `dropped` and `failed` include what the local store could not
   * keep.
   * @param {{ timeoutMs?: number }} [options]
   * @returns {Promise<{exported: number, failed: number, pending: number, dropped: number}>}
   */
  async function flush({ timeoutMs = 30000 } = {}) {
    if (bridge.loading && state) await waitReady(timeoutMs);
    drainLocal();
    const st = state;
    if (!st || bridge.off) return { ...ZERO };
    if (bridge.loading) return { ...ZERO, pending: bridge.waiting, dropped: bridge.droppedWhileLoading };
    let s;
    try {
      s = st.exporter ? await st.exporter.flush(timeoutMs) : bridge.queue.stats();
    } catch (e) {
      bridge.fail(e); // a bug in the wrapper, not the app's: tracing off, flush() still answers
    }
    if (bridge.off) return { ...ZERO };
    const result = { exported: s.exported, failed: s.failed, pending: s.pending, dropped: s.dropped + bridge.droppedWhileLoading };
    addStoreCounts(st.store, result);
    return result;
  }

  /** Waits for the core to load, for at most `ms`. */
  async function waitReady(ms) {
    let timer;
    await Promise.race([ready, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /** Flushes, then turns tracing off until the next `init()`. */
  async function shutdown(options) {
    const result = await flush(options);
    state?.exporter?.stop();
    state = null;
    return result;
  }

  /** What the package's subpaths plug in: `instrumentModules` (agensight-wasm/modules). */
  const extensions = {};

  /** init({ instrumentModules }): the SDK classes patched once, by agensight-wasm/modules. */
  function instrument(modules) {
    const patch = extensions.instrumentModules;
    if (!patch) {
      throw new AgensightError('init(): instrumentModules needs `import "agensight-wasm/modules";` in the app (the provider wrappers stay out of apps that do not use them)', "invalid_option");
    }
    try {
      patch(modules);
    } catch (e) {
      throw new AgensightError(`init(): instrumentModules: ${String(e?.message ?? e).replace(/^instrumentModules\(\): /, "")}`, "invalid_option");
    }
  }

  const api = {
    init,
    trace: spans.trace,
    span: spans.span,
    flush,
    shutdown,
    currentTraceId: () => spans.activeId("traceId"),
    currentSpanId: () => spans.activeId("spanId"),
    /** The active configuration (normalized), or undefined before init(). */
    config: () => state?.config,
    /** Resolves when the core is loaded (at once where the entry loads it synchronously). */
    ready,
    /** For the package's own wrappers (providers, workers, propagation); not public API. */
    internal: {
      begin: spans.begin,
      currentTraceparent: () => spans.activeId("traceparent"),
      context,
      /** Plugs in what a subpath adds to init(): `extend("instrumentModules", (modules) => ...)`. */
      extend: (name, fn) => void (extensions[name] = fn),
    },
  };
  return api;
}

/** The init() options as JSON for the core: functions as "function", and init()'s session
 * through the redact function (it is recorded on every trace). */
function optionsText(options) {
  const plain = {};
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) plain[k] = typeof v === "function" ? "function" : v;
  }
  if (typeof options.redact === "function" && options.session !== undefined && options.session !== null) {
    plain.session = JSON.parse(createCapture({ maxBytes: 65536, redact: options.redact }).session(options.session));
  }
  try {
    return JSON.stringify(plain);
  } catch (e) {
    throw new AgensightError(`init(): options must be plain data (${e.message})`, "invalid_option");
  }
}

/** What spans need while the core loads, read from the options as the core would (it
 * validates them when it is there). */
function provisional(options, ep) {
  const c = options.capture;
  const max = options.maxFieldBytes;
  return {
    epoch: ep,
    config: undefined,
    store: null,
    exporter: null,
    captureInput: c !== false && c?.input !== false,
    captureOutput: c !== false && c?.output !== false,
    capture: createCapture({ maxBytes: typeof max === "number" && max > 0 ? max : 65536, redact: typeof options.redact === "function" ? options.redact : null }),
  };
}

/** The store's own losses (lines it could not write, records its cap removed), where it
 * counts them. */
function addStoreCounts(store, result) {
  if (typeof store?.counts !== "function") return;
  try {
    const c = store.counts();
    result.failed += Number(c?.failed) || 0;
    result.dropped += Number(c?.dropped) || 0;
  } catch {}
}
