// Bad values to capture (as arguments, results, thrown values and metadata): cycles, BigInt,
// Symbol, functions, undefined, sparse arrays, typed arrays, Map/Set, Date, Error with cause,
// revoked Proxy, getters and toJSON that throw, lone surrogates, 10 MB strings, 10,000-deep
// nesting... Every call behaves as unwrapped and returns promptly, and every stored line is a
// valid record whose captured fields (read byte-exactly from the store file) fit maxFieldBytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anyValue, bytes, fc, importPackage, rawMembers, storeLines } from "./support/helpers.mjs";

const { init, trace, span, flush } = await importPackage();

function isPromise(v) {
  try {
    return v instanceof Promise;
  } catch {
    return false; // a revoked Proxy
  }
}

function deep(n, make) {
  let v = "bottom";
  for (let i = 0; i < n; i++) v = make(v);
  return v;
}

/** The hard cases, made fresh per use (some are mutated by capture attempts, none should be). */
function badValues() {
  const cyclic = { name: "loop" };
  cyclic.self = cyclic;
  cyclic.list = [cyclic, { back: cyclic }];
  const cyclicMap = new Map();
  cyclicMap.set("me", cyclicMap);
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const trappy = new Proxy({}, {
    ownKeys() {
      throw new Error("ownKeys trap");
    },
    get() {
      throw new Error("get trap");
    },
    getPrototypeOf() {
      throw new Error("getPrototypeOf trap");
    },
  });
  const selfCause = new Error("self cause");
  selfCause.cause = selfCause;
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  sparse[100] = 4;
  const many = {};
  for (let i = 0; i < 100_000; i++) many[`k${i}`] = i;
  return {
    cyclic,
    cyclicMap,
    bigint: 10n,
    hugeBigint: 2n ** 4000n,
    symbol: Symbol("s"),
    wellKnownSymbol: Symbol.iterator,
    arrow: () => 1,
    klass: class Thing {},
    asyncFn: async function named() {},
    bound: function () {}.bind(null),
    undefined: undefined,
    nestedUndefined: { a: undefined, b: [undefined] },
    sparse,
    hugeSparse: new Array(10_000_000),
    typed: new Uint8Array(1_000_000).fill(7),
    floats: new Float64Array([NaN, Infinity, -0, 1.5]),
    bigints: new BigInt64Array([1n, -1n]),
    dataView: new DataView(new ArrayBuffer(100)),
    arrayBuffer: new ArrayBuffer(1 << 20),
    buffer: Buffer.from("secret bytes"),
    map: new Map([[{ k: 1 }, new Set([1, "a"])], [NaN, null]]),
    set: new Set([new Map(), [1, 2]]),
    date: new Date(0),
    invalidDate: new Date(NaN),
    errorWithCause: new Error("outer", { cause: new TypeError("inner", { cause: "root" }) }),
    aggregate: new AggregateError([new Error("a"), "b"], "many"),
    selfCause,
    revoked,
    trappy,
    throwingGetter: {
      get boom() {
        throw new Error("getter failed");
      },
      ok: 1,
    },
    throwingToJSON: {
      toJSON() {
        throw new Error("toJSON failed");
      },
    },
    toJSONThis: {
      toJSON() {
        return this;
      },
      x: 1,
    },
    toJSONHuge: { toJSON: () => "y".repeat(10 << 20) },
    loneSurrogates: ["\ud800", "x\udc00y", "a\ud83d", "\ud83d\ude00\ud83d"],
    tenMegabytes: "x".repeat(10 << 20),
    tenMegabytesMultibyte: "é".repeat(5 << 20),
    tenMegabytesEmoji: "😀".repeat(5 << 19),
    hugeKey: { ["k".repeat(10 << 20)]: 1 },
    deepArrays: deep(10_000, (v) => [v]),
    deepObjects: deep(10_000, (v) => ({ v })),
    deepMaps: deep(10_000, (v) => new Map([["v", v]])),
    deepErrors: deep(10_000, (v) => new Error("e", { cause: v })),
    wide: many,
    longArray: Array.from({ length: 1_000_000 }, (_, i) => i),
    boxed: [new String("s"), new Number(1), new Boolean(false), Object(1n), Object(Symbol("b"))],
    nullProto: Object.assign(Object.create(null), { a: 1 }),
    protoKey: JSON.parse('{"__proto__": {"polluted": true}}'),
    regexp: /a+/gi,
    promise: Promise.resolve(1),
    weak: [new WeakMap(), new WeakSet()],
    global: globalThis,
    nan: [NaN, -Infinity, -0],
  };
}

// Made once (capturing never changes them): some are slow to build.
const VALUES = badValues();

/** Every span record in the store: valid, captured fields within `max` bytes. */
function checkStore(dir, max) {
  const lines = storeLines(dir);
  const spans = [];
  for (const { type, data } of lines) {
    assert.ok(type && data && typeof data === "object", "a {type, data} record");
    if (type !== "span") continue;
    const attributes = JSON.parse(data.attributes);
    const raw = rawMembers(data.attributes);
    for (const k of ["input", "output", "metadata"]) {
      if (raw.has(k)) assert.ok(bytes(raw.get(k)) <= max, `${data.name}: ${k} is ${bytes(raw.get(k))} bytes > ${max}`);
    }
    for (const k of ["error.type", "error.message", "error.stack"]) {
      if (k in attributes) assert.ok(bytes(attributes[k]) <= max, `${data.name}: ${k} is ${bytes(attributes[k])} bytes > ${max}`);
    }
    spans.push({ ...data, attributes });
  }
  return spans;
}

for (const max of [16, 300, 65536]) {
  test(`bad values as arguments, results, thrown values and metadata (maxFieldBytes ${max})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "agensight-capture-"));
    init({ dir, maxFieldBytes: max });
    const values = VALUES;
    let slowest = 0;
    let calls = 0;
    for (const [name, value] of Object.entries(values)) {
      const timed = (f) => {
        const t0 = performance.now();
        f();
        slowest = Math.max(slowest, performance.now() - t0);
        calls++;
      };
      // (A native Promise result comes back as a Promise of the same value, not the same object.)
      const same = (r) => (isPromise(value) ? r instanceof Promise : Object.is(r, value));
      timed(() => assert.ok(same(span((v) => v, `arg:${name}`)(value)), name));
      timed(() => assert.ok(same(trace(() => value, { name: `result:${name}`, metadata: value })()), name));
      timed(() => assert.throws(() => span(() => {
        throw value;
      }, `throw:${name}`)(), (e) => Object.is(e, value)));
      // An async function resolves its result, reading `then` (a revoked Proxy rejects there,
      // traced or not): the wrapped one settles exactly as the original.
      const original = async (v) => v;
      const settle = (p) => p.then((v) => ["ok", v], (e) => ["error", e?.constructor, e?.message]);
      const t0 = performance.now();
      const got = await settle(span(original, `async:${name}`)(value));
      slowest = Math.max(slowest, performance.now() - t0);
      const want = await settle(original(value));
      assert.equal(got[0], want[0], name);
      if (got[0] === "ok") assert.ok(Object.is(got[1], want[1]), name);
      else assert.deepEqual(got, want);
    }
    await flush();
    const spans = checkStore(dir, max);
    assert.equal(spans.length, Object.keys(values).length * 4, "one record per call");
    for (const s of spans) if (!s.name.startsWith("async:")) assert.equal(s.status, s.name.startsWith("throw:") ? "error" : "ok", s.name);
    assert.ok(slowest < 2000, `slowest call ${slowest.toFixed(0)} ms`);
    // The input of an argument capture names the value where the capture could (spot checks).
    if (max === 65536) {
      const input = (n) => spans.find((s) => s.name === `arg:${n}`).attributes.input[0];
      assert.equal(input("cyclic").self, "[Circular]");
      assert.equal(input("bigint"), "10");
      assert.equal(input("symbol"), "Symbol(s)");
      assert.equal(input("date"), "1970-01-01T00:00:00.000Z");
      assert.equal(input("errorWithCause").cause.cause, "root");
      assert.match(input("revoked"), /Thrown/);
      assert.deepEqual(input("loneSurrogates"), ["\ud800", "x\udc00y", "a\ud83d", "\ud83d\ude00\ud83d"]);
      assert.ok(input("tenMegabytes").endsWith("…"));
      const err = spans.find((s) => s.name === "throw:tenMegabytes").attributes;
      assert.equal(err["error.type"], "string");
      assert.ok(err["error.message"].endsWith("…"), "a 10 MB thrown message is cut too");
      assert.equal(spans.find((s) => s.name === "arg:tenMegabytes").attributes.truncated, true);
    }
  });
}

test("a 10 MB Error message and stack are cut to maxFieldBytes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-capture-"));
  init({ dir, maxFieldBytes: 1000 });
  const err = new Error("m".repeat(10 << 20));
  assert.throws(() => span(() => {
    throw err;
  }, "big-error")(), (e) => e === err);
  await flush();
  const [s] = checkStore(dir, 1000);
  assert.ok(s.attributes["error.message"].endsWith("…"));
  assert.equal(s.attributes.truncated, true);
});

test("generated values mixed with the hard cases: valid records within maxFieldBytes (property)", async () => {
  const hard = { ...VALUES };
  delete hard.global; // slow to walk on every run; covered above
  const list = Object.values(hard);
  // In a holder: fast-check inspects the values it makes, which a revoked Proxy does not allow.
  class Holder {
    constructor(v) {
      this.v = v;
    }
  }
  const bad = fc.nat(list.length - 1).map((i) => new Holder(list[i]));
  const mixed = fc.oneof(anyValue, bad, fc.array(fc.oneof(anyValue, bad), { maxLength: 5 }), fc.dictionary(fc.string(), fc.oneof(anyValue, bad), { maxKeys: 5 }));
  for (const max of [16, 128, 4096]) {
    const dir = mkdtempSync(join(tmpdir(), "agensight-capture-"));
    init({ dir, maxFieldBytes: max });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(mixed, fc.boolean(), async (generated, fails) => {
        const value = generated instanceof Holder ? generated.v : generated;
        runs++;
        const f = span((v) => {
          if (fails) throw v;
          return v;
        }, "p");
        if (fails) assert.throws(() => f(value), (e) => Object.is(e, value));
        else if (isPromise(value)) assert.ok(f(value) instanceof Promise);
        else assert.ok(Object.is(f(value), value));
      }),
      { numRuns: 60 },
    );
    await flush();
    assert.equal(checkStore(dir, max).length, runs);
  }
});
