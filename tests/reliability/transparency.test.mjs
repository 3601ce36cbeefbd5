// Transparency, property-based (fast-check): for generated functions (sync returning or throwing
// any value, async resolving or rejecting, returning native Promises, thenables or Promise
// subclasses, using `this`, calling other wrapped functions) the wrapped function behaves
// exactly like the original, whatever tracing does: on, sampled out, capture off, a tiny
// maxFieldBytes, a redact function that throws. Before init() and after a trap: see
// before-init.test.mjs and trap-*.test.mjs (each needs a fresh process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { APP } from "../support/package.mjs";
import { importPackage, transparency } from "./support/helpers.mjs";

const api = await importPackage();
const { init, flush, readLocal, span } = api;
const RUNS = 150;

const modes = [
  ["tracing on", {}, (traces) => assert.equal(traces.length, RUNS, "one trace per call")],
  ["sampleRate 0 (tracing off)", { sampleRate: 0 }, (traces) => assert.equal(traces.length, 0)],
  ["capture: false", { capture: false }, (traces) => {
    assert.equal(traces.length, RUNS);
    for (const t of traces) for (const s of t.spans) assert.equal(s.attributes.input ?? s.attributes.output, undefined);
  }],
  ["maxFieldBytes: 16", { maxFieldBytes: 16 }, (traces) => assert.equal(traces.length, RUNS)],
  ["a redact function that throws", { redact: () => { throw new Error("redact failed"); } }, (traces) => assert.equal(traces.length, RUNS)],
  ["a redact function that returns undefined", { redact: () => undefined }, (traces) => assert.equal(traces.length, RUNS)],
];

for (const [label, options, check] of modes) {
  test(`transparency with ${label}`, async (t) => {
    const warnings = [];
    t.mock.method(console, "warn", (...args) => warnings.push(args));
    init({ storage: "memory", ...options });
    await transparency(api, { runs: RUNS });
    await flush();
    const { traces, skipped } = readLocal();
    assert.equal(skipped, 0, "every stored line is a whole record");
    check(traces);
    assert.deepEqual(warnings, [], "no warnings");
  });
}

// Unhandled rejections: node:test turns them into test failures, so each case runs in a child
// process with Node's default (crash on an unhandled rejection), as an app would.
function runApp(body) {
  const script = `import { init, span } from "agensight-wasm";
init({ storage: "memory" });
class ApiPromise extends Promise {}
const err = new Error("nobody awaits this");
${body}
setTimeout(() => console.log("still running"), 50);`;
  return spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: APP, encoding: "utf8" });
}

test("an unawaited rejection from a wrapped function stays unhandled, a handled one stays handled", async () => {
  await importPackage(); // installs the package if needed
  const plain = runApp("(async () => { throw err; })();");
  assert.equal(plain.status, 1, "without tracing: the process dies");
  assert.match(plain.stderr, /nobody awaits this/);
  const wrapped = runApp('span(async () => { throw err; }, "fire-and-forget")();');
  assert.equal(wrapped.status, 1, `wrapped: the process dies as well: ${wrapped.stderr}`);
  assert.match(wrapped.stderr, /nobody awaits this/);
  const handled = runApp('span(async () => { throw err; }, "handled")().catch(() => {});');
  assert.equal(handled.status, 0, handled.stderr);
  assert.equal(handled.stdout, "still running\n");
});

test("an unawaited rejected Promise subclass from a wrapped function stays unhandled", { todo: "known: a Promise subclass or thenable result is observed with its own then() (to hand back the same object), which marks it handled" }, async () => {
  const plain = runApp("ApiPromise.reject(err);");
  assert.equal(plain.status, 1, "without tracing: the process dies");
  const wrapped = runApp('span(() => ApiPromise.reject(err), "subclass")();');
  assert.equal(wrapped.status, 1, "wrapped: the process dies as well");
});
