// Floods: 10,000 concurrent async traces with interleaved awaits (every span under its own
// parent, in its own trace, with the ids the code saw at run time), and 1,000,000 spans with
// the exporter down (memory inside the configured bounds, every span accounted for exactly).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importPackage, liveWasmExports } from "./support/helpers.mjs";

const { init, trace, span, flush, readLocal, currentTraceId, currentSpanId } = await importPackage();

const pause = () => new Promise((r) => (Math.random() < 0.5 ? setImmediate(r) : setTimeout(r, Math.random() * 4)));

test("10,000 concurrent traces with interleaved awaits: every span under its own parent", async () => {
  init({ storage: "memory" });
  const N = 10_000;
  // Every span's first argument is its trace's number, the second its place in the tree.
  const leaf = span(async (i, path) => {
    await pause();
    return currentSpanId();
  }, "leaf");
  const mid = span(async (i, path) => {
    await pause();
    const a = await leaf(i, `${path}/a`);
    const [b, c] = await Promise.all([leaf(i, `${path}/b`), leaf(i, `${path}/c`)]);
    return { self: currentSpanId(), a, b, c };
  }, "mid");
  const job = trace(async (i) => {
    await pause();
    const seen = { trace: currentTraceId(), self: currentSpanId() };
    const m = await mid(i, "m");
    assert.equal(currentSpanId(), seen.self, "context restored after the awaits");
    return { ...seen, m };
  }, "job");

  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: N }, (_, i) => job(i)));
  const elapsed = performance.now() - t0;
  assert.equal(currentTraceId(), undefined, "no context leaks out");
  const flushed = await flush();
  assert.equal(flushed.dropped, 0);

  const { traces, skipped } = readLocal();
  assert.equal(skipped, 0);
  assert.equal(traces.length, N);
  const byId = new Map(traces.map((t) => [t.id, t]));
  results.forEach((r, i) => {
    const t = byId.get(r.trace);
    assert.ok(t, `trace ${i} recorded under the id its code saw`);
    assert.equal(t.spans.length, 5);
    const at = new Map(t.spans.map((s) => [s.attributes.input[1] ?? "root", s]));
    for (const s of t.spans) assert.equal(s.attributes.input[0], i, "every span in its own trace");
    const root = at.get("root");
    assert.deepEqual([root.id, root.parent_id], [r.self, null]);
    assert.equal(at.get("m").parent_id, root.id);
    assert.equal(at.get("m").id, r.m.self);
    for (const k of ["a", "b", "c"]) {
      const s = at.get(`m/${k}`);
      assert.equal(s.parent_id, r.m.self, `m/${k} under m`);
      assert.equal(s.id, r.m[k], `m/${k} has the id its code saw`);
    }
  });
  assert.ok(elapsed < 30_000, `${elapsed.toFixed(0)} ms`);
});

// An ended span's handle stays valid through 4096 later span starts (src/tracer.rs
// KEEP_ENDED_SPANS): here 1,000 traces end amid 3,000 span starts in all, in any order.
test("fire-and-forget children started after their root ended, amid a flood, join their trace", async () => {
  init({ storage: "memory" });
  const N = 1_000;
  const late = span(async (i) => {
    await pause();
    return i;
  }, "late");
  const pending = [];
  const job = trace(async (i) => {
    await pause();
    // Runs after this trace has ended, while other traces keep starting spans.
    pending.push(new Promise((r) => setTimeout(() => r(late(i)), 5 + Math.random() * 20)));
    return currentTraceId();
  }, "job");
  const filler = span(async () => pause(), "filler");
  const ids = await Promise.all(Array.from({ length: N }, (_, i) => job(i).then(async (id) => (await filler(), id))));
  await Promise.all(pending);
  await Promise.all(pending.map((p) => p.then(() => {})));
  await flush();
  const { traces } = readLocal();
  const byId = new Map(traces.map((t) => [t.id, t]));
  const lost = [];
  ids.forEach((id, i) => {
    const t = byId.get(id);
    const child = t?.spans.find((s) => s.name === "late");
    if (!child || child.parent_id !== t.spans[0].id || child.attributes.input[0] !== i) lost.push(i);
  });
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${N} late children not under their root`);
});

/** A loopback port nothing listens on. */
async function closedPort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

function dirBytes(dir) {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true })) {
    const s = statSync(join(dir, String(name)));
    if (s.isFile()) total += s.size;
  }
  return total;
}

test("1,000,000 spans with the exporter down: memory inside the bounds, every span accounted for", async (t) => {
  const warnings = [];
  t.mock.method(console, "warn", (...args) => warnings.push(args.map(String).join(" ")));
  const dir = mkdtempSync(join(tmpdir(), "agensight-flood-"));
  const maxBytes = 4 << 20;
  const maxPendingSpans = 20_000;
  init({
    mode: "prod",
    exporter: "otlp",
    endpoint: `http://127.0.0.1:${await closedPort()}/v1/traces`,
    dir,
    queue: { maxBytes, maxPendingSpans, batchDelayMs: 20 },
  });
  const { memory } = await liveWasmExports();
  const leaf = span((i) => i, "leaf");
  const root = trace((n) => {
    for (let i = 0; i < n; i++) leaf(i);
    return n;
  }, "root");
  const SPANS = 1_000_000;
  const PER_TRACE = 100;
  let made = 0;
  let peakWasm = 0;
  let peakOutbox = 0;
  let peakAtHalf = 0;
  // The high-water mark when the flood starts (earlier tests in this process grew it already).
  const atStart = memory.buffer.byteLength;
  while (made < SPANS) {
    // 10,000 spans at a time, then a turn of the event loop: the export loop runs (and fails).
    for (let k = 0; k < 100; k++) made += root(PER_TRACE - 1) + 1;
    await new Promise((r) => setTimeout(r, 1));
    peakWasm = Math.max(peakWasm, memory.buffer.byteLength);
    peakOutbox = Math.max(peakOutbox, dirBytes(dir));
    if (made === SPANS / 2) peakAtHalf = peakWasm;
  }
  const result = await flush({ timeoutMs: 300 });
  assert.equal(made, SPANS);
  assert.equal(result.exported, 0);
  assert.equal(result.exported + result.failed + result.pending + result.dropped, SPANS, `every span accounted for exactly once: ${JSON.stringify(result)}`);
  assert.ok(result.dropped > 0, "the bounds were hit");
  // Waiting: at most maxPendingSpans traced spans, plus the jobs within maxBytes (an OTLP span
  // takes well over 100 bytes).
  assert.ok(result.pending <= maxPendingSpans + maxBytes / 100, `pending ${result.pending} within the bounds`);
  // The wasm memory only grows (its high-water mark, which earlier tests in this process have
  // already raised). The bounds were hit within the first few tens of thousands of spans: over
  // the second half of the run (500,000 more spans) it must not grow beyond allocator slack, and
  // the whole flood adds far less than a million spans would take.
  assert.ok(peakAtHalf > 0);
  assert.ok(peakWasm - peakAtHalf <= 8 << 20, `wasm memory grew from ${peakAtHalf >> 20} MB at 500,000 spans to ${peakWasm >> 20} MB`);
  assert.ok(peakWasm - atStart <= 64 << 20, `the flood grew wasm memory from ${atStart >> 20} MB to ${peakWasm >> 20} MB`);
  assert.ok(peakOutbox <= 2 * maxBytes, `outbox files peaked at ${peakOutbox} bytes`);
  t.diagnostic(`${JSON.stringify(result)}; wasm memory ${(atStart / 2 ** 20).toFixed(1)} MB at the start, ${(peakAtHalf / 2 ** 20).toFixed(1)} MB at half, ${(peakWasm / 2 ** 20).toFixed(1)} MB peak; outbox peak ${(peakOutbox / 2 ** 20).toFixed(1)} MB`);
  assert.equal(warnings.length, 1, `prod mode warns once: ${warnings.join("\n")}`);
  assert.match(warnings[0], /export failing/);
});
