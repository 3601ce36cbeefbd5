// The context providers (js/context.js): `call(handle, fn, a..e)`, the closure-free `run` a
// traced call goes through, behaves like `run(handle, () => fn(a, b, c, d, e))` in both
// providers: the handle is active inside (and, with AsyncLocalStorage, after awaits), the
// caller's is back afterwards whatever fn does, and arguments, result and errors pass as they are.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { alsContext, stackContext } from "../../js/context.js";

const providers = [
  ["alsContext", () => alsContext(AsyncLocalStorage)],
  ["stackContext", stackContext],
];

for (const [name, make] of providers) {
  test(`${name}: call() passes its five arguments and the result, with the handle active`, () => {
    const context = make();
    const self = { me: 1 };
    const args = [1, 2];
    const seen = [];
    const result = context.call(7, function (...got) {
      seen.push(context.active(), got.length, ...got);
      return got;
    }, undefined, self, args, 7, 3);
    assert.deepEqual(seen, [7, 5, undefined, self, args, 7, 3]);
    assert.ok(Object.is(result[1], self) && Object.is(result[2], args), "the same objects, not copies");
    assert.equal(context.active(), 0, "nothing active after");
  });

  test(`${name}: call() nests and restores the caller's handle, also when fn throws`, () => {
    const context = make();
    const boom = new Error("boom");
    const trail = [];
    context.call(5, () => {
      trail.push(context.active());
      assert.throws(() => context.call(6, () => {
        trail.push(context.active());
        throw boom;
      }), (e) => e === boom);
      trail.push(context.active());
      context.run(8, () => trail.push(context.active()));
      trail.push(context.active());
    });
    trail.push(context.active());
    assert.deepEqual(trail, [5, 6, 5, 8, 5, 0]);
  });
}

test("alsContext: call()'s handle follows awaits and timers inside fn, the caller's does not change", async () => {
  const context = alsContext(AsyncLocalStorage);
  const inside = [];
  const done = context.call(9, async (wait) => {
    inside.push(context.active());
    await wait();
    inside.push(context.active());
    await new Promise((r) => setTimeout(r, 1));
    inside.push(context.active());
    return "ok";
  }, () => Promise.resolve());
  assert.equal(context.active(), 0, "the caller's context right after the call");
  assert.equal(await done, "ok");
  assert.equal(context.active(), 0, "and after awaiting it");
  assert.deepEqual(inside, [9, 9, 9]);
});
