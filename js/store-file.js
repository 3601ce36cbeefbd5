// The local store for Node, Deno and Bun: `<dir>/traces.jsonl`, one JSON record a line,
// appended whole so a crash can tear at most the last line (which the reader skips).
// Uses node:fs, so only the server-runtime entries import this file.

import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseLines } from "./records.js";

export const STORE_FILE = "traces.jsonl";

/** Whether the file ends in the middle of a line (a crash tore its last record). */
function endsTorn(path) {
  let fd;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** @param {string} dir */
export function fileStore(dir) {
  const path = join(dir, STORE_FILE);
  let ready = false;
  return {
    dir,
    /** write() takes the lines as UTF-8 bytes. */
    bytes: true,
    /** @param {Uint8Array} lines */
    write(lines) {
      if (!ready) {
        mkdirSync(dir, { recursive: true });
        // End a torn line first, so only it is lost and not our first record with it.
        if (endsTorn(path)) appendFileSync(path, "\n");
        ready = true;
      }
      appendFileSync(path, lines);
    },
  };
}

/**
 * The durable export queue in files: one `<id>.json` per job, written (atomically, by rename)
 * before the job's first send and deleted once the receiver accepted it or it was given up.
 * @param {string} dir
 */
export function fileOutbox(dir) {
  const path = (id) => join(dir, `${id}.json`);
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
        if (!/^\d+\.json$/.test(n)) continue;
        try {
          jobs.push({ id: Number(n.slice(0, -5)), text: readFileSync(join(dir, n), "utf8") });
        } catch {}
      }
      return jobs;
    },
    put(id, text) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${path(id)}.tmp`, text);
      renameSync(`${path(id)}.tmp`, path(id));
    },
    delete(id) {
      rmSync(path(id), { force: true });
    },
  };
}

// The memory store moved to store-memory.js (runtime-neutral, for workerd and browsers too).
export { memoryStore } from "./store-memory.js";

/**
 * The records of every `*.jsonl` file in a store directory, in file-name order, and the
 * count of lines that were not whole records.
 * @param {string} dir
 */
export function readStoreRecords(dir) {
  let names = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".jsonl")).sort();
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  const records = [];
  let skipped = 0;
  for (const n of names) {
    const r = parseLines(readFileSync(join(dir, n), "utf8"));
    records.push(...r.records);
    skipped += r.skipped;
  }
  return { records, skipped };
}

/**
 * Deletes the store files (`*.jsonl`) of a store directory; the directory and the export
 * outbox stay.
 * @param {string} dir
 */
export function clearStoreDir(dir) {
  let names = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".jsonl"));
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  for (const n of names) rmSync(join(dir, n), { force: true });
}
