// A `generateContentStream` result (an async generator of GenerateContentResponse) passed on
// item by item while each item goes to the span as it is (the core aggregates them); the span ends when the
// stream ends, throws, is left early (`break`, `return()`), or is garbage-collected unread.

/** Ends spans of streams dropped without being read to the end or closed. */
const abandoned = typeof FinalizationRegistry === "function" ? new FinalizationRegistry((end) => end()) : null;

/**
 * @param {AsyncIterable<any>} source the SDK's generator
 * @param {object} sp the span handle (core.js `begin`)
 * @returns {AsyncGenerator<any>} the same items
 */
export function traceStream(source, sp) {
  const it = source[Symbol.asyncIterator]();
  let ended = false;
  const token = {};
  const end = (err, failed) => {
    if (ended) return;
    ended = true;
    abandoned?.unregister(token);
    if (failed) sp.fail(err);
    else sp.endStream();
  };
  const step = async (method, arg) => {
    let r;
    try {
      r = typeof it[method] === "function" ? await it[method](arg) : method === "throw" ? Promise.reject(arg) : { done: true, value: arg };
    } catch (e) {
      end(e, true);
      throw e;
    }
    if (r.done) end();
    else if (!ended) {
      try {
        sp.chunk(r.value);
      } catch {
        // A value of another shape: passed on, not recorded.
      }
    }
    return r;
  };
  const wrapped = {
    next: (v) => step("next", v),
    return: (v) => step("return", v).finally(() => end()),
    throw: (e) => step("throw", e),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  abandoned?.register(wrapped, end, token);
  return wrapped;
}
