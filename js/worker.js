// instrumentWorker(handler): traces a module worker's `fetch`, `scheduled` and `queue`
// handlers (Cloudflare Workers / workerd, and the same shape elsewhere). One trace per
// invocation, continuing an incoming W3C `traceparent`; the flush is handed to
// `ctx.waitUntil` once the handler's own waitUntil promises have settled, so spans ended in
// background work are written/exported too, and nothing waits on a timer after the response.
// No runtime imports.

const NOOP = 0xffffffff;
const HANDLERS = ["fetch", "scheduled", "queue"];

/** A short, safe summary of the invocation's event (the span input) and its span name. */
function describe(kind, event) {
  try {
    if (kind === "fetch") {
      const url = new URL(event.url);
      return { name: `${event.method} ${url.pathname}`, args: [{ method: event.method, url: event.url }] };
    }
    if (kind === "scheduled") return { name: "scheduled", args: [{ cron: event.cron, scheduledTime: event.scheduledTime }] };
    return { name: `queue ${event.queue}`, args: [{ queue: event.queue, messages: event.messages?.length ?? 0 }] };
  } catch {
    return { name: kind, args: [] };
  }
}

/**
 * @param {object} p
 * @param {ReturnType<import("./core.js").createAgensight>} p.api
 * @param {() => Promise<unknown>} p.flush the entry's flush (waits for its store too)
 * @param {(headers: unknown) => ({traceId: string, spanId: string, sampled: boolean} | undefined)} p.extract
 * @param {() => void} [p.beforeInvocation] runs first in every invocation (workerd: finish an
 *   init() that ran at global scope, where randomness and the clock are not available)
 */
export function createInstrumentWorker({ api, flush, extract, beforeInvocation }) {
  const { begin, context } = api.internal;

  function wrapHandler(kind, original, options) {
    return function traced(event, env, ctx, ...rest) {
      try {
        beforeInvocation?.();
      } catch {}
      // The handler's own waitUntil promises, so the flush runs after them.
      const pending = [];
      const realWaitUntil = ctx && typeof ctx.waitUntil === "function" ? (p) => ctx.waitUntil(p) : null;
      const handlerCtx = realWaitUntil
        ? new Proxy(ctx, {
            get(target, prop) {
              if (prop === "waitUntil") {
                return (p) => {
                  pending.push(Promise.resolve(p));
                  return realWaitUntil(p);
                };
              }
              const v = Reflect.get(target, prop, target);
              return typeof v === "function" ? v.bind(target) : v;
            },
          })
        : ctx;
      const call = () => original.call(this, event, env, handlerCtx, ...rest);

      let s = null;
      let remote;
      try {
        remote = kind === "fetch" ? extract(event?.headers) : undefined;
        if (remote && remote.sampled === false && context.active() === 0) {
          // The caller did not sample this trace: record nothing inside it.
          return context.run(NOOP, call);
        }
        const d = describe(kind, event);
        const name = typeof options.name === "function" ? options.name(event, kind) : options.name;
        s = begin(name || d.name, { kind: options.kind || kind, args: d.args, remote });
      } catch {
        s = null;
      }
      if (!s) return call();

      const afterwards = async () => {
        // waitUntil may be called again while we wait: settle until no new promise came.
        for (let seen = 0; seen < pending.length; ) {
          const batch = pending.slice(seen);
          seen = pending.length;
          await Promise.allSettled(batch);
        }
        try {
          await flush();
        } catch {}
      };
      const settle = (ok, value) => {
        if (!ok) s.fail(value);
        else if (kind === "fetch" && value && typeof value.status === "number") {
          if (value.status >= 500) {
            const e = new Error(`${value.status} ${value.statusText || "server error"}`);
            e.name = "HTTPError";
            s.fail(e);
          } else s.end({ status: value.status });
        } else s.end(value);
        if (realWaitUntil) {
          realWaitUntil(afterwards());
          return undefined;
        }
        return afterwards(); // no ctx (called directly): wait here instead
      };

      let result;
      try {
        result = s.run(call);
      } catch (e) {
        const done = settle(false, e);
        if (done) return done.then(() => Promise.reject(e));
        throw e;
      }
      return Promise.resolve(result).then(
        async (v) => {
          await settle(true, v);
          return v;
        },
        async (e) => {
          await settle(false, e);
          throw e;
        },
      );
    };
  }

  /**
   * Wraps a module worker's handler object: `fetch`, `scheduled` and `queue` become traced,
   * everything else is kept as it is.
   * @param {object} handler `{ fetch?, scheduled?, queue?, ... }` (the module's default export)
   * @param {{ name?: string | ((event: unknown, kind: string) => string), kind?: string }} [options]
   * @example export default instrumentWorker({ async fetch(request, env, ctx) { ... } });
   */
  return function instrumentWorker(handler, options = {}) {
    if (handler === null || typeof handler !== "object") {
      throw new TypeError("instrumentWorker(): expected the worker's handler object, such as { fetch(request, env, ctx) { ... } }");
    }
    const wrapped = Object.assign(Object.create(Object.getPrototypeOf(handler)), handler);
    for (const kind of HANDLERS) {
      const original = handler[kind];
      if (typeof original === "function") wrapped[kind] = wrapHandler(kind, original, options ?? {});
    }
    return wrapped;
  };
}
