// js/store-idb.js: the local store's writes in flight are bounded. IndexedDB here never
// answers (a stand-in for a database slower than the app, or a flood of code that never
// yields to IndexedDB's callbacks): past MAX_WRITING_CHARS, writes are dropped and their spans
// counted, instead of every batch's text staying in memory. A file of its own: the module's
// open database stays pending for the rest of the process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_WRITING_CHARS, idbStore } from "../../js/store-idb.js";

test("writes in flight past MAX_WRITING_CHARS are dropped and counted", () => {
  globalThis.indexedDB = { open: () => ({}) }; // a request whose events never come
  const store = idbStore(() => {});
  const line = `{"type":"span","data":{"id":"${"a".repeat(16)}","pad":"${"x".repeat(1000)}"}}\n`;
  const chunk = line.repeat(1024); // ~1 MB, 1,024 spans
  const chunks = Math.ceil(MAX_WRITING_CHARS / chunk.length) + 4;
  for (let i = 0; i < chunks; i++) store.write(chunk);
  const kept = Math.floor(MAX_WRITING_CHARS / chunk.length);
  assert.deepEqual(store.counts(), { failed: 0, dropped: (chunks - kept) * 1024 });
  // One write larger than the bound still goes when nothing else is in flight.
  const alone = idbStore(() => {});
  alone.write("y".repeat(MAX_WRITING_CHARS + 1));
  assert.deepEqual(alone.counts(), { failed: 0, dropped: 0 });
});
