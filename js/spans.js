// The span lifecycle: `trace()`/`span()` wrappers, calling the wrapped function inside its span
// and ending the span when the result settles (sync values, Promises, thenables, async
// iterables), and `begin()`, the by-hand form the package's own wrappers use (providers.js,
// worker.js, propagation.js). Talks to the core only through the bridge's span port.
//
// A wrapped function behaves exactly like the original: same `this`, arguments, return value
// and thrown error; sync stays sync. Nothing here throws into user code.

import { NOOP, REDEFINE } from "./bridge.js";
import { toJson } from "./serialize.js";

/** Items of a streamed result kept as its output (the rest are counted). */
const MAX_STREAM_ITEMS = 100;
/** Span-ending callback pairs kept for reuse once their Promise settled (invoke). */
const IDLE_WATCHERS = 64;
/** The built-in then: it runs one of its two callbacks once, so they can be reused after. */
const promiseThen = Promise.prototype.then;

/**
 * @typedef {object} SpanState what spans need of the current init()
 * @property {number} epoch which init() (a span ends only in the init() it started in)
 * @property {boolean} captureInput
 * @property {boolean} captureOutput
 * @property {ReturnType<import("./capture.js").createCapture>} capture
 */

/**
 * @param {object} p
 * @param {ReturnType<import("./bridge.js").createBridge>} p.bridge
 * @param {{active(): number, run(h: number, fn: Function): any, call(h: number, fn: Function, ...args: any[]): any}} p.context
 * @param {() => number} p.now
 * @param {() => SpanState | null} p.current the current init()'s state, null before init()
 * @param {(drainNow?: boolean) => void} p.emitted a trace was handed on (local lines or export
 *   work waiting); `drainNow`: the core's local lines passed its threshold, write them now
 * @param {(...args: any[]) => void} p.warnOnce
 */
export function createSpans({ bridge, context, now, current, emitted, warnOnce }) {
  const port = bridge.span;

  // `ep`: the init() the span started in. After a new init() the tracer is a new one whose
  // handles reuse the same numbers, so a span still running across init() is dropped.
  // `response`: the value is a declared LLM call's whole response, which the core reads for
  // usage and completions even with output capture off (it keeps it as the output only when
  // capture is on).
  function endOk(h, value, ep, response = false) {
    const st = current();
    if (h === NOOP || st === null || ep !== st.epoch) return;
    const c = st.capture;
    if (!(st.captureOutput || response)) handedOn(port.end(h, now(), ""));
    else if (c.plain) handedOn(port.endValue(h, now(), value, c.maxBytes));
    else handedOn(port.end(h, now(), c.value(value)));
  }

  /** Ends a streamed span: its output is the response the core aggregated from the chunks. */
  function endStream(h, ep) {
    const st = current();
    if (h === NOOP || st === null || ep !== st.epoch) return;
    handedOn(port.end(h, now(), ""));
  }

  function endError(h, err, ep) {
    const st = current();
    if (h === NOOP || st === null || ep !== st.epoch) return;
    const i = st.capture.error(err);
    handedOn(port.endError(h, now(), i.name, i.message, i.stack));
  }

  /** What `end` returned: 0 nothing, 1 handed on, 2 handed on and the local lines are due
   * now (code that never yields to the store's timer still gets them written). */
  function handedOn(r) {
    if (r) emitted(r === 2);
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

  // What ends a span when its Promise settles: a pair of callbacks for the built-in then, made
  // once and reused: no closures and context allocated per async span (-5% of it, HACKING "The
  // per-span hot path"). A pair is back in `idle` once one of the two has run (the built-in
  // then never runs the other, nor one twice); at most IDLE_WATCHERS wait there.
  const idle = [];
  function watcher() {
    const w = { h: 0, ep: 0, ok: null, err: null };
    // The arguments are read left to right: the handle, then the epoch as the pair goes back.
    w.ok = (v) => (endOk(w.h, v, release(w)), v);
    w.err = (e) => {
      endError(w.h, e, release(w));
      throw e;
    };
    return w;
  }
  /** Puts a settled pair back for reuse; returns its span's epoch. */
  function release(w) {
    if (idle.length < IDLE_WATCHERS) idle.push(w);
    return w.ep;
  }

  /** Calls fn inside span h and ends the span when fn's result settles. */
  function invoke(fn, self, args, h, ep) {
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
          // The built-in then calls one of the two once: the pair can be pooled.
          if (then === promiseThen) {
            const w = idle.pop() ?? watcher();
            w.h = h;
            w.ep = ep;
            return then.call(result, w.ok, w.err);
          }
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

  /** The options of trace()/span(), checked once at wrap time. */
  function parseOptions(fn, opts, isTrace) {
    const api = isTrace ? "trace" : "span";
    if (typeof fn !== "function") throw new TypeError(`${api}(): expected a function to wrap, got ${fn === null ? "null" : typeof fn}`);
    const o = typeof opts === "string" ? { name: opts } : opts ?? {};
    if (typeof o !== "object") throw new TypeError(`${api}(): options must be a name or an object, got ${typeof o}`);
    const session = isTrace && o.session !== undefined && o.session !== null ? o.session : undefined;
    // A bad session is the caller's mistake, told at wrap time (when the core is there to
    // check it; while it loads, a bad one is left out when the trace is recorded).
    const st = current();
    if (session !== undefined && !bridge.loading) bridge.checkSession((st?.capture ?? plainCapture).session(session));
    return {
      name: typeof o.name === "string" && o.name ? o.name : fn.name || "anonymous",
      kind: typeof o.kind === "string" && o.kind ? o.kind : isTrace ? "trace" : "span",
      metadata: o.metadata,
      session,
    };
  }

  /** The span definition of one wrapped function for init() `st`: name, metadata and session
   * captured (and redacted) once per init(), and parsed once by the core. */
  function define(o, st) {
    const session = o.session !== undefined ? st.capture.session(o.session) : "";
    return { epoch: st.epoch, def: port.define(st.capture.text(o.name), o.kind, st.capture.metadata(o.metadata), session) };
  }

  /** Starts a span of definition `def` with `args` captured; plain values are written straight
   * into the core's text buffer (startValue). Made once here, not per call: the hot path. */
  function startWith(def, parent, args, st) {
    const c = st.capture;
    if (st.captureInput && c.plain) return port.startValue(def, parent, now(), args, c.maxBytes);
    return port.start(def, parent, now(), st.captureInput ? c.value(args) : "");
  }

  function wrap(fn, opts, isTrace) {
    const o = parseOptions(fn, opts, isTrace);
    let d = { epoch: 0, def: 0 };

    function traced(...args) {
      if (new.target) return Reflect.construct(fn, args, new.target);
      const st = current();
      if (st === null || bridge.off) {
        if (st === null && !bridge.off) warnOnce("agensight: a traced function ran before init(); it runs untraced until init() is called.");
        return fn.apply(this, args);
      }
      let h;
      try {
        const parent = context.active();
        if (parent === NOOP) return fn.apply(this, args);
        if (d.epoch !== st.epoch) d = define(o, st);
        h = startWith(d.def, parent, args, st);
        // The core's definition table is bounded: a definition it evicted is made again (the
        // arguments are captured again then: define() reuses the text buffer they were in).
        if (h === REDEFINE) {
          d = define(o, st);
          h = startWith(d.def, parent, args, st);
          if (h === REDEFINE) h = NOOP;
        }
      } catch (e) {
        bridge.fail(e);
        return fn.apply(this, args);
      }
      return context.call(h, invoke, fn, this, args, h, st.epoch);
    }
    try {
      Object.defineProperty(traced, "name", { value: fn.name, configurable: true });
      Object.defineProperty(traced, "length", { value: fn.length, configurable: true });
    } catch {}
    return traced;
  }

  /**
   * Starts a span by hand, for wrappers that are not a plain function wrap (provider clients,
   * worker handlers, continueTrace). `remote` ({ traceId, spanId } from a traceparent)
   * continues a trace from another process when no span is active. Returns null when nothing
   * is recorded; the caller then runs its work untraced.
   * @param {string} name
   * @param {{kind?: string, args?: any[], remote?: {traceId: string, spanId: string}}} [options]
   */
  function begin(name, { kind = "span", args, remote } = {}) {
    const st = current();
    if (st === null || bridge.off) return null;
    let h;
    try {
      const parent = context.active();
      if (parent === NOOP) return null;
      // Captured first: the user's toJSON may trace (and define) before this definition starts.
      const input = args !== undefined && st.captureInput ? st.capture.value(args) : "";
      const def = port.define(st.capture.text(name), kind, "", "");
      h = remote && parent === 0 ? port.startRemote(def, remote.traceId, remote.spanId, now(), input) : port.start(def, parent, now(), input);
    } catch (e) {
      bridge.fail(e);
      return null;
    }
    if (h === NOOP) return null;
    const ep = st.epoch;
    let declared = false;
    return {
      handle: h,
      /** Runs fn with this span active; a Promise result ends nothing (see `call`). */
      run: (fn) => context.run(h, fn),
      /** Calls fn(...args) as this span's body: the span ends when its result settles. */
      call: (fn, self, callArgs) => context.call(h, invoke, fn, self, callArgs, h, ep),
      /** One chunk of a streamed LLM response (captured like an output: redact, limits). */
      chunk(value) {
        const now = current();
        if (now?.epoch === ep) port.streamChunk(h, now.capture.value(value));
      },
      /** Tells the core which LLM call this span is (`{system, operation, model?, ...}`),
       * before any response. Not captured data: the redact function does not see it. */
      declare(call) {
        if (current()?.epoch !== ep) return;
        declared = true;
        port.declare(h, call);
      },
      /** Ends the span with `value` as its result (a declared call's whole response). */
      end: (value) => endOk(h, value, ep, declared),
      endStream: () => endStream(h, ep),
      fail: (err) => endError(h, err, ep),
      traceparent: () => port.traceparent(h),
    };
  }

  /** `traceId`, `spanId` or `traceparent` of the active span; undefined outside one. */
  function activeId(which) {
    const h = context.active();
    if (current() === null || bridge.off || h === 0 || h === NOOP) return undefined;
    return port[which](h);
  }

  return {
    trace: (fn, opts) => wrap(fn, opts, true),
    span: (fn, opts) => wrap(fn, opts, false),
    begin,
    activeId,
  };
}

/** Session text before any init() (no redact function yet): the serializer alone. */
const plainCapture = { session: (s) => toJson(s) };
