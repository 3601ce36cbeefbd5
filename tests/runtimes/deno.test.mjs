// The scenario suite in Deno (its real binary, the `deno` npm package), importing the installed
// tarball by name from the scratch project (the `deno` export condition). Deno runs with file
// permissions for the store directory only: loading the .wasm needs none.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkReport } from "./check.mjs";
import { devBinary, esmRunner, ownApp, runReport, tempDir, unexpectedWarnings, writeRunner } from "./harness.mjs";

const app = await ownApp("deno");

test("deno: the scenario suite with only --allow-read/--allow-write on the store directory", async () => {
  const deno = devBinary("deno");
  const dir = tempDir("deno");
  const file = writeRunner(app, "deno.mjs", esmRunner("deno", { dir }));
  const { report, stderr } = await runReport("deno", deno, ["run", "--no-prompt", `--allow-read=${dir}`, `--allow-write=${dir}`, file], { cwd: app });
  checkReport(report, { context: "async" });
  assert.deepEqual(unexpectedWarnings(stderr), []);
});

test("deno: the package resolves to its own entry (deno.mjs)", async () => {
  const deno = devBinary("deno");
  const file = writeRunner(app, "deno-resolve.mjs", 'console.log("@@REPORT " + JSON.stringify({ url: import.meta.resolve("agensight-wasm") }));\n');
  const { report } = await runReport("deno resolve", deno, ["run", "--no-prompt", file], { cwd: app });
  assert.match(report.url, /\/agensight-wasm\/deno\.mjs$/);
});
