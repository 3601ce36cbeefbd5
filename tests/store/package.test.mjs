// The file store through the installed package, on a 1 MiB tmpfs this test mounts: traces
// past the full disk are lost with one warning, the app runs on, and what was stored reads
// back, and flush() reports the spans the store could not write as failed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { importPackage } from "../support/package.mjs";

const MNT = fileURLToPath(new URL("../.scratch/store-package/", import.meta.url));
const { init, trace, span, flush, readLocal } = await importPackage();

fs.mkdirSync(MNT, { recursive: true });
let mounted = false;
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", MNT], { stdio: "pipe" });
  mounted = true;
} catch (e) {
  throw new Error(`this test mounts a tmpfs (run it as root, as CI does): ${e.stderr || e.message}`);
}
after(() => mounted && execFileSync("umount", [MNT]));

const warnings = [];
const realWarn = console.warn;
console.warn = (...a) => warnings.push(a.map(String).join(" "));
after(() => (console.warn = realWarn));

const N = 500;
let stored;
let flushed;

test("a full disk: every trace runs, what fits is stored, one warning (even after another warning)", async () => {
  // An earlier warning of another kind must not silence the store's.
  assert.equal(span(() => 1, { name: "early" })(), 1);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  const dir = path.join(MNT, "store");
  init({ name: "full-disk", mode: "local", dir });
  const step = span(async (x) => x + 1, { name: "step" });
  const job = trace(async (i) => step("x".repeat(3000) + i), { name: "job" });
  for (let i = 0; i < N; i++) {
    assert.equal(await job(i), `${"x".repeat(3000)}${i}1`);
    if (i % 10 === 9) flushed = await flush();
  }
  flushed = await flush();
  const back = readLocal({ dir });
  stored = back.traces.reduce((n, t) => n + t.spans.length, 0);
  assert.ok(back.traces.length > 0 && back.traces.length < N, `${back.traces.length} of ${N} traces stored`);
  assert.equal(back.skipped, 0, "no torn or glued line");
  const full = warnings.filter((w) => /local store/.test(w));
  assert.equal(full.length, 1, warnings.join("\n"));
  assert.match(full[0], /the disk is full \(ENOSPC\)/);
});

test("flush() counts the spans the store could not write", () => {
  assert.equal(stored + flushed.failed, 2 * N, JSON.stringify(flushed));
});
