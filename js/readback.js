// The local read-back (`readLocal`, `exportLocal`, `clearLocal`), written once for every
// runtime over one store-reader interface; each entry only says which reader to use. No
// runtime imports.
//
// A store reader is `{ scan(sink, { maxBytes }), clear() }`; each may return a Promise (IndexedDB)
// or not (files, memory), and the read-back is synchronous exactly when the reader is.
// `scan` hands the sink its lines (`sink.line(text)`, null for a line too long to read) or
// records (`sink.record(r)`), oldest first, and says with `sink.omit(bytes)` how many of the
// oldest bytes it left out to stay within `maxBytes`.

import { groupRecords, isRecord, parseRecord, toExport } from "./records.js";

/**
 * The most bytes of store lines one read-back returns, unless `maxBytes` says otherwise: the
 * default store cap, so a store within its cap is read whole, and the export of what is read
 * stays well under the longest string a JavaScript engine makes (512 MiB in V8), which
 * `JSON.stringify` of it needs.
 */
export const DEFAULT_READ_BYTES = 256 * 1024 * 1024;

function collector() {
  const records = [];
  let skipped = 0;
  let omittedBytes = 0;
  return {
    records,
    line(text) {
      const r = parseRecord(text);
      if (r === null) skipped++;
      else if (r !== undefined) records.push(r);
    },
    record(r) {
      if (isRecord(r)) records.push(r);
      else skipped++;
    },
    omit(bytes) {
      omittedBytes += bytes;
    },
    get skipped() {
      return skipped;
    },
    get omittedBytes() {
      return omittedBytes;
    },
  };
}

const then = (v, f) => (v && typeof v.then === "function" ? v.then(f) : f(v));

/**
 * The read-back API over a store. `readerFor(options)` gives the reader of the store the call
 * means (`options.dir` for a directory, else the current store), or null for none.
 * @param {(options: { dir?: string }) => ({ scan: Function, clear: Function } | null)} readerFor
 */
export function createReadback(readerFor) {
  function scan(options = {}) {
    const sink = collector();
    const reader = readerFor(options);
    const maxBytes = options.maxBytes ?? DEFAULT_READ_BYTES;
    return then(reader?.scan(sink, { maxBytes }), () => sink);
  }

  /**
   * Reads the local store back: `{ sessions, traces, skipped, omittedBytes }`. `await flush()`
   * first. At most `maxBytes` (default 256 MiB) of the newest store lines are read;
   * `omittedBytes` says how many older bytes were left out.
   * @param {{ dir?: string, maxBytes?: number }} [options]
   */
  function readLocal(options) {
    return then(scan(options), (s) => ({ ...groupRecords(s.records), skipped: s.skipped, omittedBytes: s.omittedBytes }));
  }

  /**
   * The local store as one JSON document for the viewer, `{"agensight": "records", "version":
   * 1, "records": [...]}`, within `maxBytes` as readLocal(); when older records were left
   * out, `omittedBytes` says how many bytes of them.
   * @param {{ dir?: string, maxBytes?: number }} [options]
   */
  async function exportLocal(options) {
    const s = await scan(options);
    const doc = toExport(s.records);
    if (s.omittedBytes > 0) doc.omittedBytes = s.omittedBytes;
    return doc;
  }

  /** Deletes the local store's records. */
  async function clearLocal(options = {}) {
    await readerFor(options)?.clear();
  }

  return { readLocal, exportLocal, clearLocal };
}
