// After a real wasm trap at span end (the instance's memory is corrupted while an async traced
// call is pending): the call still resolves with its value, tracing turns into a no-op with
// exactly one warning, and every wrapped function keeps behaving like the original.
// Its own file: a trapped instance stays trapped for the process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { corruptWasmMemory, importPackage, transparency } from "./support/helpers.mjs";

test("a trap at span end (corrupted wasm memory): one warning, the app goes on", async (t) => {
  const warnings = [];
  t.mock.method(console, "warn", (...args) => warnings.push(args));
  const api = await importPackage();
  const { init, trace, span, flush } = api;
  init({ storage: "memory" });
  let release;
  const gate = new Promise((r) => (release = r));
  const result = { answer: 42 };
  const pending = trace(async () => {
    await gate;
    return span(() => result, "child")();
  }, "pending")();
  await corruptWasmMemory();
  release();
  assert.equal(await pending, result, "the pending call resolves with its own value");
  assert.equal(warnings.length, 1, "one warning");
  assert.match(String(warnings[0][0]), /tracing stopped after an internal error/);
  assert.ok(warnings[0].some((a) => a instanceof WebAssembly.RuntimeError), `the warning carries the trap: ${warnings[0]}`);

  await transparency(api, { runs: 150 });
  const err = new Error("still thrown");
  assert.throws(() => trace(() => {
    throw err;
  }, "throws")(), (e) => e === err);
  assert.doesNotThrow(() => init({ storage: "memory" }));
  assert.doesNotThrow(() => trace(() => 1, { name: "with session", session: "s1" }), "a trace() with a session after the trap");
  assert.deepEqual(await flush(), { exported: 0, failed: 0, pending: 0, dropped: 0 });
  assert.equal(warnings.length, 1, "still one warning");
});
