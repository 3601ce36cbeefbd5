// W3C Trace Context (https://www.w3.org/TR/trace-context/) across process boundaries:
// `inject(headers)` adds the active span's `traceparent` to an outgoing request, `extract(headers)`
// reads an incoming one, `continueTrace(parent, fn)` runs fn as the local root of that trace.
// Also `bindContext(fn)`, the explicit way to carry the active span across `await` where the
// runtime has no AsyncLocalStorage (browsers, workerd without nodejs_als). No runtime imports.

/** The "not recorded" handle (bridge.js): wrapped functions inside it run untraced. */
const NOOP = 0xffffffff;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/**
 * Parses a `traceparent` header value. Returns undefined for anything the W3C spec says to
 * ignore (bad shape, version ff, all-zero ids, extra fields on version 00).
 * @param {unknown} value
 * @returns {{ traceId: string, spanId: string, sampled: boolean, traceparent: string } | undefined}
 */
export function parseTraceparent(value) {
  if (typeof value !== "string") return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, traceparent: `00-${traceId}-${spanId}-${flags}` };
}

/** A header of a Headers/Map (get), a Request (its headers), an object (any case) or pairs. */
function header(headers, name) {
  if (headers === null || typeof headers !== "object") return undefined;
  if (typeof headers.get === "function") return headers.get(name) ?? undefined;
  if (headers.headers && typeof headers.headers === "object") return header(headers.headers, name);
  if (Array.isArray(headers)) {
    for (const pair of headers) if (Array.isArray(pair) && String(pair[0]).toLowerCase() === name) return pair[1];
    return undefined;
  }
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() === name) {
      const v = headers[k];
      return Array.isArray(v) ? v[0] : v;
    }
  }
  return undefined;
}

/**
 * @param {ReturnType<import("./core.js").createAgensight>} api
 */
export function createPropagation(api) {
  const { context, begin, currentTraceparent } = api.internal;

  /**
   * Adds the active span's `traceparent` to `headers` (a Headers, a plain object or an array
   * of pairs) and returns the same object; outside a trace it is returned unchanged.
   * @example await fetch(url, { headers: inject({ "content-type": "application/json" }) });
   */
  function inject(headers = {}) {
    let tp;
    try {
      tp = currentTraceparent();
    } catch {
      tp = undefined;
    }
    if (!tp || headers === null || typeof headers !== "object") return headers;
    if (typeof headers.set === "function") headers.set("traceparent", tp);
    else if (Array.isArray(headers)) {
      for (let i = headers.length - 1; i >= 0; i--) {
        if (Array.isArray(headers[i]) && String(headers[i][0]).toLowerCase() === "traceparent") headers.splice(i, 1);
      }
      headers.push(["traceparent", tp]);
    } else {
      for (const k of Object.keys(headers)) if (k.toLowerCase() === "traceparent") delete headers[k];
      headers.traceparent = tp;
    }
    return headers;
  }

  /**
   * Reads the W3C trace context of incoming `headers` (a Headers, a Request, Node's
   * `req.headers`, a Map or pairs). Undefined when there is none or it is malformed.
   * @example const parent = extract(request.headers); // { traceId, spanId, sampled, traceparent }
   */
  function extract(headers) {
    return parseTraceparent(header(headers, "traceparent"));
  }

  /**
   * Runs `fn()` as the local root span of a trace that began elsewhere: `parent` is what
   * `extract()` returned, or headers to extract it from. Traced functions called inside are its
   * children. Without a valid parent, a new trace starts; with an unsampled one (flag 00),
   * nothing inside is recorded, as the caller decided. Returns what fn returns.
   * @example continueTrace(req.headers, () => handle(req), { name: "POST /chat" });
   */
  function continueTrace(parent, fn, { name, kind = "server", args } = {}) {
    if (typeof fn !== "function") throw new TypeError("continueTrace(): expected a function to run");
    const remote = parent && typeof parent.traceId === "string" ? parent : extract(parent);
    if (remote && remote.sampled === false && context.active() === 0) return context.run(NOOP, fn);
    const s = begin(name || fn.name || "continueTrace", { kind, args, remote });
    return s ? s.call(fn, undefined, []) : fn();
  }

  /**
   * Returns a function that runs `fn` inside the span active now. Needed only where the
   * runtime has no AsyncLocalStorage (browsers, workerd without nodejs_als): there the active
   * span is lost after the first `await` of a traced async function, and a call bound before
   * it nests where it belongs. Elsewhere it is harmless.
   * @example const llm = bindContext(callLlm); await step1(); await llm(messages);
   */
  function bindContext(fn) {
    if (typeof fn !== "function") throw new TypeError("bindContext(): expected a function");
    const h = context.active();
    return function bound(...args) {
      return context.run(h, () => fn.apply(this, args));
    };
  }

  return { inject, extract, continueTrace, bindContext };
}
