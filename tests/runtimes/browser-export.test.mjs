// Export from headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) with the
// installed tarball, against a real OTLP receiver on 127.0.0.1 (tests/export/receivers.mjs,
// which answers CORS preflights: the page is served from another port, another origin):
// - the IndexedDB outbox: traces recorded with the receiver down are sent after a reload, once
//   the receiver is up, before newer ones, and the outbox is empty afterwards (page and worker);
// - leaving the page: pagehide (navigation, close) and visibilitychange send with keepalive,
//   within the 64 KiB budget, the rest stays in the outbox for the next page load;
// - the IndexedDB upgrade from version 1 (records only) keeps the records;
// - a backlog well past the resident bound waits in the IndexedDB outbox, out of wasm memory,
//   and every span arrives once when the receiver is back.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { ownApp } from "./harness.mjs";
import { closedPort, otlpReceiver } from "../export/receivers.mjs";

const APP = await ownApp("browser-export");

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
const ENTRY = "/app/node_modules/agensight-wasm/browser.mjs";

// The steps a test drives, the same in a page and in a dedicated worker: each takes the API
// and one JSON argument and returns JSON.
const STEPS = `
export function init(api, options) {
  const t0 = performance.now();
  const r = api.init(options);
  return { returned: typeof r, ms: performance.now() - t0 };
}

/** init(), then at once (in the same task) record(). */
export function initThenRecord(api, { options, ...what }) {
  const r = init(api, options);
  return { ...r, spanIds: record(api, what) };
}

/** n traces (a root and a child span each, sync), named prefix-i; returns their span ids. */
export function record(api, { prefix, n = 3, payload = 0 }) {
  const spanIds = [];
  const child = api.span(() => {
    spanIds.push(api.currentSpanId());
    return "x".repeat(payload);
  }, "child");
  for (let i = 0; i < n; i++) {
    api.trace(() => {
      spanIds.push(api.currentSpanId());
      child();
      return i;
    }, prefix + "-" + i)();
  }
  return spanIds;
}

export const flush = (api, options) => api.flush(options);

/** The raw IndexedDB outbox (null when the database or the store does not exist). */
export function outbox() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("agensight");
    req.onerror = () => reject(req.error);
    req.onupgradeneeded = () => req.transaction.abort(); // no database: do not create one
    req.onsuccess = () => {
      const db = req.result;
      const stores = [...db.objectStoreNames];
      if (!stores.includes("outbox")) {
        db.close();
        return resolve({ version: db.version, stores, entries: null });
      }
      const store = db.transaction("outbox").objectStore("outbox");
      const keys = store.getAllKeys();
      const values = store.getAll();
      values.onerror = () => reject(values.error);
      values.onsuccess = () => {
        resolve({ version: db.version, stores, entries: keys.result.map((id, i) => ({ id, bytes: values.result[i].length, text: values.result[i] })) });
        db.close();
      };
    };
  }).catch((e) => (e && e.name === "AbortError" ? { version: 0, stores: [], entries: null } : Promise.reject(e)));
}

/** The page is hidden (as when the user switches tabs): visibilitychange with state "hidden". */
export function hide() {
  Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
  document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
  return true;
}

/** A version 1 database as the previous release made it: store "records" with one record. */
export function makeVersion1() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("agensight", 1);
    req.onupgradeneeded = () => req.result.createObjectStore("records", { autoIncrement: true });
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction("records", "readwrite");
      tx.objectStore("records").add({ type: "trace", data: { id: "old-trace", name: "from version 1" } });
      tx.oncomplete = () => {
        db.close();
        resolve(true);
      };
      tx.onerror = () => reject(tx.error);
    };
  });
}

/** The live core's counters: the glue module the entry loaded (same URL, same instance). */
export async function wasmStats() {
  const glue = await import("/app/node_modules/agensight-wasm/wasm/agensight_wasm.js");
  return JSON.parse(glue.stats());
}

export async function readLocal(api) {
  return (await api.readLocal()).traces.map((t) => t.id);
}
`;

const FILES = {
  "/steps.mjs": () => STEPS,
  // A page whose `__call(step, arg)` runs a step here, or (?worker) in a dedicated worker.
  "/export.html": () => `<!doctype html>
<meta charset="utf-8">
<title>agensight export</title>
<script type="importmap">${JSON.stringify({ imports: { "agensight-wasm": ENTRY } })}</script>
<script type="module">
const inWorker = new URLSearchParams(location.search).has("worker");
try {
  if (inWorker) {
    const w = new Worker("/export-worker.mjs", { type: "module" });
    const waiting = new Map();
    let seq = 0;
    await new Promise((resolve, reject) => {
      w.onmessage = (e) => {
        if (e.data.ready) return resolve();
        const [ok, fail] = waiting.get(e.data.id);
        waiting.delete(e.data.id);
        e.data.error ? fail(new Error(e.data.error)) : ok(e.data.value);
      };
      w.onerror = (e) => reject(new Error("worker: " + (e.message || "failed to load")));
    });
    window.__call = (name, arg) => new Promise((ok, fail) => {
      const id = ++seq;
      waiting.set(id, [ok, fail]);
      w.postMessage({ id, name, arg });
    });
  } else {
    const api = await import("agensight-wasm");
    // The steps compare span ids, which exist once the core is loaded (spans from before are
    // recorded too, but their ids are not known until then).
    await api.ready;
    const steps = await import("/steps.mjs");
    window.__call = async (name, arg) => steps[name](api, arg);
  }
  window.__ready = true;
} catch (e) {
  window.__ready = String((e && e.stack) || e);
}
</script>
`,
  "/export-worker.mjs": () => `import * as api from ${JSON.stringify(ENTRY)};
import * as steps from "/steps.mjs";
onmessage = async (e) => {
  const { id, name, arg } = e.data;
  try {
    postMessage({ id, value: await steps[name](api, arg) });
  } catch (err) {
    postMessage({ id, error: String((err && err.stack) || err) });
  }
};
await api.ready;
postMessage({ ready: true });
`,
  "/elsewhere.html": () => "<!doctype html><title>elsewhere</title><p>another page",
};
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

let server;
let origin;
let browser;

before(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    let body;
    if (FILES[path]) body = FILES[path]();
    else if (path.startsWith("/app/")) {
      const file = normalize(join(APP, path.slice(5)));
      if (file.startsWith(APP) && existsSync(file) && statSync(file).isFile()) body = readFileSync(file);
    }
    if (body === undefined) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "cache-control": "no-store" }).end(body);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${server.address().port}`;
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium: ${CHROMIUM} is missing. Run scripts/bootstrap --test (it installs Debian's chromium).`);
  const { chromium } = await import("playwright-core");
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30000 });
  } catch (e) {
    throw new Error(`Chromium: cannot start ${CHROMIUM}: ${e.message}`);
  }
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r()));
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, cond, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A fresh browser context (its own IndexedDB) with a page that logs its console. */
async function open() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const messages = [];
  page.on("console", (m) => messages.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
  return { context, page, messages };
}

/** Loads the driver page (in a worker with `worker`) and waits for it. */
async function load(page, messages, worker) {
  await page.goto(`${origin}/export.html${worker ? "?worker" : ""}`);
  const ready = await until("the page", () => page.evaluate(() => window.__ready));
  if (ready !== true) throw new Error(`${ready}\nconsole:\n${messages.join("\n")}`);
}

const call = (page, name, arg) => page.evaluate(([n, a]) => window.__call(n, a), [name, arg]);

/** The span ids the receiver got, in arrival order. */
const received = (rx) => rx.spans().map((s) => s.spanId);

const exportOptions = (endpoint, queue = {}) => ({ name: "browser-app", mode: "prod", exporter: "otlp", protocol: "http/json", endpoint, queue: { batchDelayMs: 0, ...queue } });

for (const worker of [false, true]) {
  const where = worker ? "dedicated worker" : "page";
  test(`chromium ${where}: traces recorded with the receiver down are sent after a reload, before newer ones; the outbox empties`, async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}/v1/traces`;
    const { context, page, messages } = await open();
    let rx;
    try {
      await load(page, messages, worker);
      await call(page, "init", exportOptions(endpoint));
      const before = await call(page, "record", { prefix: "before" });
      assert.equal(before.length, 6);
      assert.deepEqual(await call(page, "flush", { timeoutMs: 300 }), { exported: 0, failed: 0, pending: 6, dropped: 0 }, "connection refused: pending");
      const saved = await call(page, "outbox");
      assert.deepEqual([saved.version, saved.stores], [2, ["outbox", "records"]]);
      assert.ok(saved.entries.length >= 1, "the jobs are in the IndexedDB outbox");
      for (const id of before) assert.ok(saved.entries.some((e) => e.text.includes(id)), `span ${id} is in the outbox`);

      // Reload with the receiver still down (pagehide tries, and fails), then bring it up.
      await page.reload();
      await until("the page", () => page.evaluate(() => window.__ready === true));
      const kept = await call(page, "outbox");
      assert.deepEqual(kept.entries.map((e) => e.id).sort(), saved.entries.map((e) => e.id).sort(), "the outbox survived the reload");
      rx = await otlpReceiver({ port, cors: true });

      // init() stays synchronous; a trace made right after it, in the same turn, is sent
      // after the restored ones (concurrency 1: one request at a time, in queue order).
      const { returned, spanIds: after } = await call(page, "initThenRecord", { options: exportOptions(endpoint, { concurrency: 1 }), prefix: "after", n: 1 });
      assert.equal(returned, "undefined");
      await until("every span", () => rx.spans().length >= 8);
      await sleep(200); // nothing more comes
      const got = received(rx);
      assert.deepEqual(got.slice(0, 6).sort(), [...before].sort(), "the spans from before the reload, exactly");
      assert.deepEqual(got.slice(6).sort(), [...after].sort(), "then the new trace");
      assert.equal(new Set(got).size, got.length, "each span once");
      assert.deepEqual(rx.spans().slice(0, 6).map((s) => s.name).sort(), ["before-0", "before-1", "before-2", "child", "child", "child"]);
      assert.deepEqual(await call(page, "flush"), { exported: 8, failed: 0, pending: 0, dropped: 0 });
      await until("an empty outbox", async () => (await call(page, "outbox")).entries.length === 0);
      assert.deepEqual(messages.filter((m) => /pageerror|agensight:.*(outbox|internal)/i.test(m)), []);
    } finally {
      await context.close();
      await rx?.close();
    }
  });
}

test("chromium page: a backlog well past the resident bound waits in the IndexedDB outbox, out of wasm memory; every span arrives once when the receiver is back", async () => {
  const state = { down: true };
  const rx = await otlpReceiver({ cors: true, fault: () => (state.down ? { status: 503, body: "down" } : null) });
  const { context, page, messages } = await open();
  try {
    await load(page, messages, false);
    await call(page, "init", exportOptions(rx.url));
    // 150 traces with a 20 KB output each: about 3 MB, 6 times the 512 KiB resident bound.
    const ids = [];
    let most = 0;
    for (let b = 0; b < 15; b++) {
      ids.push(...(await call(page, "record", { prefix: `spill${b}`, n: 10, payload: 20000 })));
      await sleep(100); // the outbox writes commit; the bodies written leave memory
      most = Math.max(most, (await call(page, "wasmStats")).resident);
    }
    const during = await call(page, "wasmStats");
    assert.ok(most <= 512 * 1024, `resident export bytes ${most}`);
    assert.ok(during.spilled > 0, `jobs only in the outbox: ${during.spilled}`);
    assert.equal(during.pending, 300);
    assert.ok((await call(page, "outbox")).entries.length >= during.spilled);
    assert.equal(rx.spans().length, 0);

    state.down = false;
    assert.deepEqual(await call(page, "flush", { timeoutMs: 30000 }), { exported: 300, failed: 0, pending: 0, dropped: 0 });
    const got = received(rx);
    assert.equal(got.length, 300, "each span once");
    assert.deepEqual([...got].sort(), [...ids].sort());
    await until("an empty outbox", async () => (await call(page, "outbox")).entries.length === 0);
    assert.deepEqual(messages.filter((m) => /pageerror|agensight:.*(outbox|internal|read back)/i.test(m)), []);
  } finally {
    await context.close();
    await rx.close();
  }
});

test("chromium page left without flush(): pagehide sends with keepalive (navigation and close)", async () => {
  const rx = await otlpReceiver({ cors: true });
  try {
    for (const leave of ["navigate", "close"]) {
      const { context, page, messages } = await open();
      try {
        await load(page, messages, false);
        // A long batch delay: nothing goes before the page is left.
        await call(page, "init", exportOptions(rx.url, { batchDelayMs: 60000 }));
        const ids = await call(page, "record", { prefix: leave });
        await sleep(100);
        assert.deepEqual(rx.spans().filter((s) => ids.includes(s.spanId)), [], "nothing sent yet");
        if (leave === "navigate") await page.goto(`${origin}/elsewhere.html`);
        else await page.close({ runBeforeUnload: true });
        await until(`the spans after ${leave}`, () => ids.every((id) => received(rx).includes(id)));
        assert.equal(rx.spans().filter((s) => ids.includes(s.spanId)).length, 6, "each once");
        assert.deepEqual(messages.filter((m) => /pageerror|agensight:/i.test(m)), []);
      } finally {
        await context.close();
      }
    }
  } finally {
    await rx.close();
  }
});

test("chromium: only what fits the 64 KiB keepalive budget goes at pagehide; the rest is sent at the next page load", async () => {
  const rx = await otlpReceiver({ cors: true });
  const { context, page, messages } = await open();
  try {
    await load(page, messages, false);
    // One trace per request, about 20 KB each: 6 requests are about 120 KB.
    const options = exportOptions(rx.url, { batchDelayMs: 60000, maxBatchSpans: 2 });
    await call(page, "init", options);
    const ids = await call(page, "record", { prefix: "big", n: 6, payload: 20000 });
    // Written to the outbox as the traces end (IndexedDB commits take a few ms).
    await until("6 jobs in the outbox", async () => (await call(page, "outbox")).entries.length === 6);
    assert.equal(rx.calls.length, 0);
    await page.goto(`${origin}/elsewhere.html`);
    await until("the keepalive requests", () => rx.calls.length >= 1);
    await sleep(500); // every keepalive request started at pagehide has arrived
    const first = rx.calls.length;
    const bytes = rx.calls.reduce((n, c) => n + Buffer.byteLength(c.body), 0);
    assert.ok(first >= 2 && first < 6, `some but not all requests went: ${first}`);
    assert.ok(bytes <= 64 * 1024, `keepalive bodies within 64 KiB: ${bytes}`);
    assert.ok(bytes + 20000 > 64 * 1024 - 4096, `the budget was used: ${bytes}`);

    // The next page load sends the rest from the outbox, where every job was written soon
    // after its trace ended. What went with keepalive is normally there too (its answer came
    // after the page was gone) and is sent again, same ids: delivery is at least once.
    await load(page, messages, false);
    const left = await call(page, "outbox");
    assert.ok(left.entries.length >= 6 - first && left.entries.length <= 6, `the jobs not sent are in the outbox: ${left.entries.length}`);
    await call(page, "init", options);
    assert.deepEqual(await call(page, "flush"), { exported: 2 * left.entries.length, failed: 0, pending: 0, dropped: 0 });
    assert.deepEqual([...new Set(received(rx))].sort(), [...ids].sort(), "every span arrived");
    assert.equal((await call(page, "outbox")).entries.length, 0);
  } finally {
    await context.close();
    await rx.close();
  }
});

test("chromium: a hidden page sends with keepalive and, still there, deletes what was accepted", async () => {
  const rx = await otlpReceiver({ cors: true });
  const { context, page, messages } = await open();
  try {
    await load(page, messages, false);
    await call(page, "init", exportOptions(rx.url, { batchDelayMs: 60000 }));
    const ids = await call(page, "record", { prefix: "hidden" });
    await call(page, "hide");
    await until("the spans", () => ids.every((id) => received(rx).includes(id)));
    await until("an empty outbox", async () => (await call(page, "outbox")).entries.length === 0);
    assert.deepEqual(await call(page, "flush"), { exported: 6, failed: 0, pending: 0, dropped: 0 });
    assert.equal(rx.spans().length, 6);
  } finally {
    await context.close();
    await rx.close();
  }
});

test("chromium: a version 1 database (records only) is upgraded to version 2 with its records kept", async () => {
  const { context, page, messages } = await open();
  try {
    await page.goto(`${origin}/elsewhere.html`);
    await page.evaluate(async () => (await import("/steps.mjs")).makeVersion1());
    await load(page, messages, false);
    await call(page, "init", { name: "local-app" });
    await call(page, "record", { prefix: "local", n: 1 });
    await call(page, "flush");
    const traces = await call(page, "readLocal");
    assert.equal(traces.length, 2);
    assert.ok(traces.includes("old-trace"), "the version 1 record is still there");
    const db = await call(page, "outbox");
    assert.deepEqual([db.version, db.stores, db.entries], [2, ["outbox", "records"], []]);
  } finally {
    await context.close();
  }
});
