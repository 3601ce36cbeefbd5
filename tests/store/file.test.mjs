// js/store-file.js on real file systems: a full disk (a 1 MiB tmpfs), a read-only one (the same
// remounted read-only), rotation by size and the cap on the total. The mounts are made and
// removed by the test (CI runs as root; without the right to mount the test fails, it never
// skips). The store is tested directly; flush() adding its counts is the core's part.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { countSpansInFile, fileStore, fileReader, rotateBytesFor } from "../../js/store-file.js";
import { createReadback } from "../../js/readback.js";
import { traceLines, spanCount } from "./lines.mjs";

const SCRATCH = fileURLToPath(new URL("../.scratch/store-file/", import.meta.url));
const mounts = [];

function tmpfs(name, size = "1m") {
  const dir = path.join(SCRATCH, name);
  fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
  } catch (e) {
    throw new Error(`this test mounts a tmpfs (run it as root, as CI does): ${e.stderr || e.message}`);
  }
  mounts.push(dir);
  return dir;
}
const remount = (dir, mode) => execFileSync("mount", ["-o", `remount,${mode}`, dir]);

after(() => {
  for (const dir of mounts) execFileSync("umount", [dir]);
});

const enc = (s) => new TextEncoder().encode(s);
const readBack = (dir) => createReadback(() => fileReader(dir)).readLocal();

/** Every line of the store's files parses on its own (no record glued to a torn one). */
function assertWholeLines(dir) {
  for (const n of fs.readdirSync(dir).filter((n) => n.endsWith(".jsonl"))) {
    const text = fs.readFileSync(path.join(dir, n), "utf8");
    assert.ok(text === "" || text.endsWith("\n"), `${n} ends with a newline`);
    for (const line of text.split("\n").slice(0, -1)) assert.doesNotThrow(() => JSON.parse(line), `${n}: ${line.slice(0, 80)}`);
  }
}

test("a full disk: failed spans counted, one warning per episode, the torn part repaired", () => {
  const mnt = tmpfs("full");
  const dir = path.join(mnt, "store");
  const filler = path.join(mnt, "filler");
  fs.writeFileSync(filler, Buffer.alloc(700 * 1024));
  const warnings = [];
  const store = fileStore(dir, { warn: (m) => warnings.push(m), maxBytes: 64 << 20 });
  let sent = 0;
  let i = 0;
  const batch = () => {
    // 3 traces of 5 spans, about 5 KB: not a multiple of a page, so writes get cut short.
    let text = "";
    for (let k = 0; k < 3; k++) text += traceLines(i++, { children: 4, pad: 100 });
    sent += spanCount(text);
    store.write(enc(text));
  };
  while (store.counts().failed === 0) batch();
  for (let k = 0; k < 20; k++) batch(); // still full: no second warning
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /the disk is full \(ENOSPC\)/);
  assert.match(warnings[0], /counted as failed/);
  const full = store.counts().failed;

  // Space comes back: writes resume on a line of their own, and nothing is unaccounted for.
  fs.rmSync(filler);
  for (let k = 0; k < 5; k++) batch();
  assert.equal(store.counts().failed, full);
  assertWholeLines(dir);
  const back = readBack(dir);
  assert.equal(back.skipped, 0);
  const stored = back.traces.reduce((n, t) => n + t.spans.length, 0);
  assert.equal(stored + store.counts().failed, sent, "every span is stored or counted as failed");
  assert.equal(back.traces.at(-1).name, `trace_${i - 1}`);
  assert.deepEqual(store.counts(), { failed: full, dropped: 0 });

  // A second episode: a second warning, independent of the first.
  fs.writeFileSync(filler, Buffer.alloc(0));
  const fd = fs.openSync(filler, "w");
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(64 * 1024));
  } catch (e) {
    assert.equal(e.code, "ENOSPC");
  } finally {
    fs.closeSync(fd);
  }
  batch();
  assert.equal(warnings.length, 2);
  assert.match(warnings[1], /ENOSPC/);
  assert.ok(store.counts().failed > full);
  fs.rmSync(filler);
  batch();
  assertWholeLines(dir);
});

test("a torn last line left by a crash is ended before the next record", () => {
  const dir = path.join(SCRATCH, "torn");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const torn = traceLines(1) + traceLines(2).slice(0, 40);
  fs.writeFileSync(path.join(dir, "traces.jsonl"), torn);
  const store = fileStore(dir, { warn: assert.fail });
  store.write(enc(traceLines(3)));
  assert.equal(fs.readFileSync(path.join(dir, "traces.jsonl"), "utf8"), `${torn}\n${traceLines(3)}`);
  const back = readBack(dir);
  assert.deepEqual(back.traces.map((t) => t.name), ["trace_1", "trace_3"]);
  assert.equal(back.skipped, 1);
});

test("a read-only file system is reported as such, once per episode, and counted", () => {
  const mnt = tmpfs("ro");
  const dir = path.join(mnt, "store");
  const warnings = [];
  const store = fileStore(dir, { warn: (m) => warnings.push(m) });
  store.write(enc(traceLines(1, { children: 1 })));
  remount(mnt, "ro");
  store.write(enc(traceLines(2, { children: 1 })));
  store.write(enc(traceLines(3, { children: 2 })));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /the file system is read-only \(EROFS\)/);
  assert.doesNotMatch(warnings[0], /ENOENT/);
  assert.deepEqual(store.counts(), { failed: 5, dropped: 0 });
  remount(mnt, "rw");
  store.write(enc(traceLines(4)));
  remount(mnt, "ro");
  store.write(enc(traceLines(5)));
  assert.equal(warnings.length, 2, "a new episode warns again");
  assert.deepEqual(store.counts(), { failed: 6, dropped: 0 });
  // A store directory that does not exist yet on a read-only disk: EROFS, not ENOENT.
  const fresh = fileStore(path.join(mnt, "new", "store"), { warn: (m) => warnings.push(m) });
  fresh.write(enc(traceLines(6)));
  assert.match(warnings[2], /read-only \(EROFS\)/);
  remount(mnt, "rw");
  assert.deepEqual(readBack(dir).traces.map((t) => t.name), ["trace_1", "trace_4"]);
});

test("the spans of a file the cap deletes are counted in its bytes, whatever the read size cuts", () => {
  // Lines that start like a span record, lines holding one in the middle, short lines, lines
  // shorter than the prefix, a prefix split by every read size, with and without a last newline.
  const dir = path.join(SCRATCH, "count");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const span = '{"type":"span","data":{"id":"x"}}';
  let seed = 3;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const pick = () => [span, '{"type":"trace","data":{}}', "y".repeat(rand(40)) + span, "", "{", '{"type":"spa', span + span, "é".repeat(rand(5))][rand(8)];
  for (let file = 0; file < 30; file++) {
    const lines = Array.from({ length: 1 + rand(12) }, pick);
    const text = lines.join("\n") + (rand(2) ? "\n" : "");
    const expected = text.split("\n").filter((l) => l.startsWith('{"type":"span"')).length;
    const f = path.join(dir, `f${file}.jsonl`);
    fs.writeFileSync(f, text);
    for (const chunk of [1, 2, 3, 5, 13, 14, 15, 16, 40, 1 << 20]) assert.equal(countSpansInFile(f, chunk), expected, `${JSON.stringify(text)}, reads of ${chunk}`);
  }
  // A span record's start inside a line, exactly where a read begins: not a record.
  for (const chunk of [14, 15, 16, 40]) {
    const f = path.join(dir, `mid${chunk}.jsonl`);
    fs.writeFileSync(f, "y".repeat(chunk) + span + "\n" + span + "\n");
    assert.equal(countSpansInFile(f, chunk), 1, `reads of ${chunk}`);
  }
  assert.equal(countSpansInFile(path.join(dir, "missing.jsonl")), 0);
});

test("files rotate by size, the oldest go past the cap (their spans counted as dropped), the reader reads them in order", () => {
  const dir = path.join(SCRATCH, "rotate");
  fs.rmSync(dir, { recursive: true, force: true });
  const maxBytes = 1 << 20;
  assert.equal(rotateBytesFor(maxBytes), 128 * 1024);
  const store = fileStore(dir, { maxBytes, warn: assert.fail });
  let sent = 0;
  const N = 4000; // about 3 MiB of lines
  for (let i = 0; i < N; i += 4) {
    let text = "";
    for (let k = i; k < i + 4; k++) text += traceLines(k, { children: 1 });
    sent += spanCount(text);
    store.write(enc(text));
  }
  const files = fs.readdirSync(dir).filter((n) => n.endsWith(".jsonl")).sort();
  assert.ok(files.length > 3, files.join());
  assert.equal(files.at(-1), "traces.jsonl");
  for (const n of files.slice(0, -1)) assert.match(n, /^traces-\d{15}-\d+\.jsonl$/);
  const total = files.reduce((s, n) => s + fs.statSync(path.join(dir, n)).size, 0);
  assert.ok(total <= maxBytes, `${total} bytes on disk, cap ${maxBytes}`);
  const back = readBack(dir);
  assert.equal(back.skipped, 0);
  const names = back.traces.map((t) => Number(t.name.slice(6)));
  // The newest traces, in the order written, with no gap.
  const first = names[0];
  assert.deepEqual(names, Array.from({ length: N - first }, (_, k) => first + k));
  const kept = back.traces.reduce((n, t) => n + t.spans.length, 0);
  assert.equal(store.counts().failed, 0);
  assert.equal(kept + store.counts().dropped, sent, "every span is kept or counted as dropped");
  assert.ok(store.counts().dropped > 0);
});
