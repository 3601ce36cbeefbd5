// After a real wasm trap (out of memory inside the instance): tracing turns into a no-op with
// exactly one warning, every wrapped function keeps behaving exactly like the original (the
// transparency property), and init()/flush()/ids keep working as no-ops.
// Its own file: a trapped instance stays trapped for the process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { exhaustWasmMemory, importPackage, transparency } from "./support/helpers.mjs";

test("a trap at span start (the wasm cannot allocate): one warning, the app goes on", async (t) => {
  const warnings = [];
  t.mock.method(console, "warn", (...args) => warnings.push(args));
  const api = await importPackage();
  const { init, trace, span, flush, readLocal, currentTraceId } = api;
  init({ storage: "memory", maxFieldBytes: 64 * 1024 * 1024 });
  assert.equal(trace((x) => x + 1, "before")(1), 2);
  await flush();
  assert.deepEqual(readLocal().traces.map((t) => t.name), ["before"]);

  const size = await exhaustWasmMemory();
  assert.ok(size >= 1 << 30, `memory grown to ${size} bytes`);
  // Capturing a 32 MB argument needs a 32 MB allocation in the wasm: it fails, Rust aborts.
  const big = "x".repeat(32 << 20);
  const echo = span((s) => s.length, "echo");
  assert.equal(echo(big), big.length, "the call itself is unaffected");
  assert.equal(warnings.length, 1, "one warning");
  assert.match(String(warnings[0][0]), /tracing stopped after an internal error/);
  assert.ok(warnings[0].some((a) => a instanceof WebAssembly.RuntimeError), `the warning carries the trap: ${warnings[0]}`);

  await transparency(api, { runs: 150 });
  assert.doesNotThrow(() => init({ storage: "memory" }), "init() after a trap is a no-op");
  assert.equal(trace(() => currentTraceId(), "after")(), undefined);
  assert.deepEqual(await flush(), { exported: 0, failed: 0, pending: 0, dropped: 0 });
  assert.equal(warnings.length, 1, "still one warning");
});
