// js/store-idb.js where there is no IndexedDB (Node): nothing claims to be available, and every
// operation rejects with an AgensightError that says what failed, never throws. The real
// IndexedDB (schema, upgrade from version 1, records and outbox across reloads, in a page and a
// worker) is tested in Chromium: tests/runtimes/browser.test.mjs, browser-export.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AgensightError } from "../../js/core.js";
import { DB_NAME, DB_VERSION, idbAvailable, idbOutbox, idbStore } from "../../js/store-idb.js";
import { createReadback } from "../../js/readback.js";

test("the schema earlier releases wrote: database agensight, version 2", () => {
  assert.deepEqual([DB_NAME, DB_VERSION], ["agensight", 2]);
});

test("no indexedDB on the global object (or a getter that throws): not available", () => {
  assert.equal(idbAvailable(), false);
  Object.defineProperty(globalThis, "indexedDB", { configurable: true, get: () => { throw new Error("SecurityError"); } });
  try {
    assert.equal(idbAvailable(), false);
  } finally {
    delete globalThis.indexedDB;
  }
});

test("operations reject with a clear AgensightError (code indexeddb); a failed write warns once", async () => {
  const outbox = idbOutbox();
  for (const op of [() => outbox.list(), () => outbox.put(1, "{}"), () => outbox.delete(1)]) {
    const e = await op().then(() => assert.fail("resolved"), (e) => e);
    assert.ok(e instanceof AgensightError);
    assert.equal(e.code, "indexeddb");
    assert.equal(e.message, "IndexedDB open failed: IndexedDB is not available in this runtime");
  }
  const warnings = [];
  const store = idbStore((...a) => warnings.push(a));
  store.write('{"type":"trace","data":{}}\n{"type":"span","data":{}}\n');
  store.write('{"type":"span","data":{}}\n{"type":"span","data":{}}\n');
  await store.settled();
  assert.equal(warnings.length, 1);
  assert.deepEqual(store.counts(), { failed: 3, dropped: 0 });
  assert.match(warnings[0][0], /could not write traces to IndexedDB/);
  assert.match(warnings[0][1].message, /^IndexedDB open failed/);
  await assert.rejects(createReadback(() => store.reader()).readLocal(), /IndexedDB open failed/);
  await assert.rejects(store.clear(), /IndexedDB open failed/);
});
