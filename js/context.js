// Which span is active: the `u32` span handle of the innermost traced call, 0 outside any.
// Two implementations with one shape, `{ active(), run(handle, fn), call(handle, fn, a..e) }`:
// `call` is `run` without a closure: fn(a, b, c, d, e) with handle active, for the per-span hot
// path (a traced call passes its function, `this`, arguments, handle and init() epoch).
// - `alsContext`: AsyncLocalStorage (Node, Deno, Bun, workerd with nodejs_als/nodejs_compat),
//   so the handle follows `await`, timers and callbacks. In Node 20/22 it reads and writes the
//   storage's slot on the current async resource itself (`storeSlot`).
// - `stackContext`: a synchronous stack for runtimes without it (browsers). The handle is seen
//   by calls made synchronously inside the traced function, and by async code only up to its
//   first `await`; see README "Context in browsers" for the explicit way around it.

/**
 * @param {typeof import("node:async_hooks").AsyncLocalStorage} AsyncLocalStorage
 * @param {typeof import("node:async_hooks").executionAsyncResource} [executionAsyncResource]
 *   Node's, for the direct slot (see `storeSlot`); without it the storage's own methods
 */
export function alsContext(AsyncLocalStorage, executionAsyncResource) {
  const als = new AsyncLocalStorage();
  // The implementation is picked at the first use, not here: the check runs the storage once,
  // which turns on Node's promise hooks for the whole app (the first traced call did that).
  const ctx = {
    kind: "async",
    active() {
      pick();
      return ctx.active();
    },
    run: (handle, fn) => als.run(handle, fn),
    call(handle, fn, a, b, c, d, e) {
      pick();
      return ctx.call(handle, fn, a, b, c, d, e);
    },
  };
  function pick() {
    const key = storeSlot(als, executionAsyncResource);
    if (key === undefined) {
      ctx.active = () => als.getStore() ?? 0;
      ctx.call = (handle, fn, a, b, c, d, e) => als.run(handle, fn, a, b, c, d, e);
      return;
    }
    // What `run` and `getStore` do, without their shared code: with a second storage in the
    // app (OpenTelemetry's, a framework's) their property accesses see two keys and go
    // megamorphic; here the key is ours alone. No argument array either. -5% of a sync span,
    // -3% of an async one (HACKING "The per-span hot path").
    ctx.active = () => executionAsyncResource()[key] ?? 0;
    ctx.call = (handle, fn, a, b, c, d, e) => {
      const resource = executionAsyncResource();
      const saved = resource[key];
      resource[key] = handle;
      try {
        return fn(a, b, c, d, e);
      } finally {
        resource[key] = saved;
      }
    };
  }
  return ctx;
}

/**
 * The property key under which `als` keeps its store on the current async resource, when it is
 * Node's async_hooks-based AsyncLocalStorage (Node 20 and 22: `run` sets
 * `executionAsyncResource()[als.kResourceStore]`, `getStore` reads it, the promise hooks copy it
 * to new resources); undefined for any other implementation (Node 24's AsyncContextFrame, Deno,
 * Bun, workerd), which then keeps its own methods. Checked both ways on the storage itself, not
 * by version.
 */
function storeSlot(als, executionAsyncResource) {
  const key = als.kResourceStore;
  if (typeof key !== "symbol" || typeof executionAsyncResource !== "function") return undefined;
  const outer = {};
  const inner = {};
  try {
    const seen = als.run(outer, () => {
      const resource = executionAsyncResource();
      if (resource[key] !== outer) return false;
      resource[key] = inner;
      const read = als.getStore() === inner;
      resource[key] = outer;
      return read;
    });
    return seen && als.getStore() !== outer ? key : undefined;
  } catch {
    return undefined;
  }
}

export function stackContext() {
  let current = 0;
  return {
    kind: "sync",
    active: () => current,
    run(handle, fn) {
      const previous = current;
      current = handle;
      try {
        return fn();
      } finally {
        current = previous;
      }
    },
    call(handle, fn, a, b, c, d, e) {
      const previous = current;
      current = handle;
      try {
        return fn(a, b, c, d, e);
      } finally {
        current = previous;
      }
    },
  };
}
