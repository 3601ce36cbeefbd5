// js/readback.js over the file reader (js/store-file.js) and the memory store: the one
// read-back every entry uses. At scale (past the engine's argument and string limits), within
// a byte limit, and over regular files only (a FIFO must not hang it, a directory must not
// throw, a symlink is not followed).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { fileReader } from "../../js/store-file.js";
import { memoryStore } from "../../js/store-memory.js";
import { createReadback, DEFAULT_READ_BYTES } from "../../js/readback.js";
import { parseExport } from "../../js/viewer/page/exportfile.js";
import { spanCount, traceLines } from "./lines.mjs";

const SCRATCH = fileURLToPath(new URL("../.scratch/readback/", import.meta.url));
const fresh = (name) => {
  const dir = path.join(SCRATCH, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};
const over = (dir) => createReadback(({ dir: d }) => fileReader(d ?? dir));

test("130,000 records read back (one spread of them overflowed the call stack)", async () => {
  const dir = fresh("many");
  const chunks = [];
  for (let i = 0; i < 65000; i++) chunks.push(traceLines(i));
  fs.writeFileSync(path.join(dir, "traces.jsonl"), chunks.join(""));
  const { readLocal, exportLocal } = over(dir);
  const back = readLocal();
  assert.equal(back.traces.length, 65000);
  assert.equal(back.skipped, 0);
  assert.equal(back.omittedBytes, 0);
  assert.equal(back.traces[64999].spans[0].name, "trace_64999");
  const doc = await exportLocal();
  assert.equal(doc.records.length, 130000);
  assert.deepEqual(Object.keys(doc), ["agensight", "version", "records"]);
});

test("a store past 512 MiB (V8's longest string) reads the newest 256 MiB, and says what it left out", async () => {
  const dir = fresh("huge");
  const file = path.join(dir, "traces.jsonl");
  // 600 MiB of NUL bytes (sparse: no disk used, as a crash can leave them), then records.
  fs.writeFileSync(file, "");
  fs.truncateSync(file, 600 * 1024 * 1024);
  const tail = traceLines(1) + traceLines(2);
  fs.appendFileSync(file, `\n${tail}`);
  const size = fs.statSync(file).size;
  const { readLocal, exportLocal } = over(dir);
  const back = readLocal();
  assert.deepEqual(back.traces.map((t) => t.name), ["trace_1", "trace_2"]);
  assert.equal(back.omittedBytes, size - DEFAULT_READ_BYTES);
  const doc = await exportLocal();
  assert.equal(doc.records.length, 4);
  assert.equal(doc.omittedBytes, size - DEFAULT_READ_BYTES);
  // The viewer says so when it opens such an export.
  const opened = parseExport(JSON.stringify(doc));
  assert.equal(opened.records.length, 4);
  assert.deepEqual(opened.warnings, [`This export holds the newest records of a bigger store: ${size - DEFAULT_READ_BYTES} bytes of older records were left out (exportLocal({ maxBytes }) reads more).`]);
  // Without a limit: the 600 MiB line is skipped unread (counted), no ERR_STRING_TOO_LONG.
  const all = readLocal({ maxBytes: Infinity });
  assert.deepEqual([all.traces.length, all.skipped, all.omittedBytes], [2, 1, 0]);
});

test("maxBytes: the newest whole lines that fit, across files, oldest first", () => {
  const dir = fresh("limit");
  const a = traceLines(1) + traceLines(2);
  const b = traceLines(3) + traceLines(4);
  fs.writeFileSync(path.join(dir, "traces-000000000000001-1.jsonl"), a);
  fs.writeFileSync(path.join(dir, "traces.jsonl"), b);
  const { readLocal } = over(dir);
  assert.deepEqual(readLocal().traces.map((t) => t.name), ["trace_1", "trace_2", "trace_3", "trace_4"]);
  // Everything of b and a little of a's last trace: that trace is cut, so its lines are skipped whole.
  const back = readLocal({ maxBytes: b.length + 10 });
  assert.deepEqual(back.traces.map((t) => t.name), ["trace_3", "trace_4"]);
  assert.equal(back.omittedBytes, a.length - 10);
  assert.equal(back.skipped, 0);
  const trace2 = traceLines(2);
  const two = readLocal({ maxBytes: b.length + trace2.length });
  assert.deepEqual(two.traces.map((t) => t.name), ["trace_2", "trace_3", "trace_4"]);
  assert.equal(two.omittedBytes, a.length - trace2.length);
});

test("regular files only: a FIFO, a directory and a symlink named *.jsonl are left alone", async () => {
  const dir = fresh("odd");
  const outside = fresh("outside");
  fs.writeFileSync(path.join(dir, "traces.jsonl"), traceLines(1));
  execFileSync("mkfifo", [path.join(dir, "fifo.jsonl")]);
  fs.mkdirSync(path.join(dir, "dir.jsonl"));
  fs.writeFileSync(path.join(outside, "secret.jsonl"), traceLines(666, { name: "not_this_store" }));
  fs.symlinkSync(path.join(outside, "secret.jsonl"), path.join(dir, "link.jsonl"));
  const { readLocal, exportLocal, clearLocal } = over(dir);
  // A FIFO read would block this thread for good: the test's own timeout is the check.
  assert.deepEqual(readLocal().traces.map((t) => t.name), ["trace_1"]);
  assert.equal((await exportLocal()).records.length, 2);
  await clearLocal();
  assert.deepEqual(fs.readdirSync(dir).sort(), ["dir.jsonl", "fifo.jsonl", "link.jsonl"]);
  assert.equal(fs.readFileSync(path.join(outside, "secret.jsonl"), "utf8"), traceLines(666, { name: "not_this_store" }));
  assert.deepEqual(readLocal().traces, []);
});

test("a store directory that does not exist reads as empty", () => {
  const back = over(path.join(SCRATCH, "none")).readLocal();
  assert.deepEqual(back, { sessions: [], traces: [], skipped: 0, omittedBytes: 0 });
});

test("the memory store: read back through the same read-back, bounded, drops counted in spans", async () => {
  const m = memoryStore({ maxBytes: 4000 });
  const enc = (s) => new TextEncoder().encode(s);
  for (let i = 0; i < 20; i++) m.write(enc(traceLines(i, { children: 1 })));
  const { readLocal, exportLocal, clearLocal } = createReadback(() => m.reader());
  const back = readLocal();
  const kept = back.traces.map((t) => t.name);
  assert.equal(kept.at(-1), "trace_19");
  // Whole lines go, so a trace's record may go before its spans: count the span lines kept.
  const keptSpans = spanCount(m.read());
  assert.equal(keptSpans + m.counts().dropped, 40, "every span kept or counted as dropped");
  assert.equal(m.counts().failed, 0);
  const small = readLocal({ maxBytes: traceLines(19, { children: 1 }).length });
  assert.deepEqual(small.traces.map((t) => t.name), ["trace_19"]);
  assert.ok(small.omittedBytes > 0);
  assert.equal((await exportLocal()).records.length, m.read().trimEnd().split("\n").length);
  await clearLocal();
  assert.deepEqual(readLocal().traces, []);
});
