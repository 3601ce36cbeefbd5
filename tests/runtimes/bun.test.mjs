// The scenario suite in Bun (its real binary, the `bun` npm package), importing and requiring
// the installed tarball by name (the `bun` export condition).
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkReport } from "./check.mjs";
import { REPORT_MARK, SCENARIOS_URL, devBinary, esmRunner, ownApp, runReport, tempDir, unexpectedWarnings, writeRunner } from "./harness.mjs";

const app = await ownApp("bun");

test("bun: the scenario suite (import)", async () => {
  const bun = devBinary("bun");
  const file = writeRunner(app, "bun.mjs", esmRunner("bun", { dir: tempDir("bun") }));
  const { report, stderr } = await runReport("bun", bun, [file], { cwd: app });
  checkReport(report, { context: "async" });
  assert.deepEqual(unexpectedWarnings(stderr), []);
});

test("bun: require() resolves to the Bun entry and runs the suite", async () => {
  const bun = devBinary("bun");
  const file = writeRunner(
    app,
    "bun.cjs",
    `const api = require("agensight-wasm");
import(${JSON.stringify(SCENARIOS_URL)})
  .then(({ runScenarios }) => runScenarios(api, ${JSON.stringify({ runtime: "bun-cjs", dir: tempDir("bun-cjs") })}))
  .then((report) => { report.resolved = require.resolve("agensight-wasm"); console.log(${JSON.stringify(REPORT_MARK)} + JSON.stringify(report)); },
        (e) => { console.error(e); process.exitCode = 1; });
`,
  );
  const { report } = await runReport("bun (require)", bun, [file], { cwd: app });
  assert.match(report.resolved, /\/agensight-wasm\/bun\.mjs$/);
  checkReport(report, { context: "async" });
});
