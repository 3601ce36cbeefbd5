// The span-definition table is bounded (MAX_DEFS in src/tracer/registry.rs): code that makes a
// definition per call (wrappers made per request with a request id in their metadata,
// generated names) holds at most MAX_DEFS of them in the core. Through the packed package:
// 200,000 distinct definitions, every record exact (name, metadata, input, parent), the size
// the core reports within the bound and every eviction counted, and a wrapper whose
// definition was evicted long ago records under its own name and metadata again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { importPackage } from "./support/helpers.mjs";
import { APP } from "../support/package.mjs";

const { init, trace, span, flush, readLocal, clearLocal } = await importPackage();
// The wasm-bindgen glue the package entry initialised (same module URL, same instance): its
// stats() reads the live core's counters.
const { resolve } = await import(join(APP, "resolve.mjs"));
const glue = await import(new URL("./wasm/agensight_wasm.js", resolve("agensight-wasm")).href);
const coreStats = () => JSON.parse(glue.stats());

/** src/tracer/registry.rs */
const MAX_DEFS = 4096;

/** Checks the traces of requests `from..to` exactly: 3 spans each, names and metadata their own. */
async function checkChunk(from, to) {
  const { traces, skipped } = await readLocal();
  assert.equal(skipped, 0);
  assert.equal(traces.length, to - from);
  const seen = new Set();
  for (const t of traces) {
    const byName = new Map(t.spans.map((s) => [s.name, s]));
    const root = t.spans.find((s) => s.parent_id === null);
    const [i] = root.attributes.input;
    assert.ok(i >= from && i < to && !seen.has(i), `request ${i}`);
    seen.add(i);
    assert.equal(t.name, `job-${i}`);
    assert.deepEqual(t.metadata, { request: i });
    assert.equal(t.spans.length, 3);
    assert.equal(root.name, `job-${i}`);
    const step = byName.get(`step-${i % 1000}`);
    assert.deepEqual(step.attributes.metadata, { request: i, part: "step" });
    assert.deepEqual(step.attributes.input, [i]);
    assert.equal(step.parent_id, root.id);
    const hot = byName.get("hot");
    assert.deepEqual(hot.attributes.metadata, { static: true });
    assert.deepEqual([hot.attributes.input, hot.attributes.output], [[i], i + 1]);
    assert.equal(hot.parent_id, step.id);
  }
}

test("200,000 distinct span definitions: the core holds at most MAX_DEFS, every record exact", async () => {
  init({ storage: "memory" });
  await clearLocal();
  const early = span((x) => x * 2, { name: "early", metadata: { kept: "yes" } });
  const hot = span((i) => i + 1, { name: "hot", metadata: { static: true } });
  const outer = trace((f) => f(), "outer");
  assert.equal(outer(() => early(21)), 42);
  await flush();
  const first = (await readLocal()).traces[0].spans.find((s) => s.name === "early");
  assert.deepEqual([first.attributes.metadata, first.attributes.input], [{ kept: "yes" }, [21]]);
  await clearLocal();

  const N = 100_000; // two new definitions each: 200,000
  const CHUNK = 20_000;
  let most = 0;
  for (let from = 0; from < N; from += CHUNK) {
    for (let i = from; i < from + CHUNK; i++) {
      // Wrappers made per call, as a handler that wraps with per-request metadata does.
      const step = span((n) => hot(n), { name: `step-${i % 1000}`, metadata: { request: i, part: "step" } });
      const job = trace((n) => step(n), { name: `job-${i}`, metadata: { request: i } });
      assert.equal(job(i), i + 1);
    }
    most = Math.max(most, coreStats().definitions);
    assert.equal((await flush()).dropped, 0);
    await checkChunk(from, from + CHUNK);
    await clearLocal();
  }

  const stats = coreStats();
  assert.equal(most, MAX_DEFS);
  assert.equal(stats.definitions, MAX_DEFS);
  // At least every definition made past the bound was evicted (a wrapper evicted and used
  // again is made, and may be evicted, again).
  assert.ok(stats.definitionsEvicted >= 2 * N + 2 - MAX_DEFS, `${stats.definitionsEvicted}`);

  // `early` has not run since the first of 200,000 definitions: its id was evicted, and the
  // wrapper defines it again (no span lost, none under another definition's name).
  assert.equal(outer(() => early(5)), 10);
  await flush();
  const { traces } = await readLocal();
  assert.equal(traces.length, 1);
  const e = traces[0].spans.find((s) => s.parent_id !== null);
  assert.deepEqual([e.name, e.attributes.metadata, e.attributes.input, e.attributes.output], ["early", { kept: "yes" }, [5], 10]);
  assert.equal((await flush()).dropped, 0);
});
