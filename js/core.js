// The shared wrapper: the public API on top of the wasm core, for every runtime. An entry per
// runtime (node.mjs, ...) loads the wasm its own way and passes it in with the platform's
// context, store, clock and randomness. Nothing here imports a runtime module.
//
// Rules this file keeps:
// - A wrapped function behaves exactly like the original: same `this`, arguments, return value
//   and thrown error; sync stays sync. Tracing never throws into user code: every call into
//   the wasm is guarded, and after an internal failure (a wasm trap) tracing turns into a no-op
//   with one warning.
// - Only numbers and strings cross into the wasm per span (see DESIGN.md section 2).

import { toJson, errorInfo } from "./serialize.js";
import { createProviders } from "./providers.js";
import { send } from "./transport.js";

/** "Not recorded" span handle (unsampled trace, or a bound was hit); matches the Rust side. */
const NOOP = 0xffffffff;
/** Items of a streamed result kept as its output (the rest are counted). */
const MAX_STREAM_ITEMS = 100;
/** Bytes of request bodies that `keepalive` requests may have in flight (the Fetch spec's
 * limit, per page): what a page being left may send. */
const KEEPALIVE_BYTES = 64 * 1024;
/** How long an asynchronous outbox (IndexedDB) operation is waited for before the export goes
 * on without it (a database blocked by another tab never stops exporting). */
const OUTBOX_WAIT_MS = 5000;

const isPromise = (v) => v !== null && typeof v === "object" && typeof v.then === "function";

/** An error from agensight-wasm itself (bad options): `code` says which check failed. */
export class AgensightError extends Error {
  constructor(message, code) {
    super(message);
    this.name = "AgensightError";
    this.code = code;
  }
}

/** Rethrows a wasm-side `AgensightError` (a plain Error with name and code) as the class. */
function asAgensightError(e, context) {
  if (e instanceof AgensightError) return e;
  if (e && e.name === "AgensightError") return new AgensightError(e.message, e.code);
  return new AgensightError(`${context}: ${e && e.message ? e.message : String(e)}`, "invalid_option");
}

/**
 * @param {object} p
 * @param {object|null} p.wasm the wasm-bindgen module (initialized), or null if loading failed
 * @param {{active(): number, run(h: number, fn: Function): any, kind: string}} p.context
 * @param {(config: object) => ({write(text: string): void, read?(): string} | null)} p.openStore
 * @param {(n: number) => Uint8Array} p.randomBytes
 * @param {() => number} p.now milliseconds since the epoch, sub-millisecond where the runtime has it
 * @param {(fn: () => void) => void} p.defer runs fn soon, without keeping the process alive
 * @param {(fn: (canSend?: boolean) => void) => void} [p.onExit] runs fn synchronously when the
 *   process exits or the page is left; `fn(true)` where requests can still go out (a page:
 *   `keepalive` fetches), anything else where they cannot (Node's `exit`): then the export
 *   queue is only written to the outbox
 * @param {(fn: () => void) => void} [p.onIdle] runs fn when the process is about to exit
 *   with nothing left to do (Node's beforeExit): a last chance to send
 * @param {(config: object) => ({list(): {id: number, text: string}[] | Promise<{id: number, text: string}[]>, put(id: number, text: string): void | Promise<void>, delete(id: number): void | Promise<void>} | null)} [p.openOutbox]
 *   the durable export queue's storage (files, IndexedDB); null or absent: memory only. Each
 *   method may be synchronous (files) or return a Promise (IndexedDB): an asynchronous list()
 *   is restored after init() returns, before the first send; an asynchronous put() is waited
 *   for before the job's first send
 * @param {boolean} [p.saveEarly] write finished traces to the outbox as they end (in a
 *   microtask: the traces ending in one task make one job), not only before their first send:
 *   for browsers, where a page being left cannot write IndexedDB any more (Chromium aborts an
 *   unloading document's transactions)
 * @param {(...args: any[]) => void} [p.warn]
 * @param {any} [p.loadError] why the wasm could not be loaded
 */
export function createAgensight({ wasm, context, openStore, openOutbox, saveEarly = false, randomBytes, now, defer, onExit, onIdle, warn = (...args) => console.warn(...args), loadError }) {
  let state = null; // { epoch, config, store, outbox, exporting, fetch, redact, captureInput, captureOutput, maxBytes }
  let epoch = 0;
  let broken = !wasm;
  let warned = false;
  let writeScheduled = false;

  const warnOnce = (...args) => {
    if (!warned) {
      warned = true;
      warn(...args);
    }
  };
  if (!wasm) warnOnce("agensight: the WebAssembly core could not be loaded; tracing is off and your functions run untraced.", loadError ?? "");

  /** After an internal failure (a trap leaves the wasm instance unusable): tracing off. */
  function fail(err) {
    broken = true;
    warnOnce("agensight: tracing stopped after an internal error; your app is unaffected.", err);
  }

  function drainLocal() {
    writeScheduled = false;
    if (!state || broken || !state.store) return;
    try {
      // UTF-8 bytes: stores that keep bytes (file, memory) take them as they are.
      const lines = wasm.takeLocal();
      if (lines.length) state.store.write(state.store.bytes ? lines : utf8.decode(lines));
    } catch (e) {
      warnOnce("agensight: could not write the local trace store:", e);
    }
  }
  onExit?.((canSend) => {
    drainLocal();
    exitExport(canSend === true);
  });

  function scheduleWrite() {
    if (!writeScheduled) {
      writeScheduled = true;
      defer(drainLocal);
    }
  }

  /**
   * Configures tracing; call once at start-up (again to reconfigure).
   * @param {object} [options] see index.d.ts `InitOptions`
   */
  function init(options = {}) {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new AgensightError("init(): options must be an object, such as init({ name: \"my-app\" })", "invalid_option");
    }
    // Without a working wasm core (it failed to load, or trapped) tracing stays off; the
    // warning has been given and the app runs on.
    if (broken) return;
    const plain = {};
    for (const [k, v] of Object.entries(options)) {
      if (v !== undefined) plain[k] = typeof v === "function" ? "function" : v;
    }
    let text;
    try {
      text = JSON.stringify(plain);
    } catch (e) {
      throw new AgensightError(`init(): options must be plain data (${e.message})`, "invalid_option");
    }
    if (state) drainLocal();
    let config;
    try {
      config = JSON.parse(wasm.configure(text, randomBytes(32), now()));
    } catch (e) {
      throw asAgensightError(e, "init()");
    }
    let store = null;
    if (config.storage !== "none" && config.mode !== "prod") store = openStore(config);
    const exporting = config.mode !== "local";
    state = {
      epoch: ++epoch,
      config,
      store,
      exporting,
      outbox: exporting && openOutbox ? openOutbox(config) : null,
      // The `fetch` option; undefined: the global fetch, read at each send (js/transport.js).
      fetch: typeof options.fetch === "function" ? options.fetch : undefined,
      redact: typeof options.redact === "function" ? options.redact : null,
      captureInput: config.captureInput,
      captureOutput: config.captureOutput,
      maxBytes: config.maxFieldBytes,
    };
    restoreOutbox(state);
    scheduleExport();
  }

  // ---- The outbox (dev and prod): the export queue's jobs, kept by the entry's storage. ----
  let outboxWarned = false;

  function outboxFailed(e) {
    if (!outboxWarned) {
      outboxWarned = true;
      warn("agensight: the export outbox failed; traces not yet exported may not survive a restart:", e);
    }
  }

  /**
   * Calls `outbox[method](...args)`; never throws. Returns undefined when it finished
   * synchronously, else a Promise that resolves (never rejects) when it settles or after
   * OUTBOX_WAIT_MS.
   */
  function outboxCall(outbox, method, ...args) {
    let r;
    try {
      r = outbox[method](...args);
    } catch (e) {
      outboxFailed(e);
      return undefined;
    }
    if (!isPromise(r)) return undefined;
    let timer;
    return Promise.race([Promise.resolve(r).catch(outboxFailed), new Promise((resolve) => (timer = setTimeout(resolve, OUTBOX_WAIT_MS)))]).finally(() => clearTimeout(timer));
  }

  /** Gives the queue what an earlier process or page left in the outbox (ids kept, so the
   * receiver can dedupe), and deletes entries it does not take (another exporter's, torn). */
  function restoreEntries(st, entries) {
    if (state !== st || broken) return;
    try {
      for (const { id, text } of entries ?? []) if (!wasm.exportRestore(text)) outboxCall(st.outbox, "delete", id);
    } catch (e) {
      fail(e);
    }
  }

  /** At init(): what the outbox holds goes out first. An asynchronous outbox (IndexedDB) is
   * read after init() returns; `st.restoring` settles once it is in the queue, and every pump
   * waits for it, so restored jobs still go before new ones. */
  function restoreOutbox(st) {
    if (!st.outbox) return;
    let listed;
    try {
      listed = st.outbox.list();
    } catch (e) {
      outboxFailed(e);
      return;
    }
    if (!isPromise(listed)) return restoreEntries(st, listed);
    let timer;
    st.restoring = Promise.race([
      Promise.resolve(listed).then((entries) => restoreEntries(st, entries), outboxFailed),
      new Promise((resolve) => (timer = setTimeout(resolve, OUTBOX_WAIT_MS))),
    ]).finally(() => {
      clearTimeout(timer);
      scheduleExport();
    });
  }

  // ---- Export (dev and prod): the queue is in Rust; this loop only moves its requests, ----
  // ---- which js/transport.js sends. ----
  let pumping = null;
  let exportTimer = null;
  let exitSent = false;
  let exportWarned = false;

  // dev prints export failures as they come, but at most one a second: a receiver that is down
  // for minutes would otherwise flood the console with retries.
  let lastDevWarn = -Infinity;
  let suppressed = 0;
  function exportWarnings(st) {
    for (const line of wasm.exportWarnings().split("\n")) {
      if (!line) continue;
      if (st.config.mode === "dev") {
        if (now() - lastDevWarn < 1000) {
          suppressed++;
          continue;
        }
        lastDevWarn = now();
        warn(`agensight: ${line}${suppressed ? ` (${suppressed} more export warnings in the last seconds not shown)` : ""}`);
        suppressed = 0;
      } else if (!exportWarned) {
        exportWarned = true;
        warn(`agensight: export failing: ${line} (later export warnings are silent in prod; mode "dev" shows them all)`);
      }
    }
  }

  /** Sends every request that is due; resolves when those are answered. One pump at a time. */
  function pump(force = false, keepalive = false) {
    if (pumping) return pumping;
    const st = state;
    if (!st?.exporting || broken) return Promise.resolve();
    pumping = (async () => {
      // Yield first: `pumping` must be set before this body can finish and clear it.
      await null;
      // The outbox of an earlier page goes first (an asynchronous outbox is still being read).
      if (st.restoring) await st.restoring;
      try {
        for (;;) {
          const sends = [];
          for (let id; (id = wasm.exportNext(now(), force)); ) sends.push(sendJob(st, id, keepalive));
          for (const id of wasm.exportDropped()) if (st.outbox) outboxCall(st.outbox, "delete", id);
          exportWarnings(st);
          if (sends.length === 0) break;
          await Promise.all(sends);
        }
      } catch (e) {
        fail(e);
      } finally {
        pumping = null;
      }
      scheduleExport();
    })();
    return pumping;
  }

  // Outbox writes under way (job id -> Promise), from saveOutbox: a send waits for its job's.
  const saving = new Map();
  let saveScheduled = false;

  /** Writes what is not in the outbox yet (waiting traces made into jobs now, held until
   * their batch is due), without waiting for the writes (saveEarly: in a microtask after traces
   * end, so before the page can be left: that takes another task). */
  function saveOutbox() {
    saveScheduled = false;
    const st = state;
    if (!st?.outbox || broken) return;
    try {
      for (const id of wasm.exportUnsaved(now())) {
        const saved = wasm.exportPersist(id);
        const p = saved ? outboxCall(st.outbox, "put", id, saved) : undefined;
        if (p) {
          saving.set(id, p);
          p.then(() => saving.delete(id));
        }
      }
    } catch (e) {
      fail(e);
    }
    scheduleExport();
  }

  /** Writes job `id` to the outbox (the first time; waiting for an asynchronous outbox), then
   * sends its next request; deletes the outbox copy once the job is done. */
  function sendJob(st, id, keepalive) {
    const saved = wasm.exportPersist(id);
    const stored = saved && st.outbox ? outboxCall(st.outbox, "put", id, saved) : saving.get(id);
    const go = () => exportSend(st, id, keepalive).then((done) => (done && st.outbox ? outboxCall(st.outbox, "delete", id) : undefined));
    return stored ? stored.then(go) : go();
  }

  /** Sends job `id`'s next request (built by the queue) and gives the queue the answer.
   * Resolves to true when the job is finished (accepted or given up), so its outbox copy can
   * go; rejects only when the wasm fails (the caller turns tracing off). The fetch starts
   * synchronously: a page being left (pagehide) gets its keepalive requests out. */
  async function exportSend(st, id, keepalive) {
    const text = wasm.exportRequest(id);
    if (!text) return true;
    const answer = await send(JSON.parse(text), { keepalive, fetch: st.fetch });
    // Tracing stopped while the request was out: the job stays in the outbox.
    if (broken) return false;
    return wasm.exportDone(id, answer.status, answer.retryAfterMs, answer.body, answer.error, now());
  }

  // Bytes of keepalive request bodies in flight (see KEEPALIVE_BYTES).
  let keepaliveBytes = 0;

  /**
   * Leaving (a page hidden or closed, a process exiting), synchronously. `canSend`: one
   * forced round of `keepalive` requests, only the jobs whose next request fits what is left
   * of the keepalive budget (they are written to the outbox too, without waiting: the page is
   * going). Then every job not in the outbox yet (traces waiting for their batch included) is
   * written there, so the next start sends it.
   */
  function exitExport(canSend) {
    const st = state;
    if (!st?.exporting || broken) return;
    try {
      if (canSend) {
        for (let id; (id = wasm.exportNext(now(), true, KEEPALIVE_BYTES - keepaliveBytes)); ) {
          const bytes = wasm.exportBodyBytes(id);
          keepaliveBytes += bytes;
          const saved = wasm.exportPersist(id);
          if (saved && st.outbox) outboxCall(st.outbox, "put", id, saved);
          exportSend(st, id, true).then(
            (done) => {
              keepaliveBytes -= bytes;
              if (done && st.outbox) outboxCall(st.outbox, "delete", id);
              // The page may still be there (only hidden): the rest goes the usual way.
              scheduleExport();
            },
            (e) => fail(e),
          );
        }
      }
      if (st.outbox) {
        for (const id of wasm.exportUnsaved(now())) {
          const saved = wasm.exportPersist(id);
          if (saved) outboxCall(st.outbox, "put", id, saved);
        }
        for (const id of wasm.exportDropped()) outboxCall(st.outbox, "delete", id);
      }
    } catch (e) {
      fail(e);
    }
    if (canSend) scheduleExport();
  }

  /** Arms a timer for the queue's next due time (batch delay, retry backoff). */
  function scheduleExport() {
    if (!state?.exporting || broken || pumping) return;
    let wait;
    try {
      wait = wasm.exportWake(now());
    } catch (e) {
      return fail(e);
    }
    if (wait < 0) return;
    if (exportTimer) clearTimeout(exportTimer);
    exportTimer = setTimeout(() => {
      exportTimer = null;
      pump();
    }, wait);
    // Background sends never keep a process alive; flush() and the exit hook do the waiting.
    exportTimer?.unref?.();
  }

  onIdle?.(() => {
    // The app is done: one last forced round, once per batch of new traces (the outbox keeps
    // what is not accepted, for the next start).
    if (exitSent || !state?.exporting || broken) return;
    exitSent = true;
    pump(true);
  });

  // Captured text crosses through one buffer in wasm memory (wasm.textBuffer): encodeInto
  // writes the UTF-8 natively and only the byte count crosses, instead of a malloc call and a
  // byte loop in JS per string. A view whose memory grew since is detached (byteLength 0) and
  // is made again. Call passText as the last argument of the wasm call it feeds: nothing may
  // run between the write and that call.
  const encoder = new TextEncoder();
  const utf8 = new TextDecoder();
  let textView = new Uint8Array(0);
  function passText(text) {
    if (text === "") return 0;
    for (;;) {
      if (textView.byteLength >= text.length) {
        const r = encoder.encodeInto(text, textView);
        if (r.read === text.length) return r.written;
      }
      // Three UTF-8 bytes per UTF-16 unit at most.
      const size = Math.max(text.length * 3, 4096);
      const at = wasm.textBuffer(size); // may grow the memory: take its buffer after
      textView = new Uint8Array(wasm.wasmMemory().buffer, at, size);
    }
  }

  function capture(value) {
    if (state.redact) {
      try {
        value = state.redact(JSON.parse(toJson(value, state.maxBytes)));
      } catch (e) {
        return toJson(`[redact function threw: ${errorInfo(e).message}]`);
      }
    }
    return toJson(value, state.maxBytes);
  }

  /** A trace (or late span) was handed on: write it locally and/or send it soon. */
  function emitted() {
    if (state.store) scheduleWrite();
    if (state.exporting) {
      exitSent = false;
      if (saveEarly && state.outbox && !saveScheduled) {
        saveScheduled = true;
        queueMicrotask(saveOutbox);
      }
      if (!exportTimer) scheduleExport();
    }
  }

  // `ep`: the init() epoch the span started in. After a new init() the tracer is a new one
  // whose handles reuse the same numbers, so a span still running across init() is dropped.
  function endOk(h, value, ep) {
    if (h === NOOP || broken || !state || ep !== state.epoch) return;
    try {
      if (wasm.end(h, now(), state.captureOutput ? passText(capture(value)) : 0)) emitted();
    } catch (e) {
      fail(e);
    }
  }

  /** Ends a streamed span: its output is the response Rust aggregated from the chunks. */
  function endStream(h, ep) {
    if (h === NOOP || broken || !state || ep !== state.epoch) return;
    try {
      if (wasm.end(h, now(), 0)) emitted();
    } catch (e) {
      fail(e);
    }
  }

  function endError(h, err, ep) {
    if (h === NOOP || broken || !state || ep !== state.epoch) return;
    try {
      const i = errorInfo(err);
      // Rust masks these and cuts them to maxFieldBytes (looking 256 bytes past the cut for
      // secrets); a 10 MB message need not cross whole.
      const max = state.maxBytes + 256;
      const cut = (s) => (s.length > max ? s.slice(0, max) : s);
      if (wasm.endError(h, now(), cut(i.name), cut(i.message), cut(i.stack))) emitted();
    } catch (e) {
      fail(e);
    }
  }

  /** Wraps an async iterator so the span ends when it is consumed, fails or is closed. */
  function traceAsyncIterable(iterable, h, ep) {
    const items = [];
    let count = 0;
    let done = false;
    const finish = (err, failed) => {
      if (done) return;
      done = true;
      if (failed) endError(h, err, ep);
      else endOk(h, count > items.length ? { items, count } : items, ep);
    };
    let it;
    const iterator = () => (it ??= iterable[Symbol.asyncIterator]());
    const step = async (method, arg) => {
      const target = iterator();
      if (typeof target[method] !== "function") {
        finish();
        return method === "throw" ? Promise.reject(arg) : { value: arg, done: true };
      }
      let r;
      try {
        r = await context.run(h, () => target[method](arg));
      } catch (err) {
        finish(err, true);
        throw err;
      }
      if (r.done) finish();
      else if (count++ < MAX_STREAM_ITEMS) items.push(r.value);
      return r;
    };
    return {
      next: (v) => step("next", v),
      return: (v) => step("return", v).finally(() => finish()),
      throw: (e) => step("throw", e),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Calls fn inside span h and ends the span when fn's result settles. */
  function invoke(fn, self, args, h) {
    const ep = state?.epoch;
    let result;
    try {
      result = fn.apply(self, args);
    } catch (err) {
      endError(h, err, ep);
      throw err;
    }
    if (result !== null && (typeof result === "object" || typeof result === "function")) {
      let then;
      try {
        then = result.then;
      } catch {
        then = undefined;
      }
      if (typeof then === "function") {
        if (result instanceof Promise && result.constructor === Promise) {
          return result.then(
            (v) => (endOk(h, v, ep), v),
            (e) => {
              endError(h, e, ep);
              throw e;
            },
          );
        }
        // A Promise subclass or thenable (an SDK's API promise with extra methods): observe
        // it and hand back the very same object.
        try {
          then.call(result, (v) => endOk(h, v, ep), (e) => endError(h, e, ep));
        } catch (e) {
          endError(h, e, ep);
        }
        return result;
      }
      let asyncIterable = false;
      try {
        asyncIterable = typeof result[Symbol.asyncIterator] === "function";
      } catch {}
      if (asyncIterable) return traceAsyncIterable(result, h, ep);
    }
    endOk(h, result, ep);
    return result;
  }

  function wrap(fn, opts, isTrace) {
    const api = isTrace ? "trace" : "span";
    if (typeof fn !== "function") throw new TypeError(`${api}(): expected a function to wrap, got ${fn === null ? "null" : typeof fn}`);
    const o = typeof opts === "string" ? { name: opts } : opts ?? {};
    if (typeof o !== "object") throw new TypeError(`${api}(): options must be a name or an object, got ${typeof o}`);
    const name = typeof o.name === "string" && o.name ? o.name : fn.name || "anonymous";
    const kind = typeof o.kind === "string" && o.kind ? o.kind : isTrace ? "trace" : "span";
    const metadata = o.metadata === undefined ? "" : toJson(o.metadata);
    let session = null;
    if (isTrace && o.session !== undefined && o.session !== null && wasm && !broken) {
      try {
        session = wasm.checkSession(toJson(o.session));
      } catch (e) {
        // A bad session is the caller's mistake; anything else (a trap) turns tracing off.
        if (!e || e.name !== "AgensightError") fail(e);
        else throw asAgensightError(e, "trace()");
      }
    }
    let def = 0;
    let defEpoch = 0;

    function traced(...args) {
      if (new.target) return Reflect.construct(fn, args, new.target);
      if (broken || !state) {
        if (!state && !broken) warnOnce("agensight: a traced function ran before init(); it runs untraced until init() is called.");
        return fn.apply(this, args);
      }
      let h;
      try {
        const parent = context.active();
        if (parent === NOOP) return fn.apply(this, args);
        if (defEpoch !== state.epoch) {
          def = wasm.define(name, kind, metadata);
          defEpoch = state.epoch;
        }
        const input = state.captureInput ? capture(args) : "";
        h = session && parent === 0 ? wasm.startWithSession(def, parent, now(), session, passText(input)) : wasm.start(def, parent, now(), passText(input));
      } catch (e) {
        fail(e);
        return fn.apply(this, args);
      }
      return context.run(h, () => invoke(fn, this, args, h));
    }
    try {
      Object.defineProperty(traced, "name", { value: fn.name, configurable: true });
      Object.defineProperty(traced, "length", { value: fn.length, configurable: true });
    } catch {}
    return traced;
  }

  /**
   * Writes what is buffered, sends what waits for export (retrying as the policy says, for at
   * most `timeoutMs`), and reports what happened to the spans so far: `exported` counts only
   * spans the receiver accepted.
   * @param {{ timeoutMs?: number }} [options]
   * @returns {Promise<{exported: number, failed: number, pending: number, dropped: number}>}
   */
  async function flush({ timeoutMs = 30000 } = {}) {
    drainLocal();
    if (!state || broken) return { exported: 0, failed: 0, pending: 0, dropped: 0 };
    if (state.exporting) {
      const deadline = now() + timeoutMs;
      for (;;) {
        await pump(true);
        const wait = broken ? -1 : wasm.exportWake(now());
        if (wait < 0 || now() >= deadline) break;
        // A plain (ref'd) timer: the process stays up while flush() waits for a retry.
        await new Promise((r) => setTimeout(r, Math.min(wait, deadline - now())));
      }
    }
    if (broken) return { exported: 0, failed: 0, pending: 0, dropped: 0 };
    try {
      const s = JSON.parse(wasm.stats());
      return { exported: s.exported, failed: s.failed, pending: s.pending, dropped: s.dropped };
    } catch (e) {
      fail(e);
      return { exported: 0, failed: 0, pending: 0, dropped: 0 };
    }
  }

  /** Flushes, then turns tracing off until the next `init()`. */
  async function shutdown(options) {
    const result = await flush(options);
    if (exportTimer) clearTimeout(exportTimer);
    exportTimer = null;
    state = null;
    return result;
  }

  function idOf(which) {
    const h = context.active();
    if (!state || broken || h === 0 || h === NOOP) return undefined;
    try {
      return wasm[which](h) ?? undefined;
    } catch (e) {
      fail(e);
      return undefined;
    }
  }

  /**
   * Starts a span by hand, for wrappers that are not a plain function wrap (provider clients,
   * worker handlers). `remote` ({ traceId, spanId } from a traceparent) continues a trace from
   * another process when no span is active. Returns null when nothing is recorded; the caller
   * then runs its work untraced.
   */
  function begin(name, { kind = "span", args, remote } = {}) {
    if (broken || !state) return null;
    try {
      const parent = context.active();
      if (parent === NOOP) return null;
      const def = wasm.define(name, kind, "");
      const input = args !== undefined && state.captureInput ? capture(args) : "";
      const h = remote && parent === 0 ? wasm.startRemote(def, remote.traceId, remote.spanId, now(), passText(input)) : wasm.start(def, parent, now(), passText(input));
      if (h === NOOP) return null;
      const ep = state.epoch;
      return {
        handle: h,
        /** Runs fn with this span active; a Promise result ends nothing (see `call`). */
        run: (fn) => context.run(h, fn),
        /** Calls fn(...args) as this span's body: the span ends when its result settles. */
        call: (fn, self, callArgs) => context.run(h, () => invoke(fn, self, callArgs, h)),
        /** One chunk of a streamed LLM response (captured like an output: redact, limits). */
        chunk(value) {
          if (broken || state?.epoch !== ep) return;
          try {
            wasm.streamChunk(h, passText(capture(value)));
          } catch (e) {
            fail(e);
          }
        },
        end: (value) => endOk(h, value, ep),
        endStream: () => endStream(h, ep),
        fail: (err) => endError(h, err, ep),
        traceparent() {
          if (broken) return undefined;
          try {
            return wasm.traceparent(h) ?? undefined;
          } catch (e) {
            fail(e);
            return undefined;
          }
        },
      };
    } catch (e) {
      fail(e);
      return null;
    }
  }

  const providers = createProviders({ begin });

  return {
    init,
    trace: (fn, opts) => wrap(fn, opts, true),
    span: (fn, opts) => wrap(fn, opts, false),
    flush,
    shutdown,
    currentTraceId: () => idOf("traceId"),
    currentSpanId: () => idOf("spanId"),
    wrapOpenAI: providers.wrapOpenAI,
    wrapAnthropic: providers.wrapAnthropic,
    /** The active configuration (normalized), or undefined before init(). */
    config: () => state?.config,
    /** For the package's own wrappers (providers, workers, propagation); not public API. */
    internal: { begin, currentTraceparent: () => idOf("traceparent"), context },
  };
}
