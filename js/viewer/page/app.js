// The viewer page: sessions, a traces table, a trace's span waterfall and a span's details.
// No framework and no build step. Everything that comes from the data is inserted as text
// (createTextNode / textContent) or as a data-* attribute: span content is data, never markup.

import { parseExport } from "./exportfile.js";
import { fileSource, serverSource } from "./query.js";

const POLL_MS = 1000;
const NO_SESSION = "\u0000none";
/** Rows of the traces table: a fixed height (style.css), so only the rows in view are drawn. */
const ROW_H = 33;
const PAGE = 100;
const OVERSCAN = 10;
/** Browsers cap an element's height (Chromium near 33.5 million px): past this the scrollbar
 * maps to row numbers in proportion. */
const MAX_SCROLL_H = 8_000_000;
/** The most spans a waterfall draws (a trace may have hundreds of thousands). */
const MAX_SPAN_ROWS = 2000;

// ---------------------------------------------------------------------------------------------
// DOM helpers

const $ = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);
const SAFE_ATTRS = new Set(["class", "title", "type", "value", "tabindex", "role", "open", "hidden", "selected", "colspan"]);

/** Creates an element. Attributes are limited to a safe list; children are nodes or text. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "testid") el.setAttribute("data-testid", v);
    else if (k.startsWith("data-") || k.startsWith("aria-") || SAFE_ATTRS.has(k)) el.setAttribute(k, v === true ? "" : String(v));
    else throw new Error(`h(): attribute ${k} is not allowed`);
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's children with a list of any length (a spread of a long list into
 * replaceChildren overflows the call stack). */
function setChildren(el, list) {
  const frag = document.createDocumentFragment();
  for (const c of list) frag.append(c);
  el.replaceChildren(frag);
}

const text = (v) => (v === null || v === undefined ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v));

// ---------------------------------------------------------------------------------------------
// Formatting

const pad = (n, w = 2) => String(n).padStart(w, "0");

function fmtTime(secs) {
  if (typeof secs !== "number" || !Number.isFinite(secs)) return "—";
  const d = new Date(secs * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function fmtDuration(secs) {
  if (typeof secs !== "number" || !Number.isFinite(secs) || secs < 0) return "—";
  const ms = secs * 1000;
  if (ms === 0) return "0 ms";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (secs < 60) return `${secs.toFixed(2)} s`;
  return `${Math.floor(secs / 60)} min ${Math.round(secs % 60)} s`;
}

const fmtInt = (n) => (typeof n === "number" && Number.isFinite(n) ? n.toLocaleString("en-US") : "—");

function statusBadge(status) {
  const s = status === "error" ? "error" : "ok";
  return h("span", { class: `badge ${s}`, testid: "status", "data-status": s }, s);
}

const KINDS = new Set(["llm", "tool", "trace", "agent", "span", "chain", "retriever", "embedding"]);
const kindClass = (k) => `kind kind-${KINDS.has(k) ? k : "other"}`;

// ---------------------------------------------------------------------------------------------
// State

const state = {
  source: serverSource(), // or fileSource(...) for an export opened in the page
  status: null, // the source's status (counts, files, warnings, indexing)
  etag: null,
  timer: null,
  traceId: null,
  spanId: null,
  trace: null, // the open trace, whole (spans and their details)
  shownTrace: null, // JSON of the trace the waterfall shows
  shownSpan: null, // JSON of the span the details show
  sessions: { total: 0, sessions: [] },
  view: { key: null, pages: new Map(), matched: 0, total: 0, partial: false, loading: new Set(), version: 0 },
};

function readRoute() {
  const p = new URLSearchParams(location.hash.slice(1));
  state.traceId = p.get("trace");
  state.spanId = p.get("span");
}

function go(traceId, spanId) {
  const p = new URLSearchParams();
  if (traceId) p.set("trace", traceId);
  if (traceId && spanId) p.set("span", spanId);
  const hash = p.toString();
  if (location.hash.slice(1) !== hash) location.hash = hash;
  else renderTraceView();
}

/** The table's query: search text and filters. */
function query() {
  const session = $("filter-session").value;
  return { q: $("search").value.trim(), session: session === NO_SESSION ? null : session, status: $("filter-status").value };
}

// ---------------------------------------------------------------------------------------------
// Loading

async function poll() {
  clearTimeout(state.timer);
  state.timer = null;
  const source = state.source;
  try {
    if (!document.hidden || state.status === null) {
      let got;
      try {
        got = await source.status(state.etag);
      } catch {
        // Only the request failing means the server is away; other errors are not hidden.
        if (source === state.source) setConnected(false);
        return;
      }
      if (source !== state.source) return;
      setConnected(true);
      if (got) {
        state.etag = got.etag;
        await setStatus(got.status);
      }
    }
  } finally {
    if (source.live && source === state.source) state.timer = setTimeout(poll, POLL_MS);
  }
}

function setConnected(ok) {
  const el = $("live-status");
  if (!state.source.live) {
    el.textContent = "";
    el.className = "live";
    return;
  }
  el.className = `live ${ok ? "on" : "off"}`;
  el.textContent = ok ? "● live" : "○ viewer server unreachable, retrying…";
  el.title = ok ? `Updated ${new Date().toLocaleTimeString()}` : "";
}

/** A new status: the store changed (or is being indexed). Reload what is shown. */
async function setStatus(status) {
  state.status = status;
  renderHeader();
  renderBanners();
  const source = state.source;
  await Promise.all([
    source.sessions().then((s) => {
      if (source !== state.source) return;
      state.sessions = s;
      renderSessions();
      renderSessionFilter();
    }),
    loadRows(true),
    loadTrace(true),
  ]);
}

/**
 * Makes sure the pages of rows in view are loaded (all of them again with `fresh`, after the
 * store changed), then draws the table. Pages of another query are forgotten.
 */
async function loadRows(fresh = false) {
  const q = query();
  const key = JSON.stringify(q);
  const v = state.view;
  if (v.key !== key) {
    state.view = { key, pages: new Map(), matched: v.key === null ? 0 : 0, total: v.total, partial: false, loading: new Set(), version: v.version + 1 };
    $("table-wrap").scrollTop = 0;
  }
  const view = state.view;
  const [first, last] = visibleRange(view.matched);
  const wanted = [];
  for (let p = Math.floor(first / PAGE); p <= Math.floor(Math.max(first, last) / PAGE); p++) if (fresh || !view.pages.has(p)) wanted.push(p);
  if (view.pages.size === 0 && !wanted.includes(0)) wanted.push(0);
  const todo = wanted.filter((p) => !view.loading.has(`${p}:${fresh}`));
  if (todo.length) {
    const source = state.source;
    for (const p of todo) view.loading.add(`${p}:${fresh}`);
    try {
      const got = await Promise.all(todo.map((p) => source.traces({ offset: p * PAGE, limit: PAGE, ...q })));
      if (state.view !== view || source !== state.source) return;
      if (fresh) view.pages = new Map();
      got.forEach((r, i) => {
        view.pages.set(todo[i], r.rows);
        view.matched = r.matched;
        view.total = r.total;
        view.partial = r.partial;
      });
    } catch (e) {
      showError(`Could not load traces: ${e.message}`);
    } finally {
      for (const p of todo) view.loading.delete(`${p}:${fresh}`);
    }
  }
  renderTraces();
}

/** Loads the open trace whole (again with `fresh`: late spans may have come). */
async function loadTrace(fresh = false) {
  if (!state.traceId) {
    state.trace = null;
    return renderTraceView();
  }
  if (fresh || state.trace?.id !== state.traceId) {
    const id = state.traceId;
    const source = state.source;
    try {
      const t = await source.trace(id);
      if (id !== state.traceId || source !== state.source) return;
      state.trace = t;
    } catch (e) {
      showError(`Could not load trace ${id}: ${e.message}`);
    }
  }
  renderTraceView();
}

async function openFile(file) {
  try {
    const { records, skipped, warnings } = parseExport(await file.text());
    clearTimeout(state.timer);
    state.source = fileSource({ records, skipped, warnings, file: file.name, size: file.size });
    state.etag = null;
    state.view = { ...state.view, key: null };
    setConnected(false);
    showError(null);
    go(null);
    await poll();
  } catch (e) {
    showError(`Could not open ${file.name}: ${e.message}`);
  }
}

function backToLive() {
  state.source = serverSource();
  state.etag = null;
  state.status = null;
  state.view = { ...state.view, key: null };
  go(null);
  poll();
}

// ---------------------------------------------------------------------------------------------
// Rendering

function renderHeader() {
  const d = state.status;
  const src = $("source");
  if (!d) src.textContent = "";
  else if (d.source === "upload") src.textContent = `Export: ${d.file} (opened in the browser)`;
  else if (d.source === "file") src.textContent = `File: ${d.file}`;
  else src.textContent = `Store: ${d.dir}`;
  $("back-live").hidden = state.source.live;
}

function showError(msg) {
  const el = $("error");
  el.hidden = !msg;
  el.textContent = msg ?? "";
}

function renderBanners() {
  const d = state.status;
  const warn = $("warning");
  const lines = [];
  if (d?.skipped > 0) {
    const where = (d.files ?? []).filter((f) => f.skipped > 0).map((f) => `${f.name} (${f.skipped})`).join(", ");
    lines.push(`${d.skipped} unreadable line${d.skipped === 1 ? " was" : "s were"} skipped${where ? ` in ${where}` : ""}: a torn last line after a crash, or a corrupt line. Everything else is shown.`);
  }
  for (const w of d?.warnings ?? []) lines.push(w);
  warn.hidden = lines.length === 0;
  warn.setAttribute("data-skipped", String(d?.skipped ?? 0));
  warn.replaceChildren();
  for (const l of lines) warn.append(h("div", {}, "⚠ ", l));
  showError(d?.error ?? null);
}

function renderSessions() {
  const ul = $("sessions");
  const current = $("filter-session").value;
  const { sessions, total } = state.sessions;
  ul.replaceChildren();
  for (const s of sessions) {
    ul.append(
      h(
        "li",
        { testid: "session-item", "data-session-id": s.id, class: s.id === current ? "selected" : "", tabindex: 0, role: "button", title: "Show this session's traces" },
        h("div", { class: "s-name", testid: "session-name" }, s.session_name || s.id),
        h("div", { class: "s-sub" }, s.session_name ? `${s.id} · ` : "", s.user_id ? `user ${s.user_id} · ` : "", `${s.traces} trace${s.traces === 1 ? "" : "s"}`),
      ),
    );
  }
  if (sessions.length === 0) ul.append(h("li", { class: "none" }, "No sessions"));
  else if (total > sessions.length) ul.append(h("li", { class: "none", testid: "sessions-more" }, `and ${fmtInt(total - sessions.length)} older sessions (search by session id)`));
}

function renderSessionFilter() {
  const sel = $("filter-session");
  const value = sel.value;
  const opts = [h("option", { value: "" }, "All sessions")];
  for (const s of state.sessions.sessions) opts.push(h("option", { value: s.id }, s.session_name ? `${s.session_name} (${s.id})` : s.id));
  if (state.status?.noSession > 0) opts.push(h("option", { value: NO_SESSION }, "No session"));
  sel.replaceChildren();
  for (const o of opts) sel.append(o);
  sel.value = [...sel.options].some((o) => o.value === value) ? value : "";
}

/** The height of the scrolled area for `n` rows, and the first and last row in view. */
function scrollHeight(n) {
  return Math.min(n * ROW_H, MAX_SCROLL_H);
}

function visibleRange(n) {
  const wrap = $("table-wrap");
  const inView = Math.ceil(wrap.clientHeight / ROW_H) + 1;
  const H = scrollHeight(n);
  let first;
  if (n * ROW_H <= MAX_SCROLL_H) first = Math.floor(wrap.scrollTop / ROW_H);
  else first = Math.round((wrap.scrollTop / Math.max(1, H - wrap.clientHeight)) * Math.max(0, n - inView));
  first = Math.max(0, Math.min(first, Math.max(0, n - inView)));
  return [Math.max(0, first - OVERSCAN), Math.min(n - 1, first + inView + OVERSCAN)];
}

function traceRow(t) {
  return h(
    "tr",
    { testid: "trace-row", "data-trace-id": t.id, "data-status": t.status, class: t.id === state.traceId ? "selected" : "", tabindex: 0 },
    h("td", { testid: "trace-name", class: "name" }, text(t.name)),
    h("td", { testid: "trace-session" }, t.session_id ?? "—"),
    h("td", { testid: "trace-start", class: "time" }, fmtTime(t.started_at)),
    h("td", { testid: "trace-latency", class: "num" }, fmtDuration(t.duration)),
    h("td", { testid: "trace-tokens", class: "num" }, fmtInt(t.total_tokens)),
    h("td", { testid: "trace-status" }, statusBadge(t.status)),
  );
}

function spacer(height, testid) {
  const tr = h("tr", { class: "spacer", testid, "aria-hidden": "true" }, h("td", { colspan: 6 }));
  tr.style.height = `${height}px`;
  return tr;
}

/** Draws the rows in view (a few dozen, whatever the store's size) between two spacers. */
function renderTraces() {
  const body = $("traces-body");
  const view = state.view;
  const n = view.matched;
  const wrap = $("table-wrap");
  const [first, last] = visibleRange(n);
  const H = scrollHeight(n);
  const exact = n * ROW_H <= MAX_SCROLL_H;
  const top = n === 0 ? 0 : exact ? first * ROW_H : Math.max(0, Math.min(wrap.scrollTop - OVERSCAN * ROW_H, H - (last - first + 1) * ROW_H));
  const rows = [];
  for (let i = first; i <= last && n > 0; i++) {
    const page = view.pages.get(Math.floor(i / PAGE));
    const t = page?.[i % PAGE];
    rows.push(t ? traceRow(t) : h("tr", { class: "loading", testid: "trace-row-loading" }, h("td", { colspan: 6 }, "…")));
  }
  body.replaceChildren(spacer(top, "spacer-top"));
  for (const r of rows) body.append(r);
  body.append(spacer(Math.max(0, H - top - rows.length * ROW_H), "spacer-bottom"));
  // For tests and tools: the query these rows answer, and whether pages are still loading.
  body.dataset.key = view.key ?? "";
  body.dataset.loading = view.loading.size || rows.some((r) => r.classList.contains("loading")) ? "1" : "0";
  const d = state.status;
  const total = view.total;
  let count = n === total ? `(${fmtInt(total)})` : `(${fmtInt(n)} of ${fmtInt(total)})`;
  if (d?.indexing) count += ` · indexing ${Math.floor((100 * d.indexing.done) / Math.max(1, d.indexing.total))}%`;
  $("trace-count").textContent = count;
  const empty = $("empty");
  let msg = "";
  if (!d) msg = "Loading…";
  else if (total === 0 && d.indexing) msg = "Reading the store…";
  else if (total === 0 && d.source === "dir" && !d.exists) msg = `No store at ${d.dir} yet. Run your app with init({ mode: "local" }); its traces appear here as they are written.`;
  else if (total === 0) msg = "No traces yet. New traces appear here as they are written.";
  else if (n === 0) msg = "No traces match the search and filters.";
  empty.hidden = !msg;
  empty.textContent = msg;
}

/** The trace's spans in tree order (each parent followed by its children, by start time). */
function treeOrder(t) {
  const spans = t.spans ?? [];
  const ids = new Set(spans.map((s) => s.id));
  const kids = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parent_id && s.parent_id !== s.id && ids.has(s.parent_id)) {
      if (!kids.has(s.parent_id)) kids.set(s.parent_id, []);
      kids.get(s.parent_id).push(s);
    } else roots.push(s);
  }
  const out = [];
  const seen = new Set();
  // Depth first without recursion: a chain of spans may be deeper than the call stack.
  const visit = (root) => {
    const stack = [[root, 0]];
    while (stack.length) {
      const [s, depth] = stack.pop();
      if (seen.has(s.id)) continue;
      seen.add(s.id);
      out.push({ span: s, depth });
      const kids_ = kids.get(s.id) ?? [];
      for (let i = kids_.length - 1; i >= 0; i--) stack.push([kids_[i], depth + 1]);
    }
  };
  for (const r of roots) visit(r);
  for (const s of spans) visit(s); // spans caught in a parent cycle
  return out;
}

function renderTraceView() {
  const view = $("trace-view");
  for (const r of $("traces-body").querySelectorAll('[data-testid="trace-row"]')) {
    r.classList.toggle("selected", r.getAttribute("data-trace-id") === state.traceId);
  }
  const t = state.traceId && state.trace?.id === state.traceId ? state.trace : null;
  if (!t) {
    view.hidden = true;
    state.shownTrace = state.shownSpan = null;
    return;
  }
  view.hidden = false;
  const rows = treeOrder(t);
  const key = JSON.stringify(t);
  if (key !== state.shownTrace) {
    state.shownTrace = key;
    state.shownSpan = null;
    $("trace-title").textContent = text(t.name);
    const meta = [fmtTime(t.started_at), fmtDuration(t.duration), `${rows.length} span${rows.length === 1 ? "" : "s"}`, `${fmtInt(t.total_tokens)} tokens`];
    if (t.session_id) meta.push(`session ${t.session_id}`);
    $("trace-meta").replaceChildren(statusBadge(t.status), " ", meta.join(" · "));
    const md = t.metadata;
    const hasMd = md !== null && md !== undefined && (typeof md !== "object" || Object.keys(md).length > 0);
    $("trace-metadata").hidden = !hasMd;
    const chips = md !== null && typeof md === "object" && !Array.isArray(md) ? Object.entries(md).map(([k, v]) => h("span", { class: "chip" }, h("span", { class: "j-key" }, `${k}: `), JSON.stringify(v))) : [text(md)];
    setChildren($("trace-metadata"), hasMd ? [h("span", { class: "md-label" }, "Metadata")].concat(chips) : []);
    renderWaterfall(t, rows);
  }
  const span = (t.spans ?? []).find((s) => s.id === state.spanId) ?? rows[0]?.span;
  for (const r of $("waterfall").querySelectorAll('[data-testid="span-row"]')) {
    r.classList.toggle("selected", r.getAttribute("data-span-id") === span?.id);
  }
  const spanKey = span ? JSON.stringify(span) : null;
  if (spanKey !== state.shownSpan) {
    state.shownSpan = spanKey;
    setChildren($("span-details"), span ? spanDetails(span) : []);
  }
}

function renderWaterfall(t, rows) {
  let t0 = t.started_at;
  let t1 = t.ended_at;
  for (const { span: s } of rows) {
    if (!(s.started_at >= t0)) t0 = Math.min(t0, s.started_at);
    if (!(s.ended_at <= t1)) t1 = Math.max(t1, s.ended_at);
  }
  const total = t1 - t0 > 0 ? t1 - t0 : 1e-6;
  const axis = h("div", { class: "wf-track wf-axis" });
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const tick = h("span", { class: "tick" }, fmtDuration(total * f));
    tick.style.left = `${f * 100}%`;
    axis.append(tick);
  }
  const head = h("div", { class: "wf-row wf-head" }, h("div", { class: "wf-label" }, "Span"), axis, h("div", { class: "wf-dur" }, "Duration"));
  const out = [head];
  for (const { span: s, depth } of rows.slice(0, MAX_SPAN_ROWS)) {
    const err = s.status === "error";
    const offset = Math.max(0, (s.started_at - t0) / total);
    const width = Math.max(0, Math.min(1 - offset, (s.ended_at - s.started_at) / total));
    const bar = h("div", { class: `bar ${err ? "error" : KINDS.has(s.kind) ? `k-${s.kind}` : ""}`, testid: "span-bar", "data-offset": offset.toFixed(6), "data-width": width.toFixed(6) });
    bar.style.left = `${offset * 100}%`;
    bar.style.width = `${width * 100}%`;
    const label = h(
      "div",
      { class: "wf-label" },
      h("span", { class: kindClass(s.kind) }, text(s.kind)),
      h("span", { class: "wf-name", testid: "span-name" }, text(s.name)),
      err ? h("span", { class: "err-mark", testid: "span-error-mark", title: text(s.attributes?.["error.message"]) }, "error") : null,
    );
    label.style.paddingLeft = `${6 + depth * 16}px`;
    out.push(
      h(
        "div",
        { class: `wf-row${err ? " error" : ""}`, testid: "span-row", "data-span-id": s.id, "data-depth": depth, "data-status": err ? "error" : "ok", tabindex: 0, role: "button" },
        label,
        h("div", { class: "wf-track" }, bar),
        h("div", { class: "wf-dur num" }, fmtDuration(s.duration ?? s.ended_at - s.started_at)),
      ),
    );
  }
  if (rows.length > MAX_SPAN_ROWS) out.push(h("p", { class: "note", testid: "spans-more" }, `${fmtInt(rows.length - MAX_SPAN_ROWS)} more spans not drawn (the first ${fmtInt(MAX_SPAN_ROWS)} in tree order are).`));
  setChildren($("waterfall"), out);
}

// ---------------------------------------------------------------------------------------------
// Span details

/** A collapsible JSON tree (details/summary); values are text nodes. */
function jsonTree(value, testid, collapsed = false) {
  return h("div", { class: "json", testid }, jsonNode(value, null, collapsed ? 2 : 0));
}

function jsonNode(v, key, depth) {
  const label = key === null ? null : h("span", { class: "j-key" }, typeof key === "number" ? `${key}: ` : `${key}: `);
  if (v !== null && typeof v === "object") {
    const isArr = Array.isArray(v);
    const entries = isArr ? v.map((x, i) => [i, x]) : Object.entries(v);
    if (entries.length === 0) return h("div", { class: "j-leaf" }, label, h("span", { class: "j-punct" }, isArr ? "[]" : "{}"));
    const d = h("details", { class: "j-node" }, h("summary", {}, label, h("span", { class: "j-punct" }, isArr ? `[${entries.length}]` : `{${entries.length}}`)));
    let filled = false;
    const fill = () => {
      if (filled) return;
      filled = true;
      d.append(h("div", { class: "j-children" }, entries.map(([k, x]) => jsonNode(x, k, depth + 1))));
    };
    if (depth < 2 && entries.length <= 50) {
      d.open = true;
      fill();
    } else d.addEventListener("toggle", fill);
    return d;
  }
  const type = v === null ? "null" : typeof v;
  const shown = type === "string" ? `"${v}"` : String(v);
  return h("div", { class: "j-leaf" }, label, h("span", { class: `j-${type}` }, shown));
}

/** Text that may be JSON text (structured message content, tool arguments). */
function maybeJson(s, testid) {
  if (typeof s === "string" && /^\s*[[{]/.test(s)) {
    try {
      return jsonTree(JSON.parse(s), testid);
    } catch {
      /* plain text */
    }
  }
  return h("div", { class: "msg-text", testid }, text(s));
}

function section(title, testid, ...body) {
  return h("section", { class: "d-section", testid }, h("h4", {}, title), ...body);
}

function kv(rows) {
  return h(
    "dl",
    { class: "kv" },
    rows.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, text(v))]),
  );
}

function spanDetails(s) {
  const a = s.attributes && typeof s.attributes === "object" ? s.attributes : {};
  const out = [];
  out.push(
    h("div", { class: "d-head" }, h("h3", { testid: "span-title" }, text(s.name)), h("span", { class: kindClass(s.kind) }, text(s.kind)), statusBadge(s.status)),
    kv([
      ["Duration", fmtDuration(s.duration ?? s.ended_at - s.started_at)],
      ["Start", fmtTime(s.started_at)],
      ["Span id", s.id],
      ["Parent id", s.parent_id],
      ["Service", a["service.name"]],
    ]),
  );
  if (s.status === "error" || a["error.message"] !== undefined) {
    out.push(
      section(
        "Error",
        "span-error",
        h("div", { class: "err-head" }, h("strong", { testid: "error-type" }, text(a["error.type"] ?? "Error")), ": ", h("span", { testid: "error-message" }, text(a["error.message"]))),
        a["error.stack"] ? h("pre", { class: "stack", testid: "error-stack" }, text(a["error.stack"])) : null,
      ),
    );
  }
  const prompts = [...(s.prompts ?? [])].sort((x, y) => (x.message_index ?? 0) - (y.message_index ?? 0));
  const completions = s.completions ?? [];
  if (prompts.length || completions.length) {
    const msg = (m, kind) =>
      h(
        "div",
        { class: `msg ${kind} role-${["system", "user", "assistant", "tool"].includes(m.role) ? m.role : "other"}`, testid: "chat-message", "data-role": text(m.role), "data-kind": kind },
        h("div", { class: "msg-role" }, text(m.role), kind === "completion" ? ` · completion${m.finish_reason ? ` · ${m.finish_reason}` : ""}` : ""),
        m.content === "" || m.content === null || m.content === undefined
          ? h("div", { class: "msg-text muted", testid: "chat-content" }, kind === "completion" && s.tools?.length ? `(no text: calls ${s.tools.map((t) => text(t.name)).join(", ")})` : "(no text)")
          : maybeJson(m.content, "chat-content"),
      );
    out.push(section("Chat", "chat", h("div", { class: "chat" }, prompts.map((m) => msg(m, "prompt")), completions.map((m) => msg(m, "completion")))));
  }
  if (s.tools?.length) {
    out.push(section("Tool calls", "tool-calls", s.tools.map((t) => h("div", { class: "tool", testid: "tool-call" }, h("div", { class: "tool-name", testid: "tool-name" }, text(t.name)), maybeJson(t.arguments, "tool-arguments")))));
  }
  const usageKeys = [
    ["Model", "gen_ai.request.model"],
    ["Response model", "gen_ai.response.model"],
    ["Provider", "gen_ai.system"],
    ["Input tokens", "gen_ai.usage.input_tokens"],
    ["Output tokens", "gen_ai.usage.output_tokens"],
    ["Total tokens", "gen_ai.usage.total_tokens"],
    ["Cache read tokens", "gen_ai.usage.cache_read_input_tokens"],
    ["Cache creation tokens", "gen_ai.usage.cache_creation_input_tokens"],
    ["Reasoning tokens", "gen_ai.usage.reasoning_tokens"],
    ["Finish reasons", "gen_ai.response.finish_reasons"],
  ];
  if (usageKeys.some(([, k]) => a[k] !== undefined)) {
    out.push(section("Usage", "usage", kv(usageKeys.map(([label, k]) => [label, a[k]]))));
  }
  if (a.truncated) out.push(h("p", { class: "note", testid: "truncated" }, "Some captured values were cut to fit maxFieldBytes."));
  if ("input" in a) out.push(section("Input", "span-input-section", jsonTree(a.input, "span-input")));
  if ("output" in a) out.push(section("Output", "span-output-section", jsonTree(a.output, "span-output")));
  if ("metadata" in a) out.push(section("Metadata", "span-metadata-section", jsonTree(a.metadata, "span-metadata")));
  const keys = Object.keys(a).sort();
  out.push(
    section(
      "Attributes",
      "span-attributes",
      h(
        "table",
        { class: "attrs" },
        h(
          "tbody",
          {},
          keys.map((k) => h("tr", { testid: "attribute", "data-key": k }, h("th", {}, k), h("td", {}, a[k] !== null && typeof a[k] === "object" ? jsonTree(a[k], undefined, true) : text(a[k])))),
        ),
      ),
    ),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Events

function wire() {
  $("traces-body").addEventListener("click", (e) => {
    const row = e.target.closest('[data-testid="trace-row"]');
    if (row) go(row.getAttribute("data-trace-id"));
  });
  $("traces-body").addEventListener("keydown", (e) => {
    const row = e.target.closest('[data-testid="trace-row"]');
    if (row && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      go(row.getAttribute("data-trace-id"));
    }
  });
  $("waterfall").addEventListener("click", (e) => {
    const row = e.target.closest('[data-testid="span-row"]');
    if (row) go(state.traceId, row.getAttribute("data-span-id"));
  });
  $("waterfall").addEventListener("keydown", (e) => {
    const row = e.target.closest('[data-testid="span-row"]');
    if (!row) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      go(state.traceId, row.getAttribute("data-span-id"));
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = e.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
      if (next?.getAttribute("data-testid") === "span-row") {
        next.focus();
        go(state.traceId, next.getAttribute("data-span-id"));
      }
    }
  });
  const pickSession = (e) => {
    const li = e.target.closest('[data-testid="session-item"]');
    if (!li) return;
    const sel = $("filter-session");
    const id = li.getAttribute("data-session-id");
    sel.value = sel.value === id ? "" : id;
    renderSessions();
    loadRows();
  };
  $("sessions").addEventListener("click", pickSession);
  $("sessions").addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), pickSession(e)));
  let searchTimer = null;
  $("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadRows(), 150);
  });
  $("filter-session").addEventListener("change", () => {
    renderSessions();
    loadRows();
  });
  $("filter-status").addEventListener("change", () => loadRows());
  // Scrolling draws the rows now in view and loads the pages they are on.
  let frame = 0;
  $("table-wrap").addEventListener("scroll", () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      renderTraces();
      loadRows();
    });
  });
  $("trace-close").addEventListener("click", () => go(null));
  $("back-live").addEventListener("click", backToLive);
  $("open-file").addEventListener("change", (e) => {
    const f = e.target.files?.[0];
    if (f) openFile(f);
    e.target.value = "";
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && state.traceId && !e.target.closest?.("input,select")) go(null);
  });
  window.addEventListener("hashchange", () => {
    readRoute();
    loadTrace();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.source.live) poll();
  });
  // Drop an export file anywhere on the page.
  const overlay = $("drop-overlay");
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes("Files");
  window.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    overlay.hidden = false;
  });
  window.addEventListener("dragleave", (e) => {
    if (!e.relatedTarget) overlay.hidden = true;
  });
  window.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    overlay.hidden = true;
    const f = e.dataTransfer.files?.[0];
    if (f) openFile(f);
  });
}

wire();
readRoute();
renderTraces();
poll();
