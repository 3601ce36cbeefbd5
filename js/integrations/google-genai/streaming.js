// A `generateContentStream` result (an async generator of GenerateContentResponse) passed on
// item by item while each item goes to the span as it is (the core aggregates them); the span
// ends when the stream ends, throws, is left early (`break`, `return()`), or is
// garbage-collected unread (stream-end.js, shared with the OpenAI and Anthropic wrappers).

import { streamEnd } from "../../stream-end.js";

/**
 * @param {AsyncIterable<any>} source the SDK's generator
 * @param {object} sp the span handle (core.js `begin`)
 * @returns {AsyncGenerator<any>} the same items
 */
export function traceStream(source, sp) {
  const it = source[Symbol.asyncIterator]();
  const span = streamEnd(sp);
  const step = async (method, arg) => {
    let r;
    try {
      r = typeof it[method] === "function" ? await it[method](arg) : method === "throw" ? Promise.reject(arg) : { done: true, value: arg };
    } catch (e) {
      span.end(e, true);
      throw e;
    }
    if (r.done) span.end();
    else if (!span.ended) {
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
    return: (v) => step("return", v).finally(() => span.end()),
    throw: (e) => step("throw", e),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  span.watch(wrapped);
  return wrapped;
}
