// Before init(), wrapped functions run exactly as unwrapped ones, with one warning in all.
// (Its own file: node:test runs each file in a fresh process, so init() has not run here.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "../support/package.mjs";

test("wrapped functions before init(): same results and errors, one warning", async (t) => {
  const warnings = [];
  t.mock.method(console, "warn", (...args) => warnings.push(args.join(" ")));
  const { trace, span, flush, currentTraceId } = await importPackage();
  const obj = {};
  const sync = span((x) => x, "sync");
  const err = new Error("boom");
  const throws = trace(() => {
    throw err;
  }, "throws");
  const asyncFn = trace(async (x) => x + 1, "async");
  const self = { k: 5, get: span(function () {
    return this.k;
  }) };
  assert.equal(sync(obj), obj);
  assert.throws(() => throws(), (e) => e === err);
  assert.equal(await asyncFn(1), 2);
  assert.equal(self.get(), 5);
  assert.equal(currentTraceId(), undefined);
  assert.deepEqual(await flush(), { exported: 0, failed: 0, pending: 0, dropped: 0 });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /before init\(\)/);
});
