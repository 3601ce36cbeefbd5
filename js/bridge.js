// The bridge: the only module that calls the wasm core (tests/js/layers.test.mjs checks it).
// It guards every call once: a thrown error there is a wasm trap, which leaves the instance
// unusable, so the first one turns tracing off with one warning and every later call returns
// its "nothing" value without touching the wasm. The rest of js/ sees three narrow ports:
// - `span`: define/start/end/endError/streamChunk/declare, ids and traceparent (per span);
// - `local`: the local-store lines as UTF-8 bytes, a view into wasm memory (lines, taken);
// - `queue`: the export queue as js/exporter.js needs it: one poll per round (exportPoll), a
//   request as its head (JSON: url, headers) beside its body bytes (exportHead/exportBody).
// Before the wasm is attached (a browser entry still loading it), the span port records into
// a bounded log (pending.js, which that entry passes in) that is replayed in order once it is.

import { asAgensightError } from "./errors.js";
import { toJson, writeUtf8 } from "./serialize.js";

/** "Not recorded" span handle (unsampled trace, or a bound was hit); matches the Rust side. */
export const NOOP = 0xffffffff;
/** What `start` answers for a definition the core's bounded table evicted: define it again and
 * start once more (never a span handle); matches the Rust side. */
export const REDEFINE = 0;

/** The log of an entry whose core is there at once (no pending.js in its bundle): nothing is
 * kept; a start before the core is attached (the entries attach at once) counts as dropped. */
function noPendingLog() {
  let dropped = 0;
  const refuse = () => (dropped++, NOOP);
  const none = () => {};
  return { get dropped() { return dropped; }, spans: 0, real: () => NOOP, define: refuse, start: refuse, end: none, endError: none, chunk: none, declare: none, clear: none, replay: () => false };
}

const NO_POLL = Object.freeze({ dropped: [], warnings: [], wake: -1, load: [] });
const NO_STATS = Object.freeze({ exported: 0, failed: 0, pending: 0, dropped: 0 });
const EMPTY = new Uint8Array(0);

/**
 * @param {object} p
 * @param {(...args: any[]) => void} p.warnOnce the package's one warning (shared with core.js)
 * @param {number} [p.maxPending] operations kept while the wasm is loading
 * @param {(max?: number) => ReturnType<typeof noPendingLog>} [p.pendingLog] pending.js's
 *   createPendingLog, from an entry that loads the wasm asynchronously
 */
export function createBridge({ warnOnce, maxPending, pendingLog = noPendingLog }) {
  let wasm = null;
  // "loading": not attached yet (spans are logged); "ready"; "off": failed to load or trapped.
  let status = "loading";
  const pending = pendingLog(maxPending);

  /** After a trap (or a failed load): tracing off, one warning. */
  function fail(err) {
    status = "off";
    pending.clear();
    warnOnce("agensight: tracing stopped after an internal error; your app is unaffected.", err);
  }

  /** `fn` behind the guard: never throws; `fallback` once tracing is off. Fixed arity, so the
   * hot calls allocate nothing. */
  function guarded(fn, fallback) {
    return (a, b, c, d, e, f) => {
      if (status !== "ready") return fallback;
      try {
        return fn(a, b, c, d, e, f);
      } catch (err) {
        fail(err);
        return fallback;
      } finally {
        if (saved !== null) putBack();
      }
    };
  }

  // ---- Captured text: through one buffer in wasm memory (HACKING, "The per-span hot path"). ----
  // encodeInto writes the UTF-8 natively and only the byte count crosses. A view whose memory
  // grew since is detached (byteLength 0) and is made again. passText must be the LAST
  // argument of the wasm call it feeds (nothing may run between the write and that call), and
  // wasmMemory().buffer is taken only AFTER textBuffer(), which may grow the memory.
  const encoder = new TextEncoder();
  let textView = new Uint8Array(0);
  function passText(text) {
    if (text === "") return 0;
    for (;;) {
      if (textView.byteLength >= text.length) {
        if (writing) save(text.length * 3);
        const r = encoder.encodeInto(text, textView);
        if (r.read === text.length) return r.written;
      }
      // Three UTF-8 bytes per UTF-16 unit at most.
      growText(text.length * 3);
    }
  }
  /** A view of at least `bytes` of the text buffer. */
  function growText(bytes) {
    const size = Math.max(bytes, 4096);
    const at = wasm.textBuffer(size);
    textView = new Uint8Array(wasm.wasmMemory().buffer, at, size);
  }

  // A captured value (no redact function) is written into the text buffer as UTF-8 by the
  // serializer itself (writeUtf8: no string built, no encodeInto); anything but plain data
  // crosses as toJson's text. A getter read meanwhile may run a traced call, whose own text
  // then goes through the same buffer: that call saves the bytes it writes over and the guard
  // puts them back once its wasm call returned (`saved`), so the value being written stays
  // whole and no getter is read twice.
  let writing = false;
  let saved = null;
  function passValue(value, maxBytes) {
    if (textView.byteLength === 0) growText(4096);
    const view = textView;
    const outer = writing;
    writing = true;
    let n;
    try {
      n = writeUtf8(value, maxBytes, view);
    } finally {
      writing = outer;
    }
    // The buffer moved (a traced call in a getter grew it): the bytes are not where they were.
    if (n >= 0 && view === textView) return n;
    return passText(toJson(value, maxBytes));
  }
  function save(bytes) {
    if (saved === null) saved = textView.slice(0, Math.min(bytes, textView.byteLength));
  }
  function putBack() {
    if (saved.byteLength <= textView.byteLength) textView.set(saved);
    saved = null;
  }

  // Handles and definitions handed out while loading are numbers above every u32; once
  // replayed they map to the real ones (spans that were still open end through the map).
  const real = (h) => (h > NOOP ? pending.real(h) : h);

  /** The span port once the wasm is attached. */
  const live = {
    define,
    start: guarded((def, parent, now, input) => wasm.start(real(def), real(parent), now, passText(input)), NOOP),
    /** `start` with the arguments as a value, serialized here within `maxBytes` (no redact function). */
    startValue: guarded((def, parent, now, value, maxBytes) => wasm.start(real(def), real(parent), now, passValue(value, maxBytes)), NOOP),
    startRemote: guarded((def, traceId, spanId, now, input) => wasm.startRemote(real(def), traceId, spanId, now, passText(input)), NOOP),
    end: guarded((h, now, output) => wasm.end(real(h), now, passText(output)), false),
    /** `end` with the result as a value, serialized here within `maxBytes` (no redact function). */
    endValue: guarded((h, now, value, maxBytes) => wasm.end(real(h), now, passValue(value, maxBytes)), false),
    endError: guarded((h, now, name, message, stack) => wasm.endError(real(h), now, name, message, stack), false),
    streamChunk: guarded((h, chunk) => wasm.streamChunk(real(h), passText(chunk)), undefined),
    // Unknowns cross as "", NaN and -1 (numbers and strings only, no object conversion).
    declare: guarded((h, c) => wasm.declareLlm(real(h), str(c.system), str(c.operation), str(c.model), num(c.temperature, NaN), num(c.max_tokens, -1)), undefined),
    traceId: guarded((h) => wasm.traceId(real(h)) ?? undefined, undefined),
    spanId: guarded((h) => wasm.spanId(real(h)) ?? undefined, undefined),
    traceparent: guarded((h) => wasm.traceparent(real(h)) ?? undefined, undefined),
  };
  /** The span port while loading: the log; ids are not known yet. */
  const logging = {
    define: (name, kind, metadata, session) => (status === "loading" ? pending.define(name, kind, metadata, session) : 0),
    start: (def, parent, now, input) => (status === "loading" ? pending.start(def, parent, now, input) : NOOP),
    startValue: (def, parent, now, value, maxBytes) => (status === "loading" ? pending.start(def, parent, now, toJson(value, maxBytes)) : NOOP),
    startRemote: (def, traceId, spanId, now, input) => (status === "loading" ? pending.start(def, 0, now, input, { traceId, spanId }) : NOOP),
    end: (h, now, output) => (status === "loading" && pending.end(h, now, output), false),
    endValue: (h, now, value, maxBytes) => (status === "loading" && pending.end(h, now, toJson(value, maxBytes)), false),
    endError: (h, now, name, message, stack) => (status === "loading" && pending.endError(h, now, name, message, stack), false),
    streamChunk: (h, chunk) => void (status === "loading" && pending.chunk(h, chunk)),
    declare: (h, call) => void (status === "loading" && pending.declare(h, call)),
    traceId: () => undefined,
    spanId: () => undefined,
    traceparent: () => undefined,
  };
  /** What spans.js calls: the log until the wasm is attached, then the live port. */
  const span = { ...logging };

  const queue = createQueuePort(guarded, () => wasm);

  return {
    span,
    queue,
    local: {
      /** Local-store lines waiting, as UTF-8 bytes (empty: none, or tracing is off): a view
       * into wasm memory, good until the next wasm call (a store appends it at once or copies
       * it); then `taken(view.length)`. */
      lines: guarded(() => {
        const n = wasm.localLines();
        return n === 0 ? EMPTY : new Uint8Array(wasm.wasmMemory().buffer, wasm.localAt(), n);
      }, EMPTY),
      /** The first `n` bytes of `lines()` are stored: the core drops them. */
      taken: guarded((n) => wasm.localTaken(n), undefined),
    },
    /** Spans refused while the wasm was loading (the log was full, or a new init() came). */
    get droppedWhileLoading() {
      return pending.dropped;
    },
    /** Spans logged while loading, not recorded yet. */
    get waiting() {
      return status === "loading" ? pending.spans : 0;
    },
    /** A new init() while loading: what the one before logged is dropped (counted). */
    restartLog: () => pending.clear(true),
    /** Turns tracing off after an internal failure outside the wasm (a bug in the wrapper). */
    fail,
    /** True once tracing is off for good (load failure or trap). */
    get off() {
      return status === "off";
    },
    /** True while spans are only logged (the wasm is not attached yet). */
    get loading() {
      return status === "loading";
    },
    /** The loaded bindings: the live port from now on. */
    attach(bindings) {
      if (status !== "loading") return;
      wasm = bindings;
      status = "ready";
      Object.assign(span, live);
    },
    /** The wasm will never come (it failed to load): tracing off, the log dropped. */
    disable() {
      status = "off";
      pending.clear();
    },
    /**
     * Records what was logged while loading, in order, with its own timestamps. Returns true
     * when a trace was handed on (local lines or export work waiting).
     */
    replay() {
      if (status !== "ready") return false;
      return pending.replay(live);
    },
    /**
     * Validates `init()` options and starts a new tracer. Throws an AgensightError for bad
     * options (never turns tracing off: a caller's mistake is not a trap).
     * @returns {object|null} the normalized configuration; null when tracing is off
     */
    configure(text, seed, now) {
      if (status !== "ready") return null;
      try {
        return JSON.parse(wasm.configure(text, seed, now));
      } catch (e) {
        throw asAgensightError(e, "init()");
      }
    },
    checkSession,
  };

  /**
   * A span definition (name, kind, metadata; `session`: a trace's own session as JSON text, ""
   * for none), parsed once by the core; `start(def, 0, ...)` gives a new trace that session.
   * A session the core refuses here (the redact function made it invalid, or it was logged
   * unchecked while loading) is left out: the trace keeps init()'s session.
   */
  function define(name, kind, metadata, session = "") {
    if (status !== "ready") return 0;
    try {
      return wasm.defineSpan(name, kind, metadata, session);
    } catch (e) {
      if (session !== "" && e && e.name === "AgensightError") return define(name, kind, metadata, "");
      fail(e);
      return 0;
    }
  }

  /** A trace's session, normalized (JSON text); an AgensightError for a bad one; null when
   * tracing is off or not loaded yet. */
  function checkSession(text) {
    if (status !== "ready") return null;
    try {
      return wasm.checkSession(text);
    } catch (e) {
      // A bad session is the caller's mistake; anything else (a trap) turns tracing off.
      if (e && e.name === "AgensightError") throw asAgensightError(e, "trace()");
      fail(e);
      return null;
    }
  }
}

const str = (v) => (typeof v === "string" ? v : "");
const num = (v, unknown) => (typeof v === "number" && Number.isFinite(v) ? v : unknown);

/**
 * The export queue port (see js/exporter.js for how it is driven).
 * @param {Function} guarded the bridge's guard
 * @param {() => object} w the bindings
 */
function createQueuePort(guarded, w) {
  // The head is small JSON; the body crosses as the bytes that go on the wire.
  const request = guarded((id) => {
    const head = w().exportHead(id);
    if (!head) return null;
    const r = JSON.parse(head);
    return { url: r.url, method: r.method, headers: r.headers, body: w().exportBody(id), timeoutMs: r.timeoutMs };
  }, null);

  const stats = guarded(() => {
    const s = JSON.parse(w().stats());
    return { exported: s.exported, failed: s.failed, pending: s.pending, dropped: s.dropped };
  }, NO_STATS);

  return {
    /** The next job with a request due (0: none); `maxBody`: only one whose body fits. */
    next: guarded((now, force, maxBody) => w().exportNext(now, force, maxBody), 0),
    /** Job `id`'s next request `{url, method, headers, body, timeoutMs}`, or null (finished). */
    request,
    /** Bytes of the body of job `id`'s next request. */
    bodyBytes: guarded((id) => w().exportBodyBytes(id), 0),
    /** The answer to job `id`'s request; true when the job is finished (accepted or given up). */
    done: guarded((id, status, retryAfterMs, body, error, now) => w().exportDone(id, status, retryAfterMs, body, error, now), false),
    /** The job as outbox text, the first time only (then ""). */
    persist: guarded((id) => w().exportPersist(id), ""),
    /** An outbox entry of an earlier process back into the queue; false: not ours (delete it).
     * True when tracing is off: an entry that was not looked at is kept. */
    restore: guarded((text) => w().exportRestore(text), true),
    /** Every waiting trace made into jobs now; the ids of the jobs not in the outbox yet. */
    unsaved: guarded((now) => Array.from(w().exportUnsaved(now)), []),
    /** One round's news: jobs dropped (delete their outbox copies), warnings, and the ms until
     * work is due (-1: none). */
    poll: guarded((now) => JSON.parse(w().exportPoll(now)), NO_POLL),
    stats,
    // Spilling to the outbox (js/exporter.js `spill`, `load`).
    /** Keep at most `bytes` of request bodies in memory (an outbox holds the rest). */
    spillAt: guarded((bytes) => w().exportSpillAt(bytes), undefined),
    /** Jobs to write to the outbox (`persist`), then `evict` once written. */
    spill: guarded((now) => Array.from(w().exportSpill(now)), []),
    /** Job `id`'s outbox copy is written: its bodies leave memory; false when it changed. */
    evict: guarded((id) => w().exportEvict(id), false),
    /** A spilled job's outbox text read back ("" for none); false: lost (counted failed). */
    reload: guarded((id, text) => w().exportReload(id, text), true),
  };
}
