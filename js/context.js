// Which span is active: the `u32` span handle of the innermost traced call, 0 outside any.
// Two implementations with one shape, `{ active(), run(handle, fn), call(handle, fn, a..e) }`:
// `call` is `run` without a closure: fn(a, b, c, d, e) with handle active, for the per-span hot
// path (a traced call passes its function, `this`, arguments, handle and init() epoch).
// - `alsContext`: AsyncLocalStorage (Node, Deno, Bun, workerd with nodejs_als/nodejs_compat),
//   so the handle follows `await`, timers and callbacks.
// - `stackContext`: a synchronous stack for runtimes without it (browsers). The handle is seen
//   by calls made synchronously inside the traced function, and by async code only up to its
//   first `await`; see README "Context in browsers" for the explicit way around it.

/** @param {typeof import("node:async_hooks").AsyncLocalStorage} AsyncLocalStorage */
export function alsContext(AsyncLocalStorage) {
  const als = new AsyncLocalStorage();
  return {
    kind: "async",
    active: () => als.getStore() ?? 0,
    run: (handle, fn) => als.run(handle, fn),
    call: (handle, fn, a, b, c, d, e) => als.run(handle, fn, a, b, c, d, e),
  };
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
