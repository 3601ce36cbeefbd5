// Shared by the reliability tests (tests/reliability/*.test.mjs): the transparency property,
// forcing a real trap in the installed package's wasm instance, and reading stored records
// byte-exactly.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { APP, importPackage } from "../../support/package.mjs";

export { fc, importPackage };

/**
 * The wasm-bindgen glue module the package entry imported and initialised (the very same module
 * instance: same resolved URL). Its `initSync()` returns the live instance's exports.
 */
export async function liveWasmExports() {
  await importPackage();
  const { resolve } = await import(join(APP, "resolve.mjs"));
  const glue = await import(new URL("./wasm/agensight_wasm.js", resolve("agensight-wasm")).href);
  const exports = glue.initSync();
  assert.ok(exports?.memory instanceof WebAssembly.Memory, "the live instance's exports");
  return exports;
}

/**
 * Leaves the wasm instance with no memory to grow into: its memory is grown from JS until the
 * engine refuses. The next large allocation inside the wasm fails, and Rust aborts: a real trap
 * (WebAssembly.RuntimeError), as an out-of-memory would cause in a long-running app.
 */
export async function exhaustWasmMemory() {
  const { memory } = await liveWasmExports();
  for (let step = 4096; step >= 1; step = Math.floor(step / 2)) {
    for (;;) {
      try {
        memory.grow(step);
      } catch {
        break;
      }
    }
  }
  return memory.buffer.byteLength;
}

/** Overwrites the wasm instance's whole linear memory with 0xff: its next call traps. */
export async function corruptWasmMemory() {
  const { memory } = await liveWasmExports();
  new Uint8Array(memory.buffer).fill(0xff);
}

/**
 * The raw text of each top-level member of the JSON object `text` (as stored, byte-exact):
 * `{"a":[1, 2],"b":"x"}` -> Map { a => "[1, 2]", b => "\"x\"" }.
 */
export function rawMembers(text) {
  const members = new Map();
  let depth = 0;
  let key = null;
  let start = -1;
  let lastString = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const from = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
      lastString = text.slice(from, i + 1);
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    if (depth === 1 && c === ":") {
      key = JSON.parse(lastString);
      start = i + 1;
    } else if (key !== null && ((depth === 1 && c === ",") || depth === 0)) {
      members.set(key, text.slice(start, i).trim());
      key = null;
    }
  }
  return members;
}

/** Byte length of a string in UTF-8. */
export const bytes = (s) => Buffer.byteLength(s, "utf8");

/** The records of a store file, each line parsed (a line that does not parse fails the test). */
export function storeLines(dir) {
  const text = readFileSync(join(dir, "traces.jsonl"), "utf8");
  assert.ok(text === "" || text.endsWith("\n"), "the store ends with a whole line");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch (e) {
        assert.fail(`a store line is not JSON (${e.message}): ${line.slice(0, 300)}`);
      }
    });
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const micro = () => Promise.resolve();

// ---------------------------------------------------------------------------------------------
// Transparency: a wrapped function behaves exactly like the original.

/** Values a function may return, take or throw: everything fast-check makes, odd kinds too. */
export const anyValue = fc.anything({
  maxDepth: 3,
  maxKeys: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

const thrown = fc.oneof(
  anyValue,
  fc.constantFrom(Error, TypeError, RangeError, SyntaxError).map((E) => new E("boom")),
  fc.string().map((m) => Object.assign(new Error(m), { code: "E_TEST", cause: new Error("inner") })),
);

/** What the generated function does. */
export const behaviour = fc.record({
  kind: fc.constantFrom(
    "return", // sync, returns a value
    "throw", // sync, throws any value
    "async-return", // async function
    "async-throw",
    "promise-resolve", // sync function returning a native Promise
    "promise-reject",
    "thenable", // sync function returning a plain thenable object
    "thenable-reject",
    "subclass", // sync function returning a Promise subclass instance
    "this", // returns `this`
    "nested-sync", // returns what a wrapped inner function returns
    "nested-async",
  ),
  value: anyValue,
  error: thrown,
  self: fc.oneof(anyValue, fc.constant(undefined)),
  args: fc.array(anyValue, { maxLength: 4 }),
  wait: fc.constantFrom("none", "microtask", "timer"),
  api: fc.constantFrom("trace", "span"),
  opts: fc.oneof(fc.constant(undefined), fc.string(), fc.record({ name: fc.string(), kind: fc.constantFrom("tool", "agent", "llm"), metadata: anyValue }, { requiredKeys: [] })),
});

class SubPromise extends Promise {
  extra() {
    return "extra";
  }
}

/**
 * Checks one generated function against its wrapped version (`api` is the package:
 * { trace, span }). Each call of the wrapped function is compared with what the original
 * would do: same `this`, same argument objects, same return value (identity), same thrown
 * object, sync stays sync, a Promise stays a Promise with the same outcome, a thenable or a
 * Promise subclass is the very same object.
 */
export async function checkOne(api, b) {
  const inner = api.span((x) => x, "inner");
  const innerAsync = api.span(async (x) => (await micro(), x), "inner-async");
  const wait = b.wait === "timer" ? tick : b.wait === "microtask" ? micro : null;
  let fixed; // the object the function hands back, made once so identity can be checked
  let thenCalls = 0;
  switch (b.kind) {
    case "thenable":
      fixed = { then: (ok) => (thenCalls++, ok(b.value)), mark: 1 };
      break;
    case "thenable-reject":
      fixed = { then: (ok, fail) => (thenCalls++, fail(b.error)) };
      break;
    case "subclass":
      fixed = SubPromise.resolve(b.value);
      break;
  }
  const seen = [];
  const fn = function (...args) {
    seen.push({ self: this, args, length: arguments.length });
    switch (b.kind) {
      case "return":
        return b.value;
      case "throw":
        throw b.error;
      case "async-return":
        return (async () => (wait && (await wait()), b.value))();
      case "async-throw":
        return (async () => {
          if (wait) await wait();
          throw b.error;
        })();
      case "promise-resolve":
        return wait ? wait().then(() => b.value) : Promise.resolve(b.value);
      case "promise-reject":
        return wait ? wait().then(() => Promise.reject(b.error)) : Promise.reject(b.error);
      case "thenable":
      case "thenable-reject":
      case "subclass":
        return fixed;
      case "this":
        return this;
      case "nested-sync":
        return inner(b.value);
      case "nested-async":
        return (async () => (wait && (await wait()), innerAsync(b.value)))();
    }
  };
  const wrapped = api[b.api](fn, b.opts);
  assert.equal(wrapped.length, fn.length);

  let result;
  let threw = false;
  let error;
  try {
    result = wrapped.apply(b.self, b.args);
  } catch (e) {
    threw = true;
    error = e;
  }
  // The original ran synchronously inside the call, once, with the same `this` and arguments.
  assert.equal(seen.length, 1, "called once, synchronously");
  assert.ok(Object.is(seen[0].self, b.self), "same `this`");
  assert.equal(seen[0].length, b.args.length, "same number of arguments");
  b.args.forEach((a, i) => assert.ok(Object.is(seen[0].args[i], a), `argument ${i} is the same value`));

  switch (b.kind) {
    case "return":
    case "nested-sync":
      assert.ok(!threw && Object.is(result, b.value), "same return value, synchronously");
      break;
    case "this":
      assert.ok(!threw && Object.is(result, b.self), "returns the same `this`");
      break;
    case "throw":
      assert.ok(threw && Object.is(error, b.error), "throws the same value, synchronously");
      break;
    case "async-return":
    case "promise-resolve":
    case "nested-async":
      assert.ok(!threw && result instanceof Promise && result.constructor === Promise, "a native Promise");
      assert.ok(Object.is(await result, b.value), "resolves to the same value");
      break;
    case "async-throw":
    case "promise-reject":
      assert.ok(!threw && result instanceof Promise && result.constructor === Promise, "a native Promise");
      await result.then(
        () => assert.fail("resolved instead of rejecting"),
        (e) => assert.ok(Object.is(e, b.error), "rejects with the same value"),
      );
      break;
    case "thenable":
    case "thenable-reject":
    case "subclass":
      assert.ok(!threw && Object.is(result, fixed), "the very same object");
      if (b.kind === "subclass") assert.equal(result.extra(), "extra");
      if (b.kind === "thenable-reject") {
        await Promise.resolve(result).then(
          () => assert.fail("resolved"),
          (e) => assert.ok(Object.is(e, b.error)),
        );
      } else {
        assert.ok(Object.is(await result, b.value), "settles with the same value");
      }
      if (b.kind !== "subclass") assert.ok(thenCalls <= 2, "then() called at most once by the SDK");
      break;
  }
}

/** Runs the transparency property `runs` times against `api`. */
export async function transparency(api, { runs = 150, seed } = {}) {
  await fc.assert(
    fc.asyncProperty(behaviour, (b) => checkOne(api, b)),
    { numRuns: runs, seed, endOnFailure: true },
  );
}
