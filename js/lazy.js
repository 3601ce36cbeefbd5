// Parts of an entry's API that only some apps use (propagation, instrumentWorker, the
// read-back, the provider wrappers), made at their first call. js/parts.js exports each as
// `lazy(() => make().name)` marked pure (the bundlers' PURE annotation), so a bundler drops
// the export, and the module behind `make`, from apps that do not call it (HACKING.md, "What a
// bundle leaves out"). The annotation is not spelled out here: Rollup warns about one in a
// comment where it cannot apply.

/**
 * `make()` once, at the first call of the returned getter; the same value after.
 * @template T
 * @param {() => T} make
 * @returns {() => T}
 */
export function once(make) {
  let made = false;
  let value;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}

/**
 * A function that calls `get()` (a function) with its own `this` and arguments.
 * @param {() => Function} get
 * @returns {Function}
 */
export function lazy(get) {
  return function (...args) {
    return Reflect.apply(get(), this, args);
  };
}
