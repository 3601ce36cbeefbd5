// The shared core given the wasm as a Promise (what the browser entry does, without top-level
// await): init() is synchronous, spans made before the core is there are kept and recorded
// when it is, in order and with their own timestamps, within a bound (what is beyond is
// counted as dropped by flush()); `ready` resolves then, or with tracing off when loading
// failed. Real wasm bindings from the installed tarball, loaded when the test says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { AsyncLocalStorage } from "node:async_hooks";
import { PACKAGE, installPackage } from "../support/package.mjs";

await installPackage();
const load = (f) => import(pathToFileURL(join(PACKAGE, f)).href);
const { createAgensight } = await load("core.js");
const { createPendingLog } = await load("pending.js");
const { alsContext } = await load("context.js");
const { memoryStore } = await load("store-memory.js");
const { groupRecords, parseLines } = await load("records.js");
const bindings = await load("wasm/agensight_wasm.js");
const wasmBytes = readFileSync(join(PACKAGE, "wasm/agensight_wasm_bg.wasm"));

/** A core whose wasm arrives when `loaded()` is called (or fails with `failed(e)`). */
function loadingCore() {
  let resolve;
  let reject;
  const wasm = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  let memory = null;
  const warnings = [];
  const api = createAgensight({
    wasm,
    pendingLog: createPendingLog, // as the browser entry passes it
    context: alsContext(AsyncLocalStorage),
    openStore: () => (memory = memoryStore()),
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    now: () => performance.timeOrigin + performance.now(),
    defer: (fn) => setTimeout(fn, 0),
    warn: (...a) => warnings.push(a.map(String).join(" ")),
  });
  return {
    api,
    warnings,
    read: () => groupRecords(parseLines(memory.read()).records),
    loaded() {
      bindings.initSync({ module: wasmBytes });
      resolve(bindings);
    },
    failed: (e) => reject(e),
  };
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

test("spans from before the core is ready are recorded once it is: in order, nested, with their own times", async () => {
  const core = loadingCore();
  const { init, trace, span, flush } = core.api;
  init({ storage: "memory", session: "early" }); // synchronous, before the wasm is there
  const child = span(async (x) => {
    await delay(5);
    return x * 2;
  }, "child");
  const main = trace(async (n) => [await child(n), await child(n + 1)], { name: "main", metadata: { early: true } });
  const t0 = Date.now() / 1000;
  assert.deepEqual(await main(1), [2, 4]);
  let open;
  const gate = new Promise((r) => (open = r));
  const crossing = trace(async () => [await child(await gate)], "crossing")(); // runs across the load
  const thrower = trace(() => {
    throw new TypeError("early failure");
  }, "thrower");
  assert.throws(thrower, TypeError);
  await delay(20);
  const loadedAt = Date.now() / 1000;
  core.loaded();
  await core.api.ready;
  open(10);
  assert.deepEqual(await crossing, [20]);
  assert.deepEqual(await flush(), { exported: 0, failed: 0, pending: 0, dropped: 0 });

  const { traces, sessions } = core.read();
  assert.deepEqual(sessions.map((s) => s.id), ["early"]);
  assert.deepEqual(
    traces.map((t) => [t.name, t.spans.map((s) => [s.name, s.depth, s.status, s.attributes.output ?? null])]),
    [
      ["main", [["main", 0, "ok", [2, 4]], ["child", 1, "ok", 2], ["child", 1, "ok", 4]]],
      ["crossing", [["crossing", 0, "ok", [20]], ["child", 1, "ok", 20]]],
      ["thrower", [["thrower", 0, "error", null]]],
    ],
    "the early traces, each its own tree, in the order they started",
  );
  const [first, crossed, failed] = traces;
  assert.ok(crossed.spans[0].started_at < loadedAt && crossed.spans[1].started_at > loadedAt, "the root started before the load, its child after");
  assert.deepEqual(first.metadata, { early: true });
  assert.equal(failed.spans[0].attributes["error.message"], "early failure");
  for (const s of [...first.spans, ...failed.spans]) {
    assert.ok(s.started_at >= t0 - 0.001 && s.ended_at < loadedAt, `${s.name}: its own times (${s.started_at}..${s.ended_at}), before the load at ${loadedAt}`);
  }
  assert.deepEqual(core.warnings, []);
});

test("at most 1,000 operations wait; what is beyond is counted as dropped by flush()", async () => {
  const core = loadingCore();
  const { init, trace, flush } = core.api;
  init({ storage: "memory" });
  const f = trace((i) => i, "early");
  // One definition and 999 traces fill the log; one more is refused.
  for (let i = 0; i < 1000; i++) assert.equal(f(i), i);
  core.loaded();
  await core.api.ready;
  const result = await flush();
  assert.deepEqual(result, { exported: 0, failed: 0, pending: 0, dropped: 1 });
  assert.equal(core.read().traces.length, 999);
  // After the load nothing is bounded by it any more.
  for (let i = 0; i < 1500; i++) f(i);
  await flush();
  assert.equal(core.read().traces.length, 2499);
});

test("flush() before the core is there waits for it", async () => {
  const core = loadingCore();
  core.api.init({ storage: "memory" });
  core.api.trace(() => 1, "waits")();
  const flushed = core.api.flush();
  setTimeout(core.loaded, 30);
  assert.deepEqual(await flushed, { exported: 0, failed: 0, pending: 0, dropped: 0 });
  assert.deepEqual(core.read().traces.map((t) => t.name), ["waits"]);
});

test("a core that fails to load: ready resolves, tracing is off, wrapped functions behave as before, one warning", async () => {
  const core = loadingCore();
  const { init, trace, flush } = core.api;
  init({ storage: "memory" });
  const f = trace((x) => x + 1, "f");
  assert.equal(f(1), 2);
  core.failed(new Error("404 agensight_wasm_bg.wasm"));
  await core.api.ready;
  assert.equal(f(2), 3);
  init({ storage: "memory" });
  assert.deepEqual(await flush(), { exported: 0, failed: 0, pending: 0, dropped: 0 });
  assert.equal(core.warnings.length, 1);
  assert.match(core.warnings[0], /could not be loaded.*404 agensight_wasm_bg\.wasm/);
});

test("options the core rejects at load: tracing off with one warning saying why, never a throw", async () => {
  const core = loadingCore();
  core.api.init({ mode: "prod" }); // no token: rejected once the core can check it
  core.api.trace(() => 1, "f")();
  core.loaded();
  await core.api.ready;
  assert.equal(core.api.trace(() => 2, "g")(), 2);
  assert.equal(core.warnings.length, 1);
  assert.match(core.warnings[0], /init\(\) options were rejected; tracing is off/);
});

test("the wasm given as the loaded module (not a Promise): ready is resolved, nothing waits", async () => {
  bindings.initSync({ module: wasmBytes });
  let memory;
  const api = createAgensight({
    wasm: bindings,
    context: alsContext(AsyncLocalStorage),
    openStore: () => (memory = memoryStore()),
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    now: () => Date.now(),
    defer: (fn) => setTimeout(fn, 0),
  });
  api.init({ storage: "memory" });
  api.trace(() => 1, "sync")();
  await api.ready;
  await api.flush();
  assert.deepEqual(groupRecords(parseLines(memory.read()).records).traces.map((t) => t.name), ["sync"]);
});

test("a wasm still loading without a pending log is an entry's mistake, said at once", () => {
  const make = () => createAgensight({ wasm: new Promise(() => {}), context: alsContext(AsyncLocalStorage), openStore: () => null, randomBytes: (n) => new Uint8Array(n), now: Date.now, defer: setTimeout });
  assert.throws(make, { name: "TypeError", message: "createAgensight: a wasm still loading needs pendingLog" });
});

// Cold start: importing the Node entry and init() with a local store must not load Node's
// fetch (undici: about 20 ms of a cold start) — it is loaded at the first export or when a
// captured value is a Headers/Request/Response. Read from the process's own list of loaded
// internal modules, in a fresh process.
test("import and init() in a fresh Node process do not load undici (fetch)", async () => {
  const { execFileSync } = await import("node:child_process");
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const entry = pathToFileURL(join(PACKAGE, "node.mjs")).href;
  const script = `
    const a = await import(${JSON.stringify(entry)});
    a.init({ name: "cold", dir: ${JSON.stringify(mkdtempSync(join(tmpdir(), "agensight-cold-")))} });
    a.trace((x) => x, { name: "t" })(1);
    const before = process.moduleLoadList.some((m) => m.includes("undici"));
    new Headers({ a: "b" });
    const after = process.moduleLoadList.some((m) => m.includes("undici"));
    console.log(JSON.stringify({ before, after }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  // `after` shows the probe sees undici when it is loaded, so `before` can fail.
  assert.deepEqual(JSON.parse(out.trim().split("\n").pop()), { before: false, after: true });
});
