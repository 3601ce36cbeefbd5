// The viewer's index of a store: one compact row per trace (columns in typed arrays, strings
// interned), built by reading each file once and then only the bytes appended to it, so a
// store of a million traces fits in a few tens of MB and an append costs what was appended.
// A trace's records are not kept: the index keeps where they are (runs of lines: file,
// offset, length) and reads them back when the trace is opened.
//
// What the rows hold: id, name, session, start, end, total tokens, status, and the strings a
// search looks at (span names, error messages, models), interned.

import { parseRecord, scanChunks } from "../records.js";

/** Bytes read and indexed between two turns of the event loop (a few ms of work). */
const CHUNK = 128 << 10;

/** A growable column of numbers. */
class Column {
  constructor(Type, size = 1024) {
    this.Type = Type;
    this.a = new Type(size);
  }
  set(i, v) {
    if (i >= this.a.length) {
      const b = new this.Type(Math.max(i + 1, this.a.length * 2));
      b.set(this.a);
      this.a = b;
    }
    this.a[i] = v;
  }
  get(i) {
    return this.a[i];
  }
}

/** The type of a store line from its first bytes (`{"type":"span",...`), without parsing it. */
function lineType(line) {
  if (!line.startsWith('{"type":"')) return null;
  const end = line.indexOf('"', 9);
  return end === -1 ? null : line.slice(9, end);
}

/** A JSON string value starting at the quote at `at` in `line`, or undefined. */
function stringAt(line, at) {
  let end = at + 1;
  for (;;) {
    end = line.indexOf('"', end);
    if (end === -1) return undefined;
    let bs = 0;
    while (line.charCodeAt(end - 1 - bs) === 92) bs++;
    if (bs % 2 === 0) break;
    end++;
  }
  const raw = line.slice(at, end + 1);
  if (raw.indexOf("\\") === -1) return raw.slice(1, -1);
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * What the index needs of a span line (trace id, name, status), read without parsing the line:
 * captured values sit in `attributes`, a JSON string whose quotes are escaped, so a raw
 * `"trace_id":"` can only be the span's own key. Undefined when the line is not that simple
 * (then it is parsed), and for LLM and error spans, whose attributes are read.
 */
function spanFields(line) {
  if (line.includes('"status":"error"') || line.includes('"kind":"llm"')) return undefined;
  const t = line.indexOf('"trace_id":"');
  const n = line.indexOf('"name":"');
  if (t === -1 || n === -1 || !line.endsWith("}}")) return undefined;
  const traceId = stringAt(line, t + 11);
  const name = stringAt(line, n + 7);
  if (traceId === undefined || name === undefined) return undefined;
  return { trace_id: traceId, name, status: "ok" };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const hex8 = (n) => n.toString(16).padStart(8, "0");

/**
 * Trace ids by row and rows by id, compactly: a UUID (every trace id this SDK writes) is kept
 * as four 32-bit words and found through an open-addressing table of rows (about 24 bytes a
 * trace, against about 100 for a string in a Map); any other id is kept as a string.
 */
class IdTable {
  constructor() {
    this.words = new Column(Uint32Array, 4096);
    this.slots = new Int32Array(1 << 12); // row + 1, 0 = empty
    this.size = 0;
    this.odd = new Map(); // id -> row, for ids that are not UUIDs
    this.oddIds = new Map(); // row -> id
  }

  static split(id) {
    if (id.length !== 36 || !UUID.test(id)) return null;
    return [parseInt(id.slice(0, 8), 16), parseInt(id.slice(9, 13) + id.slice(14, 18), 16), parseInt(id.slice(19, 23) + id.slice(24, 28), 16), parseInt(id.slice(28), 16)];
  }

  hash(w) {
    const h = Math.imul(w[0] ^ Math.imul(w[1], 0x9e3779b1) ^ Math.imul(w[2], 0x85ebca6b) ^ Math.imul(w[3], 0xc2b2ae35), 0x27d4eb2d);
    return (h ^ (h >>> 15)) & (this.slots.length - 1);
  }

  same(row, w) {
    const a = this.words.a;
    return a[row * 4] === w[0] && a[row * 4 + 1] === w[1] && a[row * 4 + 2] === w[2] && a[row * 4 + 3] === w[3];
  }

  /** The row of `id`, or undefined. */
  get(id) {
    const w = IdTable.split(id);
    if (!w) return this.odd.get(id);
    for (let i = this.hash(w); ; i = (i + 1) & (this.slots.length - 1)) {
      const r = this.slots[i];
      if (r === 0) return undefined;
      if (this.same(r - 1, w)) return r - 1;
    }
  }

  /** Adds `id` as row `row` (not there yet). */
  add(id, row) {
    const w = IdTable.split(id);
    if (!w) {
      this.odd.set(id, row);
      this.oddIds.set(row, id);
      for (let k = 0; k < 4; k++) this.words.set(row * 4 + k, 0);
      return;
    }
    for (let k = 0; k < 4; k++) this.words.set(row * 4 + k, w[k]);
    if (++this.size * 2 > this.slots.length) this.grow();
    this.place(row, w);
  }

  place(row, w) {
    let i = this.hash(w);
    while (this.slots[i] !== 0) i = (i + 1) & (this.slots.length - 1);
    this.slots[i] = row + 1;
  }

  grow() {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    const w = [0, 0, 0, 0];
    const a = this.words.a;
    for (const r of old) {
      if (r === 0) continue;
      for (let k = 0; k < 4; k++) w[k] = a[(r - 1) * 4 + k];
      this.place(r - 1, w);
    }
  }

  /** The id of row `row`. */
  id(row) {
    const odd = this.oddIds.get(row);
    if (odd !== undefined) return odd;
    const a = this.words.a;
    const w1 = hex8(a[row * 4 + 1]);
    const w2 = hex8(a[row * 4 + 2]);
    return `${hex8(a[row * 4])}-${w1.slice(0, 4)}-${w1.slice(4)}-${w2.slice(0, 4)}-${w2.slice(4)}${hex8(a[row * 4 + 3])}`;
  }
}

export class StoreIndex {
  constructor() {
    this.count = 0;
    this.ids = new IdTable();
    this.strings = [];
    this.stringIds = new Map();
    this.name = new Column(Int32Array);
    this.session = new Column(Int32Array);
    this.start = new Column(Float64Array);
    this.end = new Column(Float64Array);
    this.tokens = new Column(Float64Array);
    this.error = new Column(Uint8Array);
    this.runFile = new Column(Uint16Array);
    this.runOff = new Column(Float64Array);
    this.runLen = new Column(Uint32Array);
    this.extraRuns = new Map(); // row -> [file, off, len, ...]: late spans, written apart
    // (row, string id) pairs: the span names, errors and models a search looks at.
    this.words = new Column(Int32Array);
    this.wordCount = 0;
    this.pending = new Map(); // trace id -> records seen before the trace's own record
    this.sessions = new Map(); // string id -> { id, session_name, user_id, started_at, traces }
    this.skipped = 0;
    this.noSession = 0; // traces without a session
    this.gone = new Uint8Array(65536); // files deleted since they were read, by number
    this.hidden = 0; // traces whose records were in a deleted file
  }

  /** Traces shown: those whose own record is in a file still there. */
  get shown() {
    return this.count - this.hidden;
  }

  /** File `no` was deleted (the store's cap): the traces it began are no longer shown. */
  fileGone(no) {
    if (this.gone[no]) return;
    this.gone[no] = 1;
    const f = this.runFile.a;
    for (let row = 0; row < this.count; row++) if (f[row] === no) this.hidden++;
  }

  intern(s) {
    if (typeof s !== "string") s = s === null || s === undefined ? "" : String(s);
    let i = this.stringIds.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, i);
    }
    return i;
  }

  /** A line reader for file number `file`: feed it lines with their offsets. */
  reader(file) {
    let run = null; // { row, id, off, len } or { id (pending), off, len }
    const close = () => {
      if (!run) return;
      this.addRun(run.id, file, run.off, run.len);
      run = null;
    };
    const extend = (id, off, len) => {
      if (run && run.id === id && run.off + run.len === off) run.len = off + len - run.off;
      else {
        close();
        run = { id, off, len };
      }
    };
    return {
      line: (text, off, len) => {
        const withNl = len + 1;
        if (text === null) {
          close();
          this.skipped++;
          return;
        }
        const type = lineType(text);
        if (type === "span" || type === "prompt" || type === "completion" || type === "tool") {
          if (type !== "span") {
            // The LLM details of the span before: same run (parsed when the trace is opened).
            if (run) extend(run.id, off, withNl);
            return;
          }
          const data = spanFields(text) ?? parseRecord(text)?.data;
          if (!data) return this.skip(close);
          const id = String(data.trace_id);
          extend(id, off, withNl);
          this.spanSeen(id, data);
          return;
        }
        close();
        const r = parseRecord(text);
        if (r === undefined) return;
        if (r === null) return void this.skipped++;
        if (type === "trace") {
          this.addTrace(r.data);
          run = { id: String(r.data.id), off, len: withNl };
        } else if (type === "trace_update") {
          const row = this.ids.get(String(r.data.id));
          if (row !== undefined) this.tokens.set(row, Number(r.data.total_tokens) || 0);
          else this.pendingFor(String(r.data.id)).tokens = r.data.total_tokens;
        } else if (type === "session") this.addSession(r.data);
      },
      end: close,
    };
  }

  skip(close) {
    close();
    this.skipped++;
  }

  pendingFor(id) {
    let p = this.pending.get(id);
    if (!p) this.pending.set(id, (p = { runs: [], words: [], error: false, tokens: undefined }));
    return p;
  }

  addRun(id, file, off, len) {
    const row = this.ids.get(id);
    if (row === undefined) return void this.pendingFor(id).runs.push(file, off, len);
    if (this.runLen.get(row) === 0 && this.runOff.get(row) === -1) {
      this.runFile.set(row, file);
      this.runOff.set(row, off);
      this.runLen.set(row, len);
      return;
    }
    let extra = this.extraRuns.get(row);
    if (!extra) this.extraRuns.set(row, (extra = []));
    extra.push(file, off, len);
  }

  spanSeen(id, span) {
    const words = [];
    if (span.name !== undefined) words.push(this.intern(span.name));
    const error = span.status === "error";
    if (error || span.kind === "llm") {
      try {
        const a = typeof span.attributes === "string" ? JSON.parse(span.attributes) : span.attributes ?? {};
        for (const k of ["error.message", "gen_ai.request.model"]) if (a?.[k] !== undefined) words.push(this.intern(a[k]));
      } catch {}
    }
    const row = this.ids.get(id);
    if (row === undefined) {
      const p = this.pendingFor(id);
      p.words.push(...words);
      p.error ||= error;
      return;
    }
    if (error) this.error.set(row, 1);
    this.addWords(row, words);
  }

  addWords(row, words) {
    // Most traces repeat their own name as the root span's: nothing to keep for those.
    const name = this.name.get(row);
    for (const w of words) {
      if (w === name) continue;
      const n = this.wordCount;
      // The same word as one of the last pairs of this row (spans of one name in a row): kept once.
      let seen = false;
      for (let k = n - 2; k >= 0 && k >= n - 16 && this.words.a[k] === row; k -= 2) if (this.words.a[k + 1] === w) seen = true;
      if (seen) continue;
      this.words.set(n, row);
      this.words.set(n + 1, w);
      this.wordCount = n + 2;
    }
  }

  addTrace(t) {
    const id = String(t.id);
    if (this.ids.get(id) !== undefined) return; // written twice (a re-read file): the first stays
    const row = this.count++;
    this.ids.add(id, row);
    this.name.set(row, this.intern(t.name));
    const hasSession = t.session_id !== null && t.session_id !== undefined;
    const s = hasSession ? this.intern(t.session_id) : -1;
    this.session.set(row, s);
    if (hasSession) this.sessionFor(s, t.started_at).traces++;
    else this.noSession++;
    this.start.set(row, Number(t.started_at));
    this.end.set(row, Number(t.ended_at));
    this.tokens.set(row, Number(t.total_tokens) || 0);
    this.error.set(row, 0);
    this.runFile.set(row, 0);
    this.runOff.set(row, -1);
    this.runLen.set(row, 0);
    const p = this.pending.get(id);
    if (p) {
      // Records of this trace read before its own (a late span in an earlier file).
      this.pending.delete(id);
      for (let i = 0; i < p.runs.length; i += 3) this.addRun(id, p.runs[i], p.runs[i + 1], p.runs[i + 2]);
      if (p.error) this.error.set(row, 1);
      if (p.tokens !== undefined) this.tokens.set(row, Number(p.tokens) || 0);
      this.addWords(row, p.words);
    }
  }

  sessionFor(s, startedAt) {
    let info = this.sessions.get(s);
    if (!info) this.sessions.set(s, (info = { id: this.strings[s], session_name: null, user_id: null, started_at: startedAt ?? null, traces: 0 }));
    return info;
  }

  addSession(d) {
    const info = this.sessionFor(this.intern(d.id), d.started_at);
    info.session_name = d.session_name ?? d.name ?? info.session_name;
    info.user_id = d.user_id ?? info.user_id;
    if (typeof d.started_at === "number") info.started_at = d.started_at;
  }

  /** The table row of index row `row`. */
  summary(row) {
    const s = this.session.get(row);
    const start = this.start.get(row);
    return {
      id: this.ids.id(row),
      name: this.strings[this.name.get(row)],
      session_id: s === -1 ? null : this.strings[s],
      started_at: start,
      duration: this.end.get(row) - start,
      total_tokens: this.tokens.get(row),
      status: this.error.get(row) ? "error" : "ok",
    };
  }

  /** Where trace `row`'s records are: [file, off, len, ...]. */
  runsOf(row) {
    const first = this.runOff.get(row) === -1 ? [] : [this.runFile.get(row), this.runOff.get(row), this.runLen.get(row)];
    return first.concat(this.extraRuns.get(row) ?? []);
  }

  /**
   * The rows that match, newest (last indexed) first, as an Int32Array.
   * @param {{ q?: string, session?: string | null, status?: string }} filter `session`: a
   *   session id, "" for any, null for traces without one
   */
  filter({ q = "", session = "", status = "" } = {}) {
    q = q.trim().toLowerCase();
    const wanted = session === null ? -1 : session === "" ? -2 : (this.stringIds.get(session) ?? -3);
    let hit = null;
    if (q) {
      hit = new Uint8Array(this.strings.length);
      for (let i = 0; i < this.strings.length; i++) if (this.strings[i].toLowerCase().includes(q)) hit[i] = 1;
    }
    const want = status === "error" ? 1 : status === "ok" ? 0 : -1;
    let wordHit = null;
    if (hit) {
      wordHit = new Uint8Array(this.count);
      const w = this.words.a;
      for (let k = 0; k < this.wordCount; k += 2) if (hit[w[k + 1]]) wordHit[w[k]] = 1;
    }
    const out = new Int32Array(this.count);
    let n = 0;
    const session_ = this.session.a;
    const gone = this.gone;
    const file = this.runFile.a;
    const anyGone = this.hidden > 0;
    const error = this.error.a;
    const name = this.name.a;
    for (let row = this.count - 1; row >= 0; row--) {
      if (anyGone && gone[file[row]]) continue;
      if (wanted !== -2 && session_[row] !== wanted) continue;
      if (want !== -1 && error[row] !== want) continue;
      if (hit && !wordHit[row] && !this.matches(row, q, hit, name[row], session_[row], error[row])) continue;
      out[n++] = row;
    }
    return out.subarray(0, n);
  }

  /** Only a query made of hex digits and dashes can be part of a UUID. */
  idChars = /^[0-9a-f-]+$/;

  matches(row, q, hit, name, session, error) {
    if (hit[name] || (session >= 0 && hit[session])) return true;
    if ((error ? "error" : "ok").includes(q)) return true;
    const odd = this.ids.oddIds.size ? this.ids.oddIds.get(row) : undefined;
    if (odd !== undefined) return odd.toLowerCase().includes(q);
    return this.idChars.test(q) && this.ids.id(row).includes(q);
  }
}

/**
 * Reads the lines of `fh` (a FileHandle) from `from` to `to` into `onLine`, in 128 KiB chunks,
 * waiting for the event loop between chunks (requests are answered meanwhile), until
 * `stopped()` says so.
 * @returns {Promise<number>} the offset just past the last whole line read
 */
export async function readLines(fh, from, to, stopped, onLine) {
  const buf = Buffer.allocUnsafe(CHUNK);
  let lastEnd = from;
  const lines = scanChunks((text, off, len) => {
    onLine(text, off, len);
    lastEnd = off + len + 1;
  }, { base: from });
  for (let pos = from; pos < to && !stopped(); ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, to - pos), pos);
    if (bytesRead === 0) break;
    lines.push(buf.subarray(0, bytesRead));
    pos += bytesRead;
    await new Promise((r) => setImmediate(r));
  }
  // The unended last line is not read here: it is read once its newline is written.
  return lastEnd;
}
