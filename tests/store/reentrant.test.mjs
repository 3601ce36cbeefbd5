// The local lines are written from wasm memory (a view the store appends at once) and dropped
// from the core only after the store's write: a traced call made during that write (here, in a
// console.warn hook the store's warning runs) must neither be written twice nor drop lines.
// The installed package, a file store that cannot write (its directory is under a regular
// file), so every span ends up counted as failed exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { importPackage } from "../support/package.mjs";

const SCRATCH = fileURLToPath(new URL("../.scratch/store-reentrant/", import.meta.url));
const { init, trace, span, flush } = await importPackage();

test("a traced call during the store's write (past the drain threshold) is counted once, as every other span", async () => {
  fs.rmSync(SCRATCH, { recursive: true, force: true });
  fs.mkdirSync(SCRATCH, { recursive: true });
  const blocker = path.join(SCRATCH, "not-a-dir");
  fs.writeFileSync(blocker, "");
  init({ name: "reentrant", mode: "local", dir: path.join(blocker, "store") });

  // In the warning: one trace of 3,001 spans, over 1 MiB of lines, so its end asks for a
  // write at once, while the first write is still under way.
  const leaf = span((i) => "y".repeat(200) + i, { name: "leaf" });
  const burst = trace(() => {
    for (let i = 0; i < 3000; i++) leaf(i);
    return "done";
  }, { name: "burst" });
  const warnings = [];
  const realWarn = console.warn;
  console.warn = (...a) => {
    warnings.push(a.map(String).join(" "));
    if (warnings.length === 1) assert.equal(burst(), "done");
  };
  try {
    const job = trace((i) => i + 1, { name: "job" });
    for (let i = 0; i < 10; i++) assert.equal(job(i), i + 1);
    let r = await flush();
    // The burst's lines, left in the core during the first write, go with the next one.
    const more = trace(() => "x", { name: "after" });
    assert.equal(more(), "x");
    r = await flush();
    assert.equal(r.failed, 10 + 3001 + 1, JSON.stringify(r));
    assert.equal(r.dropped, 0, JSON.stringify(r));
    assert.equal(warnings.filter((w) => /local store/.test(w)).length, 1, warnings.join("\n"));
  } finally {
    console.warn = realWarn;
  }
});
