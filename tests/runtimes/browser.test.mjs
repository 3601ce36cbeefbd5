// The scenario suite in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) from the installed tarball: in a page and in a dedicated (module) web worker,
// each with the `browser` entry the exports map gives. The records are checked in IndexedDB after
// a reload, through the read-back API (without init()) and through the raw IndexedDB API. Then
// what the entry's loading without top-level await promises: a worker's first message is not
// lost, and a span from before the core was ready is recorded once it is.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { checkReport } from "./check.mjs";
import { ROOT, ownApp } from "./harness.mjs";

const APP = await ownApp("browser");

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
const PKG = join(APP, "node_modules/agensight-wasm");

/** Resolves the package's "." export for a set of conditions, in the map's order. */
function resolveExport(conditions) {
  const pick = (target) => {
    if (typeof target === "string") return target;
    for (const [k, v] of Object.entries(target)) if (conditions.includes(k)) return pick(v);
    return undefined;
  };
  return pick(JSON.parse(readFileSync(join(PKG, "package.json"), "utf8")).exports["."]);
}
const BROWSER_ENTRY = `/app/node_modules/agensight-wasm/${resolveExport(["browser", "import", "default"]).replace(/^\.\//, "")}`;

const READ_BACK = `
async function readBack(api) {
  const local = await api.readLocal();
  const exported = await api.exportLocal();
  const raw = await new Promise((resolve, reject) => {
    const req = indexedDB.open("agensight");
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const get = db.transaction("records").objectStore("records").getAll();
      get.onerror = () => reject(get.error);
      get.onsuccess = () => {
        resolve({ version: db.version, stores: [...db.objectStoreNames], records: get.result });
        db.close();
      };
    };
  });
  await api.clearLocal();
  const afterClear = (await api.readLocal()).traces.length;
  return { local, exported, raw, afterClear };
}`;

const page = (body) => `<!doctype html>
<meta charset="utf-8">
<title>agensight runtime suite</title>
<script type="importmap">${JSON.stringify({ imports: { "agensight-wasm": BROWSER_ENTRY } })}</script>
<script type="module">
import * as api from "agensight-wasm";
${READ_BACK}
const phase = sessionStorage.getItem("phase") ?? "run";
try {
  if (phase === "read") window.__result = await readBack(api);
  else { ${body} }
} catch (e) {
  window.__result = { error: String((e && e.stack) || e) };
}
</script>
`;

const FILES = {
  // The suite reads span ids (currentTraceId...), which exist once the core is loaded: it waits
  // for `ready` as the top-level await of earlier entries did. Spans from before: see /early-*.
  "/page.html": () => page(`await api.ready;
    const { runScenarios } = await import("/scenarios.mjs");
    window.__result = { report: await runScenarios(api, { runtime: "chromium-page" }) };`),
  "/worker-page.html": () => page(`const w = new Worker("/worker.mjs", { type: "module" });
    window.__result = await new Promise((resolve) => {
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => resolve({ error: "worker: " + (e.message || "failed to load") });
    });`),
  "/worker.mjs": () => `import * as api from ${JSON.stringify(BROWSER_ENTRY)};
import { runScenarios } from "/scenarios.mjs";
api.ready.then(() => runScenarios(api, { runtime: "chromium-worker" })).then(
  (report) => postMessage({ report, global: typeof window === "undefined" ? "worker" : "window" }),
  (e) => postMessage({ error: String((e && e.stack) || e) }),
);`,
  // Without top-level await in the entry: a worker that registers its handler synchronously
  // gets the message posted right after new Worker(), and spans from before the .wasm arrived
  // are recorded once it has.
  "/early-worker-page.html": () => `<!doctype html><meta charset="utf-8"><script type="module">
    const w = new Worker("/early-worker.mjs", { type: "module" });
    w.postMessage({ n: 21 }); // at once: before the worker has loaded anything
    w.onmessage = (e) => (window.__result = e.data);
    w.onerror = (e) => (window.__result = { error: "worker: " + (e.message || "failed to load") });
    setTimeout(() => (window.__result ??= { error: "no answer from the worker in 10 s" }), 10000);
  </script>`,
  "/early-worker.mjs": () => `import { init, trace, flush, readLocal } from ${JSON.stringify(BROWSER_ENTRY)};
    init({ storage: "memory" });
    const double = trace((n) => n * 2, "double");
    onmessage = async (e) => {
      const value = double(e.data.n);
      const result = await flush();
      postMessage({ value, result, traces: (await readLocal()).traces.map((t) => [t.name, t.spans[0].attributes.input]) });
    };`,
  "/early-page.html": () => `<!doctype html><meta charset="utf-8"><script type="module">
    import { init, trace, flush, readLocal, ready } from ${JSON.stringify(BROWSER_ENTRY)};
    init({ storage: "memory" });
    const t0 = Date.now() / 1000;
    let loaded = false;
    ready.then(() => (loaded = true));
    const early = trace((x) => x + 1, "early");
    const value = early(1);
    const loadedAtCall = loaded;
    await ready;
    const readyAt = Date.now() / 1000;
    const result = await flush();
    const traces = (await readLocal()).traces.map((t) => ({ name: t.name, start: t.started_at, input: t.spans[0].attributes.input }));
    window.__result = { value, loadedAtCall, t0, readyAt, result, traces };
  </script>`,
};
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

let server;
let origin;
let browser;

before(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    let body;
    let type = TYPES[extname(path)] ?? "application/octet-stream";
    if (FILES[path]) body = FILES[path]();
    else if (path === "/scenarios.mjs") body = readFileSync(join(ROOT, "tests/runtimes/scenarios.mjs"));
    else if (path.startsWith("/app/")) {
      const file = normalize(join(APP, path.slice(5)));
      if (file.startsWith(APP) && existsSync(file) && statSync(file).isFile()) body = readFileSync(file);
    }
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
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

/** Waits for the page's __result; fails early (with the console) when the page failed. */
async function result(p, messages) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const r = await p.evaluate(() => window.__result);
    if (r?.error) throw new Error(`${r.error}\nconsole:\n${messages.join("\n")}`);
    if (r !== undefined) return r;
    const failed = messages.filter((m) => /^(error|pageerror):/.test(m));
    if (failed.length || Date.now() > deadline) {
      await new Promise((res) => setTimeout(res, 500)); // a late result wins over a stray error
      const late = await p.evaluate(() => window.__result);
      if (late !== undefined && !late.error) return late;
      throw new Error(`the page did not finish${failed.length ? "" : " in 30 s"}\nconsole:\n${messages.join("\n")}`);
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** A new browser context and page, its console collected in `messages`. */
async function openPage() {
  const context = await browser.newContext();
  const p = await context.newPage();
  const messages = [];
  p.on("console", (m) => messages.push(`${m.type()}: ${m.text()}`));
  p.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
  return { context, p, messages };
}

async function runAndReload(path, runtime) {
  const { context, p, messages } = await openPage();
  try {
    await p.goto(`${origin}${path}`);
    const { report, global } = await result(p, messages);
    if (path.includes("worker")) assert.equal(global, "worker", "the suite ran in the worker's global scope");
    assert.equal(report.runtime, runtime);
    checkReport(report, { context: "sync" });

    // Reload: the records are still in IndexedDB, read back without init().
    await p.evaluate(() => sessionStorage.setItem("phase", "read"));
    await p.reload();
    const after = await result(p, messages);
    assert.deepEqual(after.local.traces.map((t) => t.id), report.local.traces.map((t) => t.id), "the same traces after the reload");
    assert.deepEqual(after.local, report.local, "the same records after the reload");
    assert.deepEqual([after.raw.version, after.raw.stores], [2, ["outbox", "records"]], "schema version 2: the records and the export outbox");
    assert.equal(after.raw.records.length, report.export.count, "IndexedDB holds one value per record");
    for (const r of after.raw.records) assert.ok(typeof r.type === "string" && r.data && typeof r.data === "object", `a {type, data} record: ${JSON.stringify(r).slice(0, 100)}`);
    assert.deepEqual(after.exported, { agensight: "records", version: 1, records: after.raw.records }, "exportLocal() is the store as the viewer opens it");
    const { parseExport } = await import(pathToFileURL(join(APP, "node_modules/agensight-wasm/viewer/page/exportfile.js")).href);
    const opened = parseExport(JSON.stringify(after.exported));
    assert.deepEqual([opened.records.length, opened.skipped, opened.warnings], [after.raw.records.length, 0, []], "the viewer opens the export");
    assert.equal(after.afterClear, 0, "clearLocal() empties the store");
    assert.deepEqual(messages.filter((m) => /agensight|pageerror|instantiateStreaming|error:/i.test(m)), []);
  } finally {
    await context.close();
  }
}

test("chromium page: the scenario suite, records in IndexedDB after a reload", () => runAndReload("/page.html", "chromium-page"));

test("chromium dedicated worker: the scenario suite, records in IndexedDB after a reload", () => runAndReload("/worker-page.html", "chromium-worker"));

test("the browser entry is what the exports map gives browsers and bundles without Node built-ins", async () => {
  assert.equal(BROWSER_ENTRY, "/app/node_modules/agensight-wasm/browser.mjs");
  const r = await build({
    stdin: { contents: 'export * from "agensight-wasm";', resolveDir: APP },
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
    metafile: true,
  });
  const inputs = Object.keys(r.metafile.inputs).map((p) => p.replace(/^.*node_modules\/agensight-wasm\//, ""));
  assert.ok(inputs.includes("browser.mjs"), `inputs: ${inputs}`);
  assert.ok(!inputs.some((p) => /store-file|server|node\.mjs/.test(p)), `no server-only module: ${inputs}`);
  assert.doesNotMatch(r.outputFiles[0].text, /from\s*["']node:|require\(["']node:/);
});

/** The result of a page that needs no reload, with a clean console. */
async function resultOf(path) {
  const { context, p, messages } = await openPage();
  try {
    await p.goto(`${origin}${path}`);
    const r = await result(p, messages);
    assert.deepEqual(messages, [], "no warning or error in the console");
    return r;
  } finally {
    await context.close();
  }
}

test("chromium module worker: a message posted right after new Worker() is handled and traced", async () => {
  const r = await resultOf("/early-worker-page.html");
  assert.deepEqual(r, { value: 42, result: { exported: 0, failed: 0, pending: 0, dropped: 0 }, traces: [["double", [21]]] });
});

test("chromium page: a span from before the core was ready is recorded once it is, with its own time", async () => {
  const r = await resultOf("/early-page.html");
  assert.equal(r.value, 2);
  assert.equal(r.loadedAtCall, false, "the call ran before the .wasm was loaded");
  assert.deepEqual(r.result, { exported: 0, failed: 0, pending: 0, dropped: 0 });
  assert.deepEqual(r.traces.map((t) => [t.name, t.input]), [["early", [1]]]);
  assert.ok(r.traces[0].start >= r.t0 - 0.001 && r.traces[0].start < r.readyAt, `started at its call (${r.traces[0].start}), not at the load (${r.readyAt})`);
});
