// Reading the local store back: JSON lines of `{"type", "data"}` records (the Agensight
// records, see docs/records.md) grouped into sessions and traces with their span trees.
// Shared by the read-back API, the demo and the viewer; no runtime-specific imports.

/**
 * Parses store text, one JSON record a line. A line that is not a whole record (a torn last
 * line after a crash, a corrupt line) is skipped and counted, never fatal.
 * @param {string} text
 * @returns {{ records: {type: string, data: object}[], skipped: number }}
 */
export function parseLines(text) {
  const records = [];
  let skipped = 0;
  forEachLine(text, (line) => {
    const r = parseRecord(line);
    if (r === null) skipped++;
    else if (r !== undefined) records.push(r);
  });
  return { records, skipped };
}

/** Calls `onLine` for each line of `text` (without splitting it into one big array). */
export function forEachLine(text, onLine) {
  for (let i = 0; i < text.length; ) {
    let nl = text.indexOf("\n", i);
    if (nl === -1) nl = text.length;
    onLine(text.slice(i, nl));
    i = nl + 1;
  }
}

/**
 * One store line as a record: the record, `undefined` for a blank line, `null` for a line that
 * is not a whole record (torn, corrupt, or too long to read: `line === null`).
 * @param {string | null} line
 */
export function parseRecord(line) {
  if (line === null) return null;
  if (line.trim() === "") return undefined;
  try {
    const r = JSON.parse(line);
    return isRecord(r) ? r : null;
  } catch {
    return null;
  }
}

/** Longest line a reader holds (a record is far smaller: captured values are clamped). A
 * longer line (a file that is not a store, NUL bytes after a crash) is skipped unread. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Splits a stream of UTF-8 chunks into lines: `onLine(text, offset, length)` for each line
 * ended by a newline (`text` is null for a line over MAX_LINE_BYTES), with `offset` counted
 * from `base`; an unended last line goes to `onLine` at `end()` too (a reader counts it as
 * skipped if it does not parse). `skipFirst` drops the bytes up to the first newline (a read
 * that starts inside a line). Runtime-neutral (Uint8Array, TextDecoder).
 * @param {(text: string | null, offset: number, length: number) => void} onLine
 * @param {{ base?: number, skipFirst?: boolean, maxLine?: number }} [options]
 */
export function scanChunks(onLine, { base = 0, skipFirst = false, maxLine = MAX_LINE_BYTES } = {}) {
  const utf8 = new TextDecoder();
  let parts = []; // the pieces of the line under way
  let partLen = 0;
  let lineStart = base;
  let skipping = skipFirst;
  let tooLong = false;
  const finish = (last) => {
    if (skipping) skipping = false;
    else if (tooLong) onLine(null, lineStart, partLen);
    else {
      const bytes = parts.length === 1 ? parts[0] : concat(parts, partLen);
      onLine(partLen ? utf8.decode(bytes) : "", lineStart, partLen);
    }
    lineStart += partLen + (last ? 0 : 1);
    parts = [];
    partLen = 0;
    tooLong = false;
  };
  return {
    /** @param {Uint8Array} chunk */
    push(chunk) {
      let i = 0;
      while (i < chunk.length) {
        let nl = chunk.indexOf(0x0a, i);
        const end = nl === -1 ? chunk.length : nl;
        partLen += end - i;
        if (!skipping && !tooLong) {
          if (partLen > maxLine) {
            tooLong = true;
            parts = [];
          } else if (end > i) parts.push(nl === -1 ? new Uint8Array(chunk.subarray(i, end)) : chunk.subarray(i, end)); // a copy where the reader reuses its buffer
        }
        if (nl === -1) break;
        finish(false);
        i = nl + 1;
      }
    },
    end() {
      if (partLen > 0) finish(true);
    },
  };
}

function concat(parts, len) {
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function parseJsonText(text, fallback) {
  if (typeof text !== "string") return text ?? fallback;
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/**
 * Groups records into sessions and traces. Each trace gets `spans` (sorted by start, each with
 * `attributes` parsed, `depth` in the tree, `children` ids, and its `prompts`, `completions`
 * and `tools`) and `status` ("error" if any span failed).
 * @param {{type: string, data: object}[]} records
 */
export function groupRecords(records) {
  const sessions = new Map();
  const traces = new Map();
  const spans = new Map();
  const llm = { prompt: "prompts", completion: "completions", tool: "tools" };
  const orphans = [];
  for (const { type, data } of records) {
    if (type === "session") sessions.set(data.id, { ...data, metadata: parseJsonText(data.metadata, {}) });
    else if (type === "trace") traces.set(data.id, { ...traces.get(data.id), ...data, metadata: parseJsonText(data.metadata, {}), spans: [] });
    else if (type === "trace_update") {
      const t = traces.get(data.id);
      if (t) t.total_tokens = data.total_tokens;
    } else if (type === "span") {
      spans.set(data.id, { ...data, attributes: parseJsonText(data.attributes, {}), prompts: [], completions: [], tools: [], children: [], depth: 0 });
    } else if (llm[type]) orphans.push([llm[type], data]);
  }
  for (const [list, data] of orphans) spans.get(data.span_id)?.[list].push(data);
  for (const s of spans.values()) {
    const t = traces.get(s.trace_id);
    if (t) t.spans.push(s);
    if (s.parent_id) spans.get(s.parent_id)?.children.push(s.id);
  }
  for (const t of traces.values()) {
    t.spans.sort((a, b) => a.started_at - b.started_at);
    const depth = (s, seen = 0) => (s.parent_id && spans.has(s.parent_id) && seen < 1000 ? 1 + depth(spans.get(s.parent_id), seen + 1) : 0);
    for (const s of t.spans) s.depth = depth(s);
    t.status = t.spans.some((s) => s.status === "error") ? "error" : "ok";
    t.duration = t.ended_at - t.started_at;
  }
  const sorted = [...traces.values()].sort((a, b) => a.started_at - b.started_at);
  return { sessions: [...sessions.values()], traces: sorted };
}

/**
 * The export document of a list of records, as `exportLocal()` returns it and the viewer
 * opens it (`agensight-wasm view --file`, or a file dropped on the viewer page).
 * @param {{type: string, data: object}[]} records
 * @returns {{ agensight: "records", version: 1, records: {type: string, data: object}[] }}
 */
export function toExport(records) {
  return { agensight: "records", version: 1, records };
}

/** Whether a value is a store record `{type, data}`. */
export function isRecord(r) {
  return r !== null && typeof r === "object" && typeof r.type === "string" && r.data !== null && typeof r.data === "object";
}
