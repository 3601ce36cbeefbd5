// What the viewer shows: a store directory (every regular `*.jsonl` in it) or one file (an
// `exportLocal()` JSON export, or store lines), indexed by store-index.js. `refresh()` reads
// only what was appended since the last one; a file that was deleted, replaced or cut shorter
// (clearLocal, the store's cap) makes the index start again from the files as they are.
// Files are opened without following symlinks and without blocking on a FIFO, and only
// regular files are read.

import fs from "node:fs";
import path from "node:path";
import { groupRecords, parseRecord, scanChunks } from "../records.js";
import { parseExport } from "./page/exportfile.js";
import { StoreIndex, readLines } from "./store-index.js";

const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
/** How much of the newest file the first page is read from while the index is being built. */
const PREVIEW_BYTES = 256 * 1024;

/** Opens a regular file (never a symlink, FIFO or directory); null if it is not one. */
async function openRegular(full) {
  let fh;
  try {
    fh = await fs.promises.open(full, READ_FLAGS);
  } catch {
    return null;
  }
  const st = await fh.stat().catch(() => null);
  if (st?.isFile()) return { fh, st };
  await fh.close();
  return null;
}

/** An in-memory file (an export's records as store lines), read like a FileHandle. */
function memoryFile(buf) {
  return {
    size: buf.length,
    async read(into, at, len, pos) {
      const n = buf.copy(into, at, pos, Math.min(buf.length, pos + len));
      return { bytesRead: n };
    },
    close: async () => {},
  };
}

export class StoreSource {
  /** @param {{ dir?: string, file?: string }} where */
  constructor({ dir, file }) {
    this.dir = dir ?? null;
    this.file = file ?? null;
    this.version = 0;
    this.reset();
    this.refreshing = null;
    this.error = null;
    this.exists = true;
    this.warnings = [];
    this.preview = null;
  }

  reset() {
    this.index = new StoreIndex();
    this.files = new Map(); // key (inode) -> { no, name, offset, size, skipped, records, tail }
    this.byNo = [];
    this.indexing = null;
    this.version++;
  }

  /** Stops reading (the viewer is closing): a refresh under way ends at its next chunk. */
  stop() {
    this.stopped = true;
  }

  /** Brings the index up to date, one refresh at a time (callers share the one under way). */
  refresh() {
    return (this.refreshing ??= this.update().finally(() => (this.refreshing = null)));
  }

  async update() {
    const listed = this.file ? await this.listFile() : await this.listDir();
    // Cut shorter (rewritten), or every file gone (clearLocal): start again. Some files gone
    // (the store's cap deleted its oldest): their traces leave the table, the rest stays.
    const now = new Map(listed.map((f) => [f.key, f]));
    let restart = this.files.size > 0 && ![...this.files.keys()].some((k) => now.has(k));
    for (const [key, f] of this.files) if (now.has(key) && now.get(key).size < f.offset) restart = true;
    if (restart) this.reset();
    for (const [key, f] of this.files) {
      if (now.has(key)) continue;
      this.files.delete(key);
      this.index.fileGone(f.no);
      this.version++;
    }
    const total = listed.reduce((n, f) => n + f.size, 0);
    const since = performance.now();
    let done = 0;
    for (const l of listed) {
      let f = this.files.get(l.key);
      if (!f) {
        f = { no: this.byNo.length, name: l.name, offset: 0, size: 0, skipped: 0, records: 0, tail: 0, open: l.open };
        this.files.set(l.key, f);
        this.byNo.push(f);
      }
      f.name = l.name; // renamed (rotated): same file
      f.open = l.open;
      done += f.offset;
      if (l.size === f.size) continue;
      this.indexing = { done, total, since };
      await this.indexFile(f, l.size, (n) => (this.indexing = { done: done + n, total, since }));
      done += l.size - f.offset;
      this.version++;
    }
    if (this.indexing) {
      this.indexing = null;
      this.preview = null;
      this.version++;
    }
  }

  async indexFile(f, size, progress) {
    const handle = await f.open();
    if (!handle) return;
    const from = f.offset;
    const before = this.index.skipped;
    let lines = 0;
    const reader = this.index.reader(f.no);
    try {
      f.offset = await readLines(handle, from, size, () => this.stopped, (text, off, len) => {
        if (text === null || text.trim() !== "") lines++;
        reader.line(text, off, len);
        if (lines % 4096 === 0) progress(off - from);
      });
      reader.end();
      f.tail = await this.tailSkipped(handle, f.offset, size);
    } finally {
      await handle.close();
    }
    const skipped = this.index.skipped - before;
    f.skipped += skipped;
    f.records += lines - skipped;
    f.size = size;
  }

  /** An unended last line (a write under way, or torn by a crash): counted as skipped until
   * its newline comes. */
  async tailSkipped(handle, from, size) {
    if (size <= from) return 0;
    const len = Math.min(size - from, 1 << 20);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await handle.read(buf, 0, len, from);
    return buf.subarray(0, bytesRead).toString("utf8").trim() === "" ? 0 : 1;
  }

  async listDir() {
    let entries;
    try {
      entries = await fs.promises.readdir(this.dir, { withFileTypes: true });
      this.exists = true;
    } catch (e) {
      if (e.code !== "ENOENT" && e.code !== "ENOTDIR") throw e;
      this.exists = false;
      return [];
    }
    const out = [];
    const warnings = [];
    for (const d of entries.filter((d) => d.name.endsWith(".jsonl")).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(this.dir, d.name);
      const st = d.isFile() ? await fs.promises.lstat(full).catch(() => null) : null;
      if (!st?.isFile()) {
        warnings.push(`${d.name} is not a regular file (a directory, FIFO, symlink or device): left out.`);
        continue;
      }
      out.push({ key: `${st.dev}:${st.ino}`, name: d.name, size: st.size, open: async () => (await openRegular(full))?.fh ?? null });
    }
    this.warnings = warnings;
    return out;
  }

  async listFile() {
    const name = path.basename(this.file);
    const opened = await openRegular(this.file);
    if (!opened) {
      this.exists = false;
      this.error = `Cannot read ${this.file}: it no longer exists (or is not a regular file).`;
      return [];
    }
    this.exists = true;
    const { fh, st } = opened;
    const key = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
    if (this.fileKey === key) {
      await fh.close();
      return [this.fileEntry];
    }
    // An export is one JSON document: parsed whole (it was one value in the app that wrote
    // it), then indexed as store lines held in memory. Store lines are indexed in place.
    let entry;
    try {
      const head = Buffer.alloc(64);
      const { bytesRead } = await fh.read(head, 0, 64, 0);
      const firstLine = head.subarray(0, bytesRead).toString("utf8").replace(/^\uFEFF/, "").trimStart();
      if (firstLine.startsWith('{"type":"')) {
        entry = { key: `${st.dev}:${st.ino}`, name, size: st.size, open: async () => (await openRegular(this.file))?.fh ?? null };
        this.warnings = [];
      } else {
        const { records, skipped, warnings } = parseExport(await fh.readFile("utf8"));
        const buf = Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(""));
        entry = { key, name, size: buf.length, open: async () => memoryFile(buf) };
        this.warnings = warnings;
        this.exportSkipped = skipped;
      }
      this.error = null;
    } catch (e) {
      this.error = `${name}: ${e.message}`;
      entry = { key, name, size: 0, open: async () => null };
    } finally {
      await fh.close();
    }
    if (this.fileEntry && this.fileEntry.key !== entry.key) this.files.clear();
    this.fileKey = key;
    this.fileEntry = entry;
    return [entry];
  }

  /** The bytes of the files to index. */
  async totalBytes() {
    const listed = this.file ? await this.listFile() : await this.listDir();
    return listed.reduce((n, f) => n + f.size, 0);
  }

  /** The newest traces from the end of the newest file, for the first page while the index is
   * being built. */
  async readPreview() {
    const listed = this.file ? await this.listFile() : await this.listDir();
    const last = listed.at(-1);
    const handle = last && (await last.open());
    if (!handle) return (this.preview = []);
    try {
      const from = Math.max(0, last.size - PREVIEW_BYTES);
      const records = [];
      const lines = scanChunks((t) => {
        const r = parseRecord(t);
        if (r) records.push(r);
      }, { base: from, skipFirst: from > 0 });
      const buf = Buffer.alloc(last.size - from);
      const { bytesRead } = await handle.read(buf, 0, buf.length, from);
      lines.push(buf.subarray(0, bytesRead));
      this.preview = groupRecords(records).traces.reverse().map(({ id, name, session_id, started_at, duration, total_tokens, status }) => ({ id, name, session_id, started_at, duration, total_tokens: total_tokens ?? 0, status }));
    } finally {
      await handle.close();
    }
    return this.preview;
  }

  /** Every record of trace `id`, grouped as readLocal() groups them, or null. */
  async trace(id) {
    const row = this.index.ids.get(id);
    if (row === undefined || this.index.gone[this.index.runFile.get(row)]) return null;
    const runs = this.index.runsOf(row);
    const records = [];
    const session = this.index.session.get(row);
    if (session >= 0) {
      const s = this.index.sessions.get(session);
      records.push({ type: "session", data: { id: s.id, session_name: s.session_name, user_id: s.user_id, started_at: s.started_at } });
    }
    for (let i = 0; i < runs.length; i += 3) {
      const f = this.byNo[runs[i]];
      const handle = f && (await f.open());
      if (!handle) continue;
      try {
        const buf = Buffer.alloc(runs[i + 2]);
        const { bytesRead } = await handle.read(buf, 0, buf.length, runs[i + 1]);
        const lines = scanChunks((t) => {
          const r = parseRecord(t);
          if (r) records.push(r);
        });
        lines.push(buf.subarray(0, bytesRead));
        lines.end();
      } finally {
        await handle.close();
      }
    }
    const t = groupRecords(records).traces.find((x) => x.id === id);
    if (!t) return null;
    t.total_tokens = this.index.tokens.get(row);
    return t;
  }

  /** What the status endpoint says. */
  status() {
    let skipped = 0;
    const files = [];
    for (const f of this.files.values()) {
      skipped += f.skipped + f.tail;
      files.push({ name: f.name, size: f.size, records: f.records, skipped: f.skipped + f.tail });
    }
    skipped += this.exportSkipped ?? 0;
    return {
      source: this.file ? "file" : "dir",
      dir: this.dir,
      file: this.file,
      exists: this.exists,
      version: this.version,
      traces: this.index.shown,
      sessions: this.index.sessions.size,
      skipped,
      files: files.sort((a, b) => (a.name < b.name ? -1 : 1)),
      warnings: this.warnings,
      error: this.error,
      indexing: this.indexing,
    };
  }
}
