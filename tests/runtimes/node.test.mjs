// The scenario suite in Node from the installed tarball: ESM (`import`), CJS (`require`,
// through require(esm) where Node has it, and through the CommonJS build where it does not),
// and the same on Node 24 from the npm package `node`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkReport } from "./check.mjs";
import { REPORT_MARK, SCENARIOS_URL, esmRunner, ownApp, runReport, tempDir, unexpectedWarnings, writeRunner } from "./harness.mjs";
import { ensureNode24 } from "./node24.mjs";

const app = await ownApp("node");

function cjsRunner(runtime, options) {
  return `const api = require("agensight-wasm");
const path = require("node:path");
import(${JSON.stringify(SCENARIOS_URL)})
  .then(({ runScenarios }) => runScenarios(api, ${JSON.stringify({ runtime, ...options })}))
  .then((report) => {
    report.loaded = Object.keys(require.cache).filter((k) => k.includes("agensight-wasm")).map((k) => path.basename(k)).sort();
    console.log(${JSON.stringify(REPORT_MARK)} + JSON.stringify(report));
  }, (e) => { console.error(e); process.exitCode = 1; });
`;
}

async function esm(node, label) {
  const file = writeRunner(app, `${label}.mjs`, esmRunner(label, { dir: tempDir(label) }));
  const { report, stderr } = await runReport(label, node, [file]);
  checkReport(report, { context: "async" });
  assert.deepEqual(unexpectedWarnings(stderr), []);
}

async function cjs(node, label, flags = []) {
  const file = writeRunner(app, `${label}.cjs`, cjsRunner(label, { dir: tempDir(label) }));
  const { report, stderr } = await runReport(label, node, [...flags, file]);
  checkReport(report, { context: "async" });
  assert.deepEqual(unexpectedWarnings(stderr), []);
  return report;
}

const requireEsm = process.features?.require_module === true;

test(`node ${process.version} ESM`, () => esm(process.execPath, "node-esm"));

test(`node ${process.version} CJS: require("agensight-wasm")`, async () => {
  const report = await cjs(process.execPath, "node-cjs");
  // With require(esm) (Node 20.19+, 22.12+) it is the ESM entry itself, one tracer for CJS and
  // ESM code; without it, the CommonJS build.
  // The ESM entry is the one file Node's `import` takes too (module-sync): node.bundle.mjs.
  assert.deepEqual(report.loaded, requireEsm ? ["node.bundle.mjs", "node.cjs"] : ["node-compat.cjs", "node.cjs"]);
});

test(`node ${process.version} CJS without require(esm): the CommonJS build`, async () => {
  // --no-experimental-require-module gives what Node 20.0-20.18 and 22.0-22.11 do by default.
  const flags = requireEsm ? ["--no-experimental-require-module"] : [];
  const report = await cjs(process.execPath, "node-cjs-compat", flags);
  assert.deepEqual(report.loaded, ["node-compat.cjs", "node.cjs"]);
});

test("node 24 (npm package node@24): ESM and CJS", async () => {
  const node24 = ensureNode24();
  await esm(node24, "node24-esm");
  const report = await cjs(node24, "node24-cjs");
  assert.deepEqual(report.loaded, ["node.bundle.mjs", "node.cjs"], "Node 24 requires the ESM entry itself");
});

// Node takes the entry as one file (node.bundle.mjs, `module-sync` in the exports map) where it
// has require(esm); `require` must reach that same module, and `agensight-wasm/modules` must
// extend it, and the glue next to it must be the live wasm instance: two copies of the core
// would be two tracers, and init({ instrumentModules }) on one would not see the other's
// extension.
const oneInstance = `import { createRequire } from "node:module";
import * as esm from "agensight-wasm";
import "agensight-wasm/modules";
const cjs = createRequire(import.meta.url)("agensight-wasm");
class OpenAI { constructor() { this.chat = { completions: { create: async () => ({}) } }; } }
let extended = true;
try {
  cjs.init({ name: "one", storage: "memory", instrumentModules: { openai: OpenAI } });
} catch (e) {
  extended = e.message;
}
const ids = await esm.trace(async () => [esm.currentTraceId(), cjs.currentTraceId()], "t")();
// The wasm-bindgen glue next to the entry is the live instance (tests and benches read its
// stats()): initSync() without a module only answers once the entry has initialized it.
const glue = await import(new URL("./wasm/agensight_wasm.js", import.meta.resolve("agensight-wasm")).href);
let liveGlue;
try {
  liveGlue = glue.initSync().memory instanceof WebAssembly.Memory && typeof JSON.parse(glue.stats()) === "object";
} catch (e) {
  liveGlue = e.message;
}
console.log(${JSON.stringify(REPORT_MARK)} + JSON.stringify({
  resolved: import.meta.resolve("agensight-wasm").split("/").pop(),
  same: esm.init === cjs.init && esm.internal === cjs.internal,
  extended,
  sameTrace: typeof ids[0] === "string" && ids[0] === ids[1],
  liveGlue,
}));
`;

for (const [name, node] of [[`node ${process.version}`, () => process.execPath], ["node 24", ensureNode24]]) {
  test(`${name}: import, require and agensight-wasm/modules reach one module instance (node.bundle.mjs)`, async () => {
    const file = writeRunner(app, `one-instance-${name.split(" ")[1]}.mjs`, oneInstance);
    const { report } = await runReport("one-instance", node(), [file]);
    assert.deepEqual(report, { resolved: requireEsm || name === "node 24" ? "node.bundle.mjs" : "node.mjs", same: true, extended: true, sameTrace: true, liveGlue: true });
  });
}
