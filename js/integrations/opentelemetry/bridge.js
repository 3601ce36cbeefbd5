// The OpenTelemetry API (`@opentelemetry/api`) on top of agensight spans: a TracerProvider
// whose spans are agensight spans, and a ContextManager whose active context follows the
// agensight active span. Together:
// - an OTel span started inside trace()/span() is its child (the tracer starts it under the
//   active agensight span when the OTel context names no parent);
// - span() inside an OTel span made current (`startActiveSpan`, `context.with`) is its child
//   (the context manager runs the callback with the OTel span's agensight handle active);
// in every runtime whose agensight context follows `await` (AsyncLocalStorage).
// An OTel span's attributes, events, links and status are its output; a GenAI span
// (`gen_ai.operation.name` chat / text_completion / generate_content / embeddings, or
// `gen_ai.usage.*`) is also an LLM call with model and usage (see ./genai.js).

import { ROOT_CONTEXT, SpanStatusCode, trace as otelTrace, context as otelContext, isSpanContextValid, INVALID_SPAN_CONTEXT } from "@opentelemetry/api";
import { kindOf, recordGenAi } from "./genai.js";

/** The agensight span handle an OTel span stands for. */
const HANDLE = Symbol("agensight.handle");
/** Events and links kept per span; the rest are counted in the output. */
const MAX_EVENTS = 128;
/** OTel contexts remembered for open bridge spans (active() hands them back); bounded. */
const MAX_CONTEXTS = 10000;

function idsOf(traceparent) {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent ?? "");
  return m ? { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: false } : INVALID_SPAN_CONTEXT;
}

const timeOf = (t) => (t instanceof Date ? t.getTime() : Array.isArray(t) ? t[0] * 1000 + t[1] / 1e6 : typeof t === "number" ? t : undefined);

/** An agensight span made by trace()/span(), seen from OTel: a parent, nothing to record. */
class HandleSpan {
  constructor(handle, ids) {
    this[HANDLE] = handle;
    this._ids = ids;
  }
  spanContext() {
    return this._ids;
  }
  setAttribute() {
    return this;
  }
  setAttributes() {
    return this;
  }
  addEvent() {
    return this;
  }
  addLink() {
    return this;
  }
  addLinks() {
    return this;
  }
  setStatus() {
    return this;
  }
  updateName() {
    return this;
  }
  end() {}
  isRecording() {
    return false;
  }
  recordException() {}
}

/** An OTel span recorded as an agensight span. */
class BridgeSpan {
  constructor(sp, name, attributes, forget) {
    this[HANDLE] = sp.handle;
    this._sp = sp;
    this._name = name;
    this._ids = idsOf(sp.traceparent());
    this._attributes = { ...attributes };
    this._events = [];
    this._links = [];
    this._dropped = 0;
    this._status = undefined;
    this._exception = undefined;
    this._ended = false;
    this._forget = forget;
  }
  spanContext() {
    return this._ids;
  }
  setAttribute(key, value) {
    if (!this._ended && value !== undefined) this._attributes[key] = value;
    return this;
  }
  setAttributes(attributes) {
    for (const [k, v] of Object.entries(attributes ?? {})) this.setAttribute(k, v);
    return this;
  }
  addEvent(name, attributesOrTime, time) {
    if (this._ended) return this;
    const isTime = attributesOrTime instanceof Date || Array.isArray(attributesOrTime) || typeof attributesOrTime === "number";
    const e = { name, time: timeOf(isTime ? attributesOrTime : time) };
    if (!isTime && attributesOrTime) e.attributes = attributesOrTime;
    if (this._events.length < MAX_EVENTS) this._events.push(e);
    else this._dropped++;
    return this;
  }
  addLink(link) {
    if (!this._ended && this._links.length < MAX_EVENTS) this._links.push({ traceId: link?.context?.traceId, spanId: link?.context?.spanId, attributes: link?.attributes });
    return this;
  }
  addLinks(links) {
    for (const l of links ?? []) this.addLink(l);
    return this;
  }
  setStatus(status) {
    if (!this._ended) this._status = status;
    return this;
  }
  updateName(name) {
    if (!this._ended) this._name = name;
    return this;
  }
  isRecording() {
    return !this._ended;
  }
  recordException(exception, time) {
    if (this._ended) return;
    this._exception = exception;
    const e = typeof exception === "string" ? { message: exception } : exception ?? {};
    this.addEvent("exception", { "exception.type": e.name ?? e.code, "exception.message": e.message, "exception.stacktrace": e.stack }, time);
  }
  end() {
    if (this._ended) return;
    this._ended = true;
    this._forget(this[HANDLE]);
    const sp = this._sp;
    try {
      recordGenAi(sp, this._attributes);
    } catch {}
    if (this._status?.code === SpanStatusCode.ERROR) {
      const x = this._exception;
      const err = x instanceof Error ? x : Object.assign(new Error(this._status.message ?? x?.message ?? String(x ?? "error")), { name: x?.name ?? "Error" });
      sp.fail(err);
      return;
    }
    const out = { attributes: this._attributes };
    if (this._name !== undefined) out.name = this._name;
    if (this._events.length) out.events = this._events;
    if (this._dropped) out.droppedEvents = this._dropped;
    if (this._links.length) out.links = this._links;
    if (this._status) out.status = this._status;
    sp.end(out);
  }
}

/**
 * @param {{internal?: {begin: Function, context: {active(): number, run(h: number, fn: Function): any}, currentTraceparent(): string|undefined}}} api
 */
export function createBridge(api) {
  const contexts = new Map(); // handle -> the OTel Context last entered for that bridge span

  const internal = () => api.internal;
  const forget = (h) => contexts.delete(h);

  function startSpan(name, options = {}, ctx = otelContext.active()) {
    const core = internal();
    const parent = options.root ? undefined : otelTrace.getSpan(ctx);
    const attributes = options.attributes ?? {};
    const opts = { kind: kindOf(attributes), args: [{ attributes, kind: options.kind }] };
    let sp = null;
    if (core) {
      const begin = () => core.begin(String(name), opts);
      if (parent && parent[HANDLE] !== undefined) sp = core.context.run(parent[HANDLE], begin);
      else if (parent && isSpanContextValid(parent.spanContext())) {
        const pc = parent.spanContext();
        sp = core.context.run(0, () => core.begin(String(name), { ...opts, remote: { traceId: pc.traceId, spanId: pc.spanId } }));
      } else if (options.root) sp = core.context.run(0, begin);
      else sp = begin();
    }
    if (!sp) return otelTrace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    return new BridgeSpan(sp, String(name), attributes, forget);
  }

  class Tracer {
    startSpan(name, options, ctx) {
      return startSpan(name, options, ctx);
    }
    /** `startActiveSpan(name, [options], [context], fn)`: fn runs with the span current. */
    startActiveSpan(name, a, b, c) {
      const fn = typeof a === "function" ? a : typeof b === "function" ? b : c;
      const options = typeof a === "function" ? undefined : a;
      const ctx = typeof b === "function" || b === undefined ? otelContext.active() : b;
      const span = startSpan(name, options, ctx);
      const run = () => (span[HANDLE] !== undefined && internal() ? internal().context.run(span[HANDLE], () => fn(span)) : fn(span));
      return otelContext.with(otelTrace.setSpan(ctx, span), run);
    }
  }

  class TracerProvider {
    /** A tracer whose spans are agensight spans (name and version are not recorded). */
    getTracer() {
      return new Tracer();
    }
  }

  class ContextManager {
    /** The OTel context of the active agensight span (ROOT outside any). */
    active() {
      const core = internal();
      const h = core ? core.context.active() : 0;
      if (!h || h === 0xffffffff) return ROOT_CONTEXT;
      return contexts.get(h) ?? otelTrace.setSpan(ROOT_CONTEXT, new HandleSpan(h, idsOf(core.currentTraceparent())));
    }
    /** Runs fn with `ctx` current: its span's agensight handle active (none: no span active). */
    with(ctx, fn, thisArg, ...args) {
      const core = internal();
      const span = otelTrace.getSpan(ctx);
      const h = span?.[HANDLE] ?? 0;
      if (!core) return fn.apply(thisArg, args);
      if (span instanceof BridgeSpan && span.isRecording()) {
        if (contexts.size >= MAX_CONTEXTS && !contexts.has(h)) contexts.delete(contexts.keys().next().value);
        contexts.set(h, ctx);
      }
      return core.context.run(h, () => fn.apply(thisArg, args));
    }
    bind(ctx, target) {
      if (typeof target !== "function") return target;
      const manager = this;
      return function bound(...args) {
        return manager.with(ctx, target, this, ...args);
      };
    }
    enable() {
      return this;
    }
    disable() {
      contexts.clear();
      return this;
    }
  }

  return { TracerProvider, ContextManager };
}
