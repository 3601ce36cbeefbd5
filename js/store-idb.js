// The local store and the export outbox of browsers and web workers: IndexedDB, in plain JS.
//
// One database, `agensight` (version 2), with two object stores:
// - `records`: the local-store records `{type, data}` (docs/records.md) under auto-increment
//   keys, so reading them back in key order gives the order they were written in. A batch (the
//   JSON lines the wasm core wrote, `localLines()`) is added in one readwrite transaction: stored whole
//   or not at all.
// - `outbox`: the durable export queue, out-of-line keys: each value is one job's outbox text
//   (the wasm's `exportPersist()`, a string) under the job id (a number). Put before the job's
//   first send, deleted once the receiver accepted it or it was given up, listed at start.
// Version 1 had `records` only; the upgrade creates the stores that are missing and touches
// none of the others, so its records stay. These names, keys and value shapes are what earlier
// releases (whose store was written from Rust) left in users' browsers: changing any of them
// is a schema migration (a new version, migrated in the upgrade handler).
//
// `indexedDB` is taken from the global object, never `window`, so pages and dedicated, shared
// and service workers alike use it. Each operation is one transaction and resolves once it has
// committed (`complete`); failures reject with an AgensightError (code `indexeddb`) saying what
// failed and why. The adapters at the end give core.js the shapes it expects. No runtime imports.

import { AgensightError } from "./core.js";
import { parseLines } from "./records.js";

export const DB_NAME = "agensight";
export const DB_VERSION = 2;
const RECORDS = "records";
const OUTBOX = "outbox";

/** `indexedDB` of this global object, or undefined (Node, Deno, workerd have none). */
function factory() {
  try {
    const f = globalThis.indexedDB;
    return f && typeof f.open === "function" ? f : undefined;
  } catch {
    return undefined; // a getter that throws (storage blocked): none
  }
}

/** Whether this global object has IndexedDB (pages and workers do). */
export const idbAvailable = () => factory() !== undefined;

/** A readable reason: a DOMException's name and message, an Error's message, else the text. */
function describe(e) {
  try {
    if (e && typeof e === "object" && typeof e.name === "string" && typeof e.message === "string") {
      return e.name && e.name !== "Error" ? `${e.name}: ${e.message}` : e.message;
    }
    return String(e);
  } catch {
    return "unknown error";
  }
}

const failed = (what, e) => new AgensightError(`IndexedDB ${what} failed: ${describe(e)}`, "indexeddb");

/** The open database, as a Promise: opened once and shared by every operation (calls made
 * while it opens wait for the same open). Forgotten when the open fails (a later call tries
 * again: storage may become available) or the connection goes away. */
let opening = null;

function open() {
  return new Promise((resolve, reject) => {
    const f = factory();
    if (!f) throw new Error("IndexedDB is not available in this runtime");
    const req = f.open(DB_NAME, DB_VERSION);
    // A new database, or one of an older version (1: no outbox).
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(RECORDS)) db.createObjectStore(RECORDS, { autoIncrement: true });
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX);
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab or worker upgrading the schema: close, so it is not blocked; the next
      // operation opens again. The browser closing it (storage cleared): open again too.
      db.onversionchange = () => {
        db.close();
        forget(db);
      };
      db.onclose = () => forget(db);
      resolve(db);
    };
    req.onerror = () => reject(req.error);
  });
}

let current = null;
function forget(db) {
  if (current === db) {
    current = null;
    opening = null;
  }
}

async function database() {
  if (!opening) {
    const p = open().then((db) => (current = db));
    opening = p;
    p.catch(() => {
      if (opening === p) opening = null;
    });
  }
  try {
    return await opening;
  } catch (e) {
    throw failed("open", e);
  }
}

/**
 * Runs `work(store)` in one transaction on object store `name` and resolves with what the
 * function returned (the value of the request it returned, for reads) once the transaction
 * has committed; rejects when it aborts or cannot start.
 * @param {string} what for the error message: "write", "read", ...
 */
async function transaction(what, name, mode, work) {
  let db = await database();
  let tx;
  try {
    tx = db.transaction(name, mode);
  } catch (e) {
    // The connection closed under us (InvalidStateError): once more with a fresh one.
    if (e?.name !== "InvalidStateError") throw failed(what, e);
    forget(db);
    db = await database();
    try {
      tx = db.transaction(name, mode);
    } catch (e2) {
      throw failed(what, e2);
    }
  }
  return new Promise((resolve, reject) => {
    let result;
    // A failed request aborts its transaction, so `abort` follows `error`: only `complete`
    // and `abort` settle (the error event bubbles to the transaction, where `error` is set).
    tx.oncomplete = () => resolve(typeof result === "function" ? result() : result);
    tx.onabort = () => reject(failed(what, tx.error ?? new DOMException("the transaction was aborted", "AbortError")));
    try {
      result = work(tx.objectStore(name));
    } catch (e) {
      try {
        tx.abort();
      } catch {}
      reject(failed(what, e));
    }
  });
}

/** The most records the IndexedDB store keeps by default (about 256 MiB at the usual record
 * size); past it the oldest go, their spans counted as dropped. */
export const DEFAULT_MAX_RECORDS = 500000;

/**
 * Adds the records of `text` (JSON lines) in one transaction, then deletes the oldest records
 * while there are more than `maxRecords` (a tenth more than the excess, so this runs rarely);
 * resolves once committed with how many were stored and how many spans were deleted.
 */
export function appendRecords(text, maxRecords = DEFAULT_MAX_RECORDS) {
  // The local lines (decoded by core.js); parseLines leaves out a line that does not
  // parse (it cannot happen short of a bug) rather than failing the batch.
  const { records } = parseLines(String(text));
  return transaction("write", RECORDS, "readwrite", (store) => {
    for (const r of records) store.add(r);
    let droppedSpans = 0;
    const count = store.count();
    count.onsuccess = () => {
      let excess = count.result - maxRecords;
      if (excess <= 0) return;
      excess += Math.ceil(maxRecords / 10);
      const cursor = store.openCursor();
      cursor.onsuccess = () => {
        const c = cursor.result;
        if (!c || excess-- <= 0) return;
        if (c.value?.type === "span") droppedSpans++;
        c.delete();
        c.continue();
      };
    };
    return () => ({ stored: records.length, droppedSpans });
  });
}

/** Up to `count` stored records after key `after` (all from the start when undefined), with
 * their keys: one batch of a read that never holds the whole store in one request. */
export function readRecordBatch(after, count) {
  return transaction("read", RECORDS, "readonly", (store) => {
    const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
    const keys = store.getAllKeys(range, count);
    const values = store.getAll(range, count);
    return () => ({ keys: keys.result, values: values.result });
  });
}

/** Deletes every stored record. */
export function clearRecords() {
  return transaction("clear", RECORDS, "readwrite", (store) => {
    store.clear();
  });
}

/** Stores export job `id`'s outbox text (replacing an earlier copy); resolves once committed,
 * so a send that follows is backed by it. */
export function outboxPut(id, text) {
  return transaction("outbox write", OUTBOX, "readwrite", (store) => {
    store.put(String(text), id);
  });
}

/** Deletes export job `id`'s outbox entry (nothing happens when there is none). */
export function outboxDelete(id) {
  return transaction("outbox delete", OUTBOX, "readwrite", (store) => {
    store.delete(id);
  });
}

/** Export job `id`'s outbox text (a spilled job read back); null when there is none or it
 * is not text. */
export function outboxGet(id) {
  return transaction("outbox read", OUTBOX, "readonly", (store) => {
    const r = store.get(id);
    return () => (typeof r.result === "string" ? r.result : null);
  });
}

/** Every outbox entry as `{id, text}`, in key order. A value that is not text (not written by
 * this code) comes with `text: ""`, which `exportRestore` refuses, so core.js deletes it. */
export function outboxList() {
  return transaction("outbox read", OUTBOX, "readonly", (store) => {
    const keys = store.getAllKeys();
    const values = store.getAll();
    return () => keys.result.map((id, i) => ({ id, text: typeof values.result[i] === "string" ? values.result[i] : "" }));
  });
}

// ---- The adapters core.js and browser.mjs use. ----

/** Characters of local-store text written but not yet committed, at most. Past it (IndexedDB
 * slower than the app, or a flood of code that never yields to IndexedDB's callbacks) writes
 * are dropped, their spans counted in `dropped`: memory stays bounded. */
export const MAX_WRITING_CHARS = 16 * 1024 * 1024;

/**
 * The local store: `write(text)` is synchronous and keeps track of the writes in flight, so
 * flush() and the read-back API can wait for them.
 * @param {(...args: any[]) => void} warn
 */
export function idbStore(warn, { maxRecords = DEFAULT_MAX_RECORDS } = {}) {
  const inFlight = new Set();
  let failing = false;
  let failed = 0;
  let dropped = 0;
  let writing = 0; // characters of the writes in flight

  /** Resolves once every write started so far has committed (or failed). */
  async function settled() {
    while (inFlight.size) await Promise.allSettled([...inFlight]);
  }

  const store = {
    kind: "indexeddb",
    write(text) {
      const size = text.length;
      if (writing > 0 && writing + size > MAX_WRITING_CHARS) {
        dropped += countSpanLines(String(text));
        return;
      }
      writing += size;
      const p = appendRecords(text, maxRecords)
        .then(
          (r) => {
            failing = false;
            dropped += r.droppedSpans;
          },
          (e) => {
            failed += countSpanLines(String(text));
            // Once per episode: again after writes have worked in between.
            if (!failing) {
              failing = true;
              warn("agensight: could not write traces to IndexedDB; they are lost (counted as failed in flush()), your app is unaffected.", e);
            }
          },
        )
        .finally(() => {
          inFlight.delete(p);
          writing -= size;
        });
      inFlight.add(p);
    },
    settled,
    /** Spans the store could not write (`failed`) and deleted by its cap (`dropped`). */
    counts: () => ({ failed, dropped }),
    /** The store's reader (see readback.js): records in key order, read in batches. */
    reader: () => ({
      async scan(sink) {
        await settled();
        for (let after; ; ) {
          const { keys, values } = await readRecordBatch(after, 10000);
          for (const v of values) sink.record(v);
          if (keys.length < 10000) break;
          after = keys[keys.length - 1];
        }
      },
      clear: () => store.clear(),
    }),
    async clear() {
      await settled();
      await clearRecords();
    },
  };
  return store;
}

/** How many span records JSON lines hold. */
function countSpanLines(text) {
  let n = 0;
  for (let i = text.indexOf('{"type":"span"'); i !== -1; i = text.indexOf('{"type":"span"', i + 1)) if (i === 0 || text[i - 1] === "\n") n++;
  return n;
}

/**
 * The durable export queue (object store `outbox`, job id -> job text). Every method returns a
 * Promise; core.js waits for `put` before a job's first send and reads `list` after init().
 */
export function idbOutbox() {
  return {
    kind: "indexeddb",
    /** @returns {Promise<{id: number, text: string}[]>} */
    list: outboxList,
    put: outboxPut,
    delete: outboxDelete,
    get: outboxGet,
  };
}
