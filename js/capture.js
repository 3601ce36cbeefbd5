// What a span records of the app's values, as JSON text for the core: the safe serializer
// (serialize.js) within the field budget, then the user's `redact` function where there is one.
// The function sees every captured field (input, output, metadata, error name/message/stack,
// a trace's session, span names) and its result is recorded; the core's built-in masking runs
// after it in every case (it adds to the function, never replaced by it). A function that
// throws records a note instead of the value: never the unredacted value.

import { toJson, errorInfo } from "./serialize.js";

/**
 * @param {object} p
 * @param {number} p.maxBytes the `maxFieldBytes` budget of one field
 * @param {((value: unknown) => unknown) | null} p.redact the user's function, or null
 */
export function createCapture({ maxBytes, redact }) {
  const threw = (e) => `[redact function threw: ${errorInfo(e).message}]`;
  // Rust masks error texts and cuts them to maxFieldBytes (looking 256 bytes past the cut for
  // secrets); a 10 MB message need not cross whole.
  const max = maxBytes + 256;
  const cut = (s) => (s.length > max ? s.slice(0, max) : s);

  /** A value as JSON text (arguments, results, stream chunks). */
  function value(v, budget = maxBytes) {
    if (!redact) return toJson(v, budget);
    try {
      return toJson(redact(JSON.parse(toJson(v, budget))), budget);
    } catch (e) {
      return toJson(threw(e));
    }
  }

  /** A text field (a span name, an error's name/message/stack) as text. */
  function text(s) {
    if (!redact) return s;
    let r;
    try {
      r = redact(s);
    } catch (e) {
      return threw(e);
    }
    if (typeof r === "string") return r;
    // A function that answers something else for a text meant to hide it.
    return r === undefined || r === null ? "[redacted]" : toJson(r);
  }

  return {
    /** No redact function: values may be serialized straight into the core's text buffer
     * (the span port's startValue/endValue) within `maxBytes`. */
    plain: !redact,
    maxBytes,
    value,
    text,
    /** Metadata as JSON text ("" when there is none); not cut: the core applies its limits. */
    metadata: (m) => (m === undefined ? "" : value(m, undefined)),
    /** A trace's session (id or `{id, name, user_id}`) as JSON text for checkSession. */
    session: (s) => value(s, undefined),
    /** An error's name, message and stack, cut to what the core keeps, then redacted. */
    error(err) {
      const i = errorInfo(err);
      return { name: text(cut(i.name)), message: text(cut(i.message)), stack: text(cut(i.stack)) };
    },
  };
}
