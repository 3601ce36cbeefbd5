// Local records are written by size as well as time: code that never yields to the store's
// timer (a sync loop; a chain of awaits on settled promises, microtasks only) still gets its
// records on disk once the core holds 1 MiB of them (src/core.rs LOCAL_DRAIN_BYTES). Before,
// both wrote 0 bytes until the loop ended, and the sync loop with 60 KB arguments trapped
// the wasm at call 32,762. Sizes and floods are measured in scripts/bench, not here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importPackage } from "./support/helpers.mjs";

const { init, trace, flush, readLocal } = await importPackage();

const BIG = "x".repeat(60_000);
const bytesOnDisk = (dir) => readdirSync(dir).filter((f) => f.endsWith(".jsonl")).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

test("a sync loop that never yields writes its records by size", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-drain-"));
  init({ storage: "file", dir });
  const work = trace((s) => s.length, "work");
  for (let i = 0; i < 100; i++) work(BIG);
  // No await since the loop: only a drain asked for by the core can have written.
  const written = bytesOnDisk(dir);
  assert.ok(written >= 1 << 20, `${written} bytes on disk before any yield`);
  const flushed = await flush();
  assert.equal(flushed.dropped, 0);
  const { traces, skipped } = readLocal({ dir });
  assert.equal(skipped, 0);
  assert.equal(traces.length, 100, "every trace once, drained or not");
});

test("a chain of awaits on settled promises writes its records by size", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-drain-"));
  init({ storage: "file", dir });
  const work = trace(async (s) => s.length, "work");
  for (let i = 0; i < 100; i++) await work(BIG);
  const written = bytesOnDisk(dir);
  assert.ok(written >= 1 << 20, `${written} bytes on disk with only microtasks run`);
  await flush();
  assert.equal(readLocal({ dir }).traces.length, 100);
});
