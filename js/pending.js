// The span calls made before the wasm core is ready (the browser entry loads it without
// top-level await, and init() stays synchronous), kept in order with their own timestamps and
// recorded when it is. Bounded: at most `max` definitions, starts and stream chunks wait;
// a start past that is refused (the span and what runs inside it go unrecorded) and counted as
// dropped, which flush() reports. Ends and errors of logged spans are always kept (at most one
// per start), so a logged span never stays open.

/** Operations kept while the core loads. */
export const MAX_PENDING = 1000;
/** Provisional ids start above every u32 handle, so they never collide with real ones. */
const FIRST_ID = 2 ** 32;
const NOOP = 0xffffffff;
/** The core's "definition evicted: define again" answer to a start (see bridge.js). */
const REDEFINE = 0;

/** @param {number} [max] */
export function createPendingLog(max = MAX_PENDING) {
  let ops = [];
  let counted = 0; // definitions, starts and chunks in `ops`
  let nextId = FIRST_ID;
  let dropped = 0;
  let starts = 0; // spans in `ops`
  const known = new Set(); // provisional handles logged (ends are kept for these only)
  const mapped = new Map(); // provisional id -> real handle or definition, after replay

  const room = () => counted < max;

  return {
    /** Spans (and stream chunks) refused because the log was full. */
    get dropped() {
      return dropped;
    },
    /** Spans logged and not replayed yet. */
    get spans() {
      return starts;
    },
    /** The real handle of provisional id `h` (NOOP when it was not recorded). */
    real: (h) => mapped.get(h) ?? NOOP,
    /** `session`: a trace's own session, unchecked JSON ("" for none). */
    define(name, kind, metadata, session = "") {
      if (!room()) return NOOP;
      counted++;
      const id = nextId++;
      ops.push({ op: "define", id, name, kind, metadata, session });
      return id;
    },
    /** `extra`: `{traceId, spanId}` of a remote parent. */
    start(def, parent, now, input, extra) {
      if (!room() || def === NOOP || def === 0) {
        dropped++;
        return NOOP;
      }
      counted++;
      starts++;
      const h = nextId++;
      known.add(h);
      ops.push({ op: "start", h, def, parent, now, input, extra });
      return h;
    },
    end(h, now, output) {
      if (known.delete(h)) ops.push({ op: "end", h, now, output });
    },
    endError(h, now, name, message, stack) {
      if (known.delete(h)) ops.push({ op: "error", h, now, name, message, stack });
    },
    chunk(h, text) {
      if (!known.has(h)) return;
      if (!room()) return void dropped++;
      counted++;
      ops.push({ op: "chunk", h, text });
    },
    /** An LLM call declared on span `h` (`{system, operation, model?, ...}`). */
    declare(h, call) {
      if (!known.has(h)) return;
      if (!room()) return void dropped++;
      counted++;
      ops.push({ op: "declare", h, call });
    },
    /** Forgets the log (tracing off); `count`: its spans are counted as dropped (a new
     * init() while loading: the spans of the one before are not recorded). */
    clear(count = false) {
      if (count) dropped += starts;
      ops = [];
      counted = 0;
      starts = 0;
      known.clear();
    },
    /**
     * Plays the log into `port` (the bridge's live span port), in order. A trace's session
     * is checked now (by the port's define); a bad one is left out rather than losing the
     * trace. Returns true when a trace was handed on.
     */
    replay(port) {
      const log = ops;
      ops = [];
      counted = 0;
      starts = 0;
      known.clear();
      let emitted = false;
      const id = (x) => (x > NOOP ? (mapped.get(x) ?? NOOP) : x);
      const defines = new Map(); // provisional definition id -> its logged op
      const define = (o) => mapped.set(o.id, port.define(o.name, o.kind, o.metadata, o.session));
      for (const o of log) {
        if (o.op === "define") {
          defines.set(o.id, o);
          define(o);
        } else if (o.op === "start") {
          let h = startLogged(port, o, id(o.def), id(o.parent));
          // Evicted from the core's bounded definition table meanwhile: defined again.
          if (h === REDEFINE && defines.has(o.def)) {
            define(defines.get(o.def));
            h = startLogged(port, o, id(o.def), id(o.parent));
          }
          mapped.set(o.h, h === REDEFINE ? NOOP : h);
        } else if (o.op === "end") emitted = port.end(id(o.h), o.now, o.output) || emitted;
        else if (o.op === "error") emitted = port.endError(id(o.h), o.now, o.name, o.message, o.stack) || emitted;
        else if (o.op === "declare") port.declare(id(o.h), o.call);
        else port.streamChunk(id(o.h), o.text);
      }
      return emitted;
    },
  };
}

function startLogged(port, o, def, parent) {
  if (def === NOOP || parent === NOOP) return NOOP;
  const x = o.extra;
  if (x?.traceId && parent === 0) return port.startRemote(def, x.traceId, x.spanId, o.now, o.input);
  return port.start(def, parent, o.now, o.input);
}
