// Several processes sharing one outbox directory: each job is sent by the process that owns
// it and counted by it only. Before, a process that created no spans restored the jobs of the
// others that were still running, sent them too and reported them as its own ({exported: 200}
// for 0 spans), and the receiver got 1,200 span ids for 1,000 spans. Real child processes, a
// real OTLP receiver on 127.0.0.1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installPackage } from "../support/package.mjs";
import { otlpReceiver } from "./receivers.mjs";
import { runScript, until } from "./processes.mjs";

const CHILD = fileURLToPath(new URL("./shared-child.mjs", import.meta.url));
await installPackage();

const run = (args) => runScript(CHILD, args);

/** What the child's flush() returned: its last JSON line (stderr's warnings interleave). */
const last = (out) => JSON.parse(out.trim().split("\n").findLast((l) => l.startsWith("{")));

test("processes sharing one outbox: each job sent once, counted by its owner", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-shared-"));
  // Unavailable until the late process has started: every job waits in the outbox meanwhile.
  let open = false;
  const rx = await otlpReceiver({ fault: () => (open ? undefined : { status: 503, headers: { "retry-after": "1" } }) });
  try {
    const writers = Array.from({ length: 5 }, (_, i) => run([rx.url, dir, "200", `w${i}`]));
    await until(() => writers.every((w) => w.output().includes("recorded")));
    await until(() => readdirSync(join(dir, "outbox")).filter((n) => n.endsWith(".json")).length === 50);
    const idle = run([rx.url, dir, "0", "idle"]);
    await until(() => idle.output().includes("recorded"));
    open = true;
    const results = await Promise.all([...writers, idle].map((p) => p.done));
    for (const { code, out } of results) assert.equal(code, 0, out);
    assert.deepEqual(results.slice(0, 5).map((r) => last(r.out)), Array(5).fill({ exported: 200, failed: 0, pending: 0, dropped: 0 }));
    assert.deepEqual(last(results[5].out), { exported: 0, failed: 0, pending: 0, dropped: 0 }, "the idle process sent nothing of the others'");
    const ids = rx.spans().map((s) => s.spanId);
    assert.equal(ids.length, 1000, "every span once");
    assert.equal(new Set(ids).size, 1000);
    assert.deepEqual(readdirSync(join(dir, "outbox")), []);
  } finally {
    await rx.close();
  }
});

test("spilled jobs stay their owner's: a process starting beside them neither sends nor counts them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-shared-spill-"));
  let open = false;
  const rx = await otlpReceiver({ fault: () => (open ? undefined : { status: 503, headers: { "retry-after": "1" } }) });
  try {
    // 150 traces of 20 KB each: about 3 MB per process, past the 512 KiB resident bound.
    const writers = Array.from({ length: 2 }, (_, i) => run([rx.url, dir, "150", `s${i}`, "20000"]));
    await until(() => writers.every((w) => w.output().includes("recorded")));
    for (const w of writers) assert.ok(Number(/recorded (\d+) spilled/.exec(w.output())[1]) > 0, w.output());
    const idle = run([rx.url, dir, "0", "idle"]);
    await until(() => idle.output().includes("recorded"));
    open = true;
    const results = await Promise.all([...writers, idle].map((p) => p.done));
    for (const { code, out } of results) assert.equal(code, 0, out);
    assert.deepEqual(results.slice(0, 2).map((r) => last(r.out)), Array(2).fill({ exported: 150, failed: 0, pending: 0, dropped: 0 }));
    assert.deepEqual(last(results[2].out), { exported: 0, failed: 0, pending: 0, dropped: 0 });
    const ids = rx.spans().map((s) => s.spanId);
    assert.equal(ids.length, 300, "every span once");
    assert.equal(new Set(ids).size, 300);
    assert.deepEqual(readdirSync(join(dir, "outbox")), []);
  } finally {
    await rx.close();
  }
});

test("a large outbox left by a killed process is taken over without bringing it all into memory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-shared-restore-"));
  let open = false;
  const rx = await otlpReceiver({ fault: () => (open ? undefined : { status: 503, headers: { "retry-after": "1" } }) });
  try {
    const first = run([rx.url, dir, "150", "r", "20000"]);
    await until(() => first.output().includes("recorded"));
    // Every job is in the outbox once the count of files has not changed for a second (its
    // flush() sends every batch at once, each written before it goes; answers are immediate).
    let files = -1;
    let since = Date.now();
    await until(() => {
      const n = readdirSync(join(dir, "outbox")).filter((f) => f.endsWith(".json")).length;
      if (n !== files) [files, since] = [n, Date.now()];
      return n > 0 && Date.now() - since > 1000;
    });
    first.child.kill("SIGKILL");
    await first.done;
    const next = run([rx.url, dir, "0", "next"]);
    await until(() => next.output().includes("recorded"));
    const [, spilled, resident] = /recorded (\d+) spilled (\d+) resident/.exec(next.output()).map(Number);
    assert.ok(spilled > 0 && resident <= 512 * 1024, next.output());
    open = true;
    const { code, out } = await next.done;
    assert.equal(code, 0, out);
    assert.deepEqual(last(out), { exported: 150, failed: 0, pending: 0, dropped: 0 });
    const ids = rx.spans().map((s) => s.spanId);
    assert.equal(new Set(ids).size, 150);
    assert.equal(ids.length, 150, "each span once");
    assert.deepEqual(readdirSync(join(dir, "outbox")), []);
  } finally {
    await rx.close();
  }
});

test("the jobs of a killed process are taken over by one of the processes starting after it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-stale-"));
  const hung = await otlpReceiver({ fault: () => "hang" });
  const first = run([hung.url, dir, "3", "left"]);
  await until(() => hung.calls.length > 0);
  first.child.kill("SIGKILL");
  await first.done;
  await hung.close();
  const left = readdirSync(join(dir, "outbox")).filter((n) => n.endsWith(".json"));
  assert.ok(left.length >= 1 && left.every((n) => /^\d+\.\d+\.json$/.test(n)), left.join());
  const rx = await otlpReceiver();
  try {
    // Three processes start at once: each job goes to one of them.
    const results = await Promise.all(Array.from({ length: 3 }, () => run([rx.url, dir, "0", "t"]).done));
    for (const { code, out } of results) assert.equal(code, 0, out);
    assert.equal(results.reduce((n, r) => n + last(r.out).exported, 0), 3);
    assert.deepEqual(rx.spans().map((s) => s.name).sort(), ["left", "left", "left"]);
    assert.deepEqual(readdirSync(join(dir, "outbox")), []);
  } finally {
    await rx.close();
  }
});
