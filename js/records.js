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
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line);
      if (r && typeof r.type === "string" && r.data && typeof r.data === "object") records.push(r);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
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
