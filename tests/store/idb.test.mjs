// js/store-idb.js in headless Chromium (a real IndexedDB): the store's cap deletes the oldest
// records in the write's transaction and counts their spans as dropped, and the one read-back
// (js/readback.js) reads the store in batches. The modules are served from js/ as they are.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../viewer/page.mjs";
import { traceLines } from "./lines.mjs";

const JS = fileURLToPath(new URL("../../js/", import.meta.url));
let server;
let browser;
let url;

before(async () => {
  server = http.createServer((req, res) => {
    const name = path.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
    const full = path.join(JS, name);
    if (name === "" || !full.startsWith(JS) || !fs.existsSync(full)) {
      res.writeHead(200, { "Content-Type": "text/html" });
      return res.end("<!doctype html><title>idb</title>");
    }
    res.writeHead(200, { "Content-Type": "text/javascript" });
    res.end(fs.readFileSync(full));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test("IndexedDB: bounded by record count, the oldest deleted, their spans counted; read back whole", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    const batches = Array.from({ length: 60 }, (_, i) => traceLines(i, { children: 1 }));
    const got = await page.evaluate(async (batches) => {
      const { idbStore } = await import("/store-idb.js");
      const { createReadback } = await import("/readback.js");
      const warnings = [];
      const store = idbStore((...a) => warnings.push(a.join(" ")), { maxRecords: 100 });
      await store.clear();
      for (const b of batches) store.write(b);
      await store.settled();
      const { readLocal, exportLocal } = createReadback(() => store.reader());
      const back = await readLocal();
      const doc = await exportLocal();
      return { counts: store.counts(), warnings, names: back.traces.map((t) => t.name), spans: doc.records.filter((r) => r.type === "span").length, records: doc.records.length };
    }, batches);
    assert.deepEqual(got.warnings, []);
    assert.ok(got.records <= 100, `${got.records} records kept`);
    assert.equal(got.spans + got.counts.dropped, 60 * 2, "every span kept or counted as dropped");
    assert.equal(got.counts.failed, 0);
    assert.ok(got.counts.dropped > 0);
    // The newest traces, oldest first, without a gap.
    const first = Number(got.names[0].slice(6));
    assert.deepEqual(got.names, Array.from({ length: 60 - first }, (_, k) => `trace_${first + k}`));
  } finally {
    await page.close();
  }
});

test("IndexedDB: 25,000 records read back in batches of 10,000, in order", async () => {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    const batches = [];
    for (let b = 0; b < 25; b++) batches.push(Array.from({ length: 500 }, (_, k) => traceLines(b * 500 + k)).join(""));
    const got = await page.evaluate(async (batches) => {
      const { idbStore } = await import("/store-idb.js");
      const { createReadback } = await import("/readback.js");
      const store = idbStore(() => {});
      await store.clear();
      for (const b of batches) store.write(b);
      await store.settled();
      const back = await createReadback(() => store.reader()).readLocal();
      return { n: back.traces.length, ordered: back.traces.every((t, i) => t.name === `trace_${i}`), spans: back.traces.every((t) => t.spans.length === 1), counts: store.counts() };
    }, batches);
    assert.deepEqual(got, { n: 12500, ordered: true, spans: true, counts: { failed: 0, dropped: 0 } });
  } finally {
    await page.close();
  }
});
