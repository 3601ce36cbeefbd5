// Store lines written directly in the record format of docs/records.md (what the Rust encoder
// writes: `{"type":...,"data":{...}}` a line), for the store and viewer tests: fast enough to
// write a million traces in seconds, without the SDK.

/** A trace id (UUID v4 form) made from a number, so tests can name trace `i` again. */
export const traceId = (i) => {
  const h = i.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${h}`;
};
export const spanId = (i, k = 0) => (i * 16 + k).toString(16).padStart(16, "0");

/**
 * The lines of trace `i`: the trace record and its root span (and, with `children`, that many
 * child spans). `error` marks the last span as failed.
 */
export function traceLines(i, { name = `trace_${i}`, session = null, start = 1764000000 + i, children = 0, error = false, pad = 0 } = {}) {
  const end = start + 0.25;
  const id = traceId(i);
  const session_id = session === null ? null : session;
  let out = `{"type":"trace","data":{"id":"${id}","name":${JSON.stringify(name)},"started_at":${start},"ended_at":${end},"session_id":${JSON.stringify(session_id)},"metadata":"{}","total_tokens":${i % 100}}}\n`;
  const attrs = JSON.stringify(JSON.stringify({ "service.name": "gen", input: [i], output: "x".repeat(pad) }));
  const span = (k, parent, spanName, status) =>
    `{"type":"span","data":{"id":"${spanId(i, k)}","trace_id":"${id}","parent_id":${parent ? `"${parent}"` : "null"},"name":${JSON.stringify(spanName)},"kind":"${k ? "span" : "trace"}","started_at":${start + k * 0.01},"ended_at":${end},"duration":${0.25 - k * 0.01},"status":"${status}","attributes":${attrs}}}\n`;
  out += span(0, null, name, error && children === 0 ? "error" : "ok");
  for (let k = 1; k <= children; k++) out += span(k, spanId(i, 0), `step_${k}`, error && k === children ? "error" : "ok");
  return out;
}

/** How many span lines `text` holds. */
export const spanCount = (text) => text.split("\n").filter((l) => l.startsWith('{"type":"span"')).length;
