// The local store for Node, Deno and Bun: JSON lines in `<dir>/traces.jsonl`, appended whole
// so a crash can tear at most the last line (which readers skip). The file rotates by size to
// `traces-<time>-<pid>.jsonl` and the oldest rotated files go when the store passes its cap.
// A write that fails (full or read-only disk) is counted and warned once per episode.
// Uses node:fs, so only the server-runtime entries import this file.

import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { scanChunks } from "./records.js";

export const STORE_FILE = "traces.jsonl";
/** The default cap of a store directory's `*.jsonl` files, when init() gives none. */
export const DEFAULT_MAX_STORE_BYTES = 256 * 1024 * 1024;
/** Rotated files: `traces-<ms since epoch, 15 digits>-<pid>.jsonl`, so name order is time order. */
const ROTATED = /^traces-\d{15}-\d+\.jsonl$/;

/** The size a file rotates at: an eighth of the cap, within [64 KiB, 16 MiB]. */
export const rotateBytesFor = (maxBytes) => Math.max(64 * 1024, Math.min(16 * 1024 * 1024, Math.floor(maxBytes / 8)));

// Reads never follow a symlink and never block on a FIFO (O_NONBLOCK makes its open return at
// once; the fstat after it then says it is not a regular file). Windows has neither flag.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Opens `path` for reading if it is a regular file (not a symlink, FIFO, directory or device).
 * @returns {{fd: number, size: number, ino: number, mtimeMs: number} | null}
 */
export function openRegular(path) {
  let fd;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch {
    return null; // gone, a symlink (ELOOP), a directory on some systems (EISDIR), no permission
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return { fd, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs };
  } catch {}
  closeSync(fd);
  return null;
}

/**
 * The store files of `dir` (`*.jsonl` regular files, by name: oldest first) and the `*.jsonl`
 * entries left out because they are not regular files (directories, FIFOs, symlinks).
 * @returns {{ names: string[], ignored: string[], exists: boolean }}
 */
export function listStoreFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (e.code === "ENOENT" || e.code === "ENOTDIR") return { names: [], ignored: [], exists: false };
    throw e;
  }
  const names = [];
  const ignored = [];
  for (const d of entries) {
    if (!d.name.endsWith(".jsonl")) continue;
    (d.isFile() ? names : ignored).push(d.name);
  }
  return { names: names.sort(), ignored: ignored.sort(), exists: true };
}

/**
 * Reads the lines of one regular file from byte `from`, synchronously, in 1 MiB chunks (never
 * the whole file as one string): `onLine(text, offset, length)` for each whole line.
 * @returns {number} how many bytes were read (0 if it is not a regular file)
 */
export function scanFileSync(path, onLine, { from = 0, skipPartial = false } = {}) {
  const f = openRegular(path);
  if (!f) return 0;
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = from;
    // Starting inside a line (not just after a newline): that line is not read.
    let inside = false;
    if (skipPartial && from > 0) inside = readSync(f.fd, buf, 0, 1, from - 1) === 1 && buf[0] !== 0x0a;
    const lines = scanChunks(onLine, { base: from, skipFirst: inside });
    for (;;) {
      const n = readSync(f.fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      lines.push(buf.subarray(0, n));
      pos += n;
    }
    lines.end();
    return pos - from;
  } finally {
    closeSync(f.fd);
  }
}

/** How many span records a run of store lines holds (what is lost or dropped with it). */
export function countSpans(bytes) {
  const needle = '{"type":"span"';
  let n = 0;
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = b.indexOf(needle); i !== -1; i = b.indexOf(needle, i + needle.length)) if (i === 0 || b[i - 1] === 0x0a) n++;
  return n;
}

const SPAN_NEEDLE = Buffer.from('{"type":"span"');

/**
 * How many span records a store file holds (what deleting it drops): its lines that start like
 * one, counted in the bytes, in 1 MiB chunks (no line decoded: the cap deletes files about as
 * fast as they are written). `chunk`: for tests.
 */
export function countSpansInFile(path, chunk = 1 << 20) {
  const f = openRegular(path);
  if (!f) return 0;
  try {
    const need = SPAN_NEEDLE.length;
    const buf = Buffer.allocUnsafe(chunk + need);
    let n = 0;
    let pos = 0;
    // `kept`: the start of a line too short yet to tell, carried to the front of the next read.
    let kept = 0;
    let lineStart = true; // the byte at buf[0] starts a line
    for (;;) {
      const got = readSync(f.fd, buf, kept, chunk, pos);
      const end = kept + got;
      const data = buf.subarray(0, end);
      for (let i = data.indexOf(SPAN_NEEDLE); i !== -1; i = data.indexOf(SPAN_NEEDLE, i + need)) {
        if (i === 0 ? lineStart : data[i - 1] === 0x0a) n++;
      }
      if (got === 0) break;
      pos += got;
      const nl = data.lastIndexOf(0x0a);
      const tail = nl === -1 ? (lineStart ? end : 0) : end - nl - 1;
      if (tail > 0 && tail < need) {
        buf.copy(buf, 0, end - tail, end);
        kept = tail;
        lineStart = true;
      } else {
        kept = 0;
        lineStart = tail === 0 && end > 0 && data[end - 1] === 0x0a;
      }
    }
    return n;
  } finally {
    closeSync(f.fd);
  }
}

/** mkdir -p that reports the real cause: Node's recursive mkdir says ENOENT where a parent
 * cannot be created (a read-only disk), so the levels are made one by one then. */
function makeDir(dir) {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
    const parts = resolve(dir).split(sep);
    for (let i = 2; i <= parts.length; i++) {
      try {
        mkdirSync(parts.slice(0, i).join(sep) || sep);
      } catch (e2) {
        if (e2.code !== "EEXIST") throw e2;
      }
    }
  }
}

/** Words for a failed write, so a read-only disk reads as such (never as a missing file). */
function why(e) {
  const code = e?.code;
  if (code === "EROFS") return "the file system is read-only (EROFS)";
  if (code === "EACCES" || code === "EPERM") return `permission denied (${code})`;
  if (code === "ENOSPC" || code === "EDQUOT") return `the disk is full (${code})`;
  return e?.message ?? String(e);
}

/**
 * The file store. `write(bytes)` appends one batch of lines and never throws: a batch that
 * cannot be written is counted (`counts().failed`, in spans) and warned about once per episode
 * (a new warning after writes have worked again). Past `rotateBytes` the file is renamed to a
 * rotated name; past `maxBytes` in all, the oldest rotated files are deleted and their spans
 * counted in `counts().dropped`.
 * @param {string} dir
 * @param {{ maxBytes?: number, rotateBytes?: number, warn?: (...args: any[]) => void, pid?: number }} [options]
 */
export function fileStore(dir, { maxBytes = DEFAULT_MAX_STORE_BYTES, rotateBytes = rotateBytesFor(maxBytes), warn = (...a) => console.warn(...a), pid = globalThis.process?.pid ?? 0 } = {}) {
  const path = join(dir, STORE_FILE);
  let checkTail = true; // at the first write, and after a failed one
  let failing = false;
  let failed = 0;
  let dropped = 0;
  let lastRotated = 0;

  /** Ends a torn last line (a crash, or a write cut short by a full disk) with a newline, so
   * only that line is lost and the next record is not glued to it. */
  function endTornLine(fd) {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeSync(fd, "\n");
  }

  function rotate() {
    // A unique name per process and millisecond: two processes rotating at once never
    // overwrite each other's file (the second renames the new, small file, or finds none).
    let t = Math.max(Date.now(), lastRotated + 1);
    lastRotated = t;
    try {
      renameSync(path, join(dir, `traces-${String(t).padStart(15, "0")}-${pid}.jsonl`));
    } catch (e) {
      if (e.code !== "ENOENT") throw e;
    }
    enforceCap();
  }

  /** Deletes the oldest rotated files while the store is over its cap; counts their spans. */
  function enforceCap() {
    const { names } = listStoreFiles(dir);
    const sizes = new Map();
    let total = 0;
    for (const n of names) {
      try {
        const s = lstatSync(join(dir, n)).size;
        sizes.set(n, s);
        total += s;
      } catch {}
    }
    for (const n of names) {
      if (total <= maxBytes) break;
      if (!ROTATED.test(n) || !sizes.has(n)) continue;
      const full = join(dir, n);
      const spans = countSpansInFile(full);
      try {
        rmSync(full);
        dropped += spans;
        total -= sizes.get(n);
      } catch {}
    }
  }

  function append(bytes) {
    if (checkTail) makeDir(dir);
    const fd = openSync(path, "a+");
    let start = -1;
    let done = 0;
    try {
      if (checkTail) {
        // Never read from (or append to) a FIFO or device named like the store.
        if (!fstatSync(fd).isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: "ENOTREG" });
        endTornLine(fd);
      }
      checkTail = false;
      start = fstatSync(fd).size;
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
      return start + done;
    } catch (e) {
      // A write cut short: take its part back if nobody appended since, else end it at the
      // next write. Either way the next record starts on a line of its own.
      checkTail = true;
      if (done > 0) {
        try {
          if (fstatSync(fd).size === start + done) ftruncateSync(fd, start);
        } catch {}
      }
      throw e;
    } finally {
      closeSync(fd);
    }
  }

  return {
    dir,
    kind: "file",
    /** write() takes the lines as UTF-8 bytes. */
    bytes: true,
    /** @param {Uint8Array | string} lines bytes good during the call only (a view into wasm
     * memory): appended as they are, never kept */
    write(lines) {
      const bytes = typeof lines === "string" ? Buffer.from(lines) : lines;
      if (bytes.length === 0) return;
      let size;
      try {
        size = append(bytes);
      } catch (e) {
        failed += countSpans(bytes);
        if (!failing) {
          failing = true;
          warn(`agensight: could not write traces to the local store ${path}: ${why(e)}; they are lost (counted as failed in flush()), your app is unaffected.`);
        }
        return;
      }
      failing = false;
      // The batch is stored; a rotation that fails (the disk just filled up) is tried again at
      // the next write.
      if (size >= rotateBytes) {
        try {
          rotate();
        } catch {}
      }
    },
    /** Spans the store could not write (`failed`) and removed by its cap (`dropped`). */
    counts: () => ({ failed, dropped }),
    /** The store's reader (see readback.js). */
    reader: () => fileReader(dir),
  };
}

/**
 * Reads a store directory for the read-back (readback.js): its regular `*.jsonl` files in name
 * order, line by line; with `maxBytes`, only the newest bytes that fit (whole lines).
 * @param {string} dir
 */
export function fileReader(dir) {
  return {
    scan(sink, { maxBytes = Infinity } = {}) {
      const { names } = listStoreFiles(dir);
      const files = [];
      let total = 0;
      for (const n of names) {
        const f = openRegular(join(dir, n));
        if (!f) continue;
        closeSync(f.fd);
        files.push({ path: join(dir, n), size: f.size });
        total += f.size;
      }
      // Over the limit: skip the oldest bytes (whole files, then the start of one).
      let skip = Math.max(0, total - maxBytes);
      sink.omit(skip);
      for (const f of files) {
        if (skip >= f.size) {
          skip -= f.size;
          continue;
        }
        scanFileSync(f.path, sink.line, { from: skip, skipPartial: skip > 0 });
        skip = 0;
      }
    },
    clear: () => clearStoreDir(dir),
  };
}

/** Outbox entries: `<job id>.<owner pid>.json` (`<job id>.json`: written before owners). */
const OUTBOX_ENTRY = /^(\d+)(?:\.(\d+))?\.json$/;

/** Whether process `pid` runs on this machine (signal 0 checks without sending anything). */
function processAlive(pid) {
  try {
    globalThis.process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user. ESRCH: gone. Anything else (a runtime without
    // kill): taken as gone, as before owners were recorded.
    return e?.code === "EPERM";
  }
}

/**
 * The durable export queue in files: one `<id>.<pid>.json` per job, written (atomically, by
 * rename) before the job's first send and deleted once the receiver accepted it or it was
 * given up. `pid` is the process that owns the job: only it sends the job and counts it, so
 * processes sharing one outbox directory never send a job twice. At start-up (`list`) a
 * process takes over the jobs of owners that no longer run (and those with no owner, or its
 * own pid: an earlier process with the same pid, as in containers), each by one atomic rename,
 * which only one of several processes taking over at once wins. Owners are checked on this
 * machine: a directory shared by several machines is not supported.
 * @param {string} dir
 * @param {{pid?: number, alive?: (pid: number) => boolean}} [options] for tests
 */
export function fileOutbox(dir, { pid = globalThis.process?.pid ?? 0, alive = processAlive } = {}) {
  const mine = (id) => join(dir, `${id}.${pid}.json`);
  /** Takes entry `name` of job `id` for this process; false when another process has it. */
  function claim(name, id, owner) {
    if (owner === pid) return true;
    if (owner !== null && alive(owner)) return false;
    try {
      renameSync(join(dir, name), mine(id));
      return true;
    } catch {
      return false; // another process took it over first
    }
  }
  return {
    list() {
      let names;
      try {
        names = readdirSync(dir);
      } catch {
        return [];
      }
      const jobs = [];
      for (const n of names) {
        const m = OUTBOX_ENTRY.exec(n);
        if (!m) continue;
        const id = Number(m[1]);
        if (!claim(n, id, m[2] === undefined ? null : Number(m[2]))) continue;
        const file = mine(id);
        // Read when asked, one at a time: a large outbox is never all in memory at once.
        jobs.push({
          id,
          get text() {
            try {
              return readFileSync(file, "utf8");
            } catch {
              return null; // unreadable now: left where it is
            }
          },
        });
      }
      return jobs;
    },
    /** Job `id`'s text as this process wrote it (a spilled job read back); null: no file. */
    get(id) {
      try {
        return readFileSync(mine(id), "utf8");
      } catch (e) {
        if (e?.code === "ENOENT") return null;
        throw e;
      }
    },
    put(id, text) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${mine(id)}.tmp`, text);
      renameSync(`${mine(id)}.tmp`, mine(id));
    },
    delete(id) {
      rmSync(mine(id), { force: true });
    },
  };
}

// The memory store moved to store-memory.js (runtime-neutral, for workerd and browsers too).
export { memoryStore } from "./store-memory.js";

/**
 * Deletes the store files (regular `*.jsonl` files) of a store directory; the directory, the
 * export outbox and anything that is not a regular file stay.
 * @param {string} dir
 */
export function clearStoreDir(dir) {
  for (const n of listStoreFiles(dir).names) rmSync(join(dir, n), { force: true });
}
