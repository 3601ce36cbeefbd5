// The viewer page's two sources of data, one interface: the viewer server's paged API (a live
// store) and an export file opened in the page (held in memory, queried here the way the
// server queries its index). No DOM.

import { groupRecords } from "./records.js";

const summary = ({ id, name, session_id, started_at, duration, total_tokens, status }) => ({ id, name, session_id, started_at, duration, total_tokens, status });

/** Asks the viewer server. `status(etag)` resolves null when nothing changed (304). */
export function serverSource() {
  const get = async (url) => {
    const res = await fetch(url, { cache: "no-store" });
    if (res.status === 404) return null;
    if (res.status !== 200) throw new Error(`HTTP ${res.status} for ${url}`);
    return res.json();
  };
  return {
    live: true,
    async status(etag) {
      const res = await fetch("/api/status", { headers: etag ? { "If-None-Match": etag } : {}, cache: "no-store" });
      if (res.status === 304) return null;
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      return { status: await res.json(), etag: res.headers.get("ETag") };
    },
    traces({ offset, limit, q, session, status }) {
      const p = new URLSearchParams({ offset: String(offset), limit: String(limit) });
      if (q) p.set("q", q);
      if (session === null) p.set("nosession", "1");
      else if (session) p.set("session", session);
      if (status) p.set("status", status);
      return get(`/api/traces?${p}`);
    },
    sessions: () => get("/api/sessions?limit=500"),
    trace: async (id) => (await get(`/api/trace?${new URLSearchParams({ id })}`))?.trace ?? null,
  };
}

/**
 * An export opened in the page: its records grouped once, queried in memory.
 * @param {{ records: object[], skipped: number, warnings: string[], file: string, size: number }} opened
 */
export function fileSource({ records, skipped, warnings, file, size }) {
  const { sessions, traces } = groupRecords(records);
  const newestFirst = traces.slice().reverse();
  const byId = new Map(traces.map((t) => [t.id, t]));
  const haystacks = new Map();
  const haystack = (t) => {
    let s = haystacks.get(t);
    if (s === undefined) {
      const parts = [t.name, t.id, t.session_id, t.status];
      for (const sp of t.spans ?? []) parts.push(sp.name, sp.attributes?.["error.message"], sp.attributes?.["gen_ai.request.model"]);
      s = parts.map((v) => (v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v))).join("\n").toLowerCase();
      haystacks.set(t, s);
    }
    return s;
  };
  const counts = new Map();
  for (const t of traces) if (t.session_id !== null && t.session_id !== undefined) counts.set(t.session_id, (counts.get(t.session_id) ?? 0) + 1);
  const sessionList = new Map(sessions.map((s) => [s.id, { ...s, traces: 0 }]));
  for (const t of traces) {
    if (t.session_id === null || t.session_id === undefined || sessionList.has(t.session_id)) continue;
    sessionList.set(t.session_id, { id: t.session_id, session_name: null, user_id: null, started_at: t.started_at, traces: 0 });
  }
  for (const [id, n] of counts) sessionList.get(id).traces = n;
  const status = {
    source: "upload",
    file,
    dir: null,
    exists: true,
    version: 1,
    traces: traces.length,
    sessions: sessionList.size,
    noSession: traces.filter((t) => t.session_id === null || t.session_id === undefined).length,
    skipped,
    warnings,
    error: null,
    indexing: null,
    files: [{ name: file, size, records: records.length, skipped }],
  };
  return {
    live: false,
    status: async () => ({ status, etag: null }),
    async traces({ offset, limit, q = "", session = "", status: st = "" }) {
      q = q.trim().toLowerCase();
      const rows = newestFirst.filter((t) => {
        if (session === null ? t.session_id !== null && t.session_id !== undefined : session && t.session_id !== session) return false;
        if (st && t.status !== st) return false;
        return !q || haystack(t).includes(q);
      });
      return { total: traces.length, matched: rows.length, offset, rows: rows.slice(offset, offset + limit).map(summary), version: 1, partial: false };
    },
    sessions: async () => ({ total: sessionList.size, sessions: [...sessionList.values()].sort((a, b) => (a.started_at ?? 0) - (b.started_at ?? 0)).slice(-500) }),
    trace: async (id) => byId.get(id) ?? null,
  };
}
