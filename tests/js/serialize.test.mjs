// Tests for js/serialize.js: toJson (arbitrary JS values -> JSON text, never throws) and
// errorInfo. Run from the repository root: node --test tests/js/
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import vm from "node:vm";
import fc from "fast-check";
import { toJson, errorInfo, writeUtf8 } from "../../js/serialize.js";

/** toJson, asserting the result is JSON text, and returning it parsed. */
function rt(value, maxBytes) {
  const s = toJson(value, maxBytes);
  assert.equal(typeof s, "string");
  return JSON.parse(s);
}

/** [result, the fastest of `runs` timings in ms] (the best of a few, so a GC pause caused by
 * the test's own huge inputs does not make a timing assertion flaky). */
function timed(f, runs = 3) {
  let r;
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    r = f();
    best = Math.min(best, performance.now() - t);
  }
  return [r, best];
}

describe("plain JSON values", () => {
  test("match JSON.stringify exactly", () => {
    const values = [
      null, true, false, 0, -0, 1.5, -1e300, 5e-324, "", "hi", "quote \" back \\ nl \n tab \t \u0001 \u007f \u2028",
      [], {}, [1, "a", null, true], { a: 1, b: [1, 2, { c: "d" }], e: {} },
      { 2: "two", 1: "one", b: "b", a: "a" }, // integer keys first, then insertion order
      [{ role: "user", content: "hi" }],
      "x".repeat(200), "é😀中", { "": 1, "k\"ey": 2, "ключ": 3 },
    ];
    for (const v of values) assert.equal(toJson(v), JSON.stringify(v));
  });

  test("top-level undefined -> null; NaN and Infinity -> null", () => {
    assert.equal(toJson(undefined), "null");
    assert.equal(toJson(), "null");
    assert.equal(toJson(NaN), "null");
    assert.equal(toJson(Infinity), "null");
    assert.equal(toJson([NaN, -Infinity, 1]), "[null,null,1]");
    assert.equal(toJson({ a: NaN }), '{"a":null}');
  });

  test("undefined: omitted in objects, null in arrays; holes -> null", () => {
    assert.equal(toJson({ a: undefined, b: 1, c: undefined }), '{"b":1}');
    assert.equal(toJson({ a: undefined }), "{}");
    assert.equal(toJson([undefined, 1]), "[null,1]");
    // eslint-disable-next-line no-sparse-arrays
    assert.equal(toJson([1, , 3]), "[1,null,3]");
    assert.equal(toJson(new Array(3)), "[null,null,null]");
  });

  test("symbol keys are ignored, non-enumerable props are skipped", () => {
    const o = { a: 1, [Symbol("s")]: 2 };
    Object.defineProperty(o, "hidden", { value: 3, enumerable: false });
    assert.equal(toJson(o), '{"a":1}');
  });

  test("class instances: own enumerable props, prototype getters ignored", () => {
    class Point {
      constructor() {
        this.x = 1;
        this.y = 2;
      }
      get sum() {
        return this.x + this.y;
      }
    }
    assert.equal(toJson(new Point()), '{"x":1,"y":2}');
    assert.equal(toJson(Object.assign(Object.create(null), { a: 1 })), '{"a":1}');
  });

  test("boxed primitives are unboxed", () => {
    assert.equal(toJson([new String("s"), new Number(2), new Boolean(false), Object(3n), Object(Symbol("q"))]),
      '["s",2,false,"3","Symbol(q)"]');
  });
});

describe("values JSON.stringify drops or rejects", () => {
  test("functions -> [Function: name]", () => {
    function named() {}
    const anon = [() => {}][0];
    class Klass {}
    assert.deepEqual(rt({ f: named, g: anon, k: Klass, m: Math.max }), {
      f: "[Function: named]",
      g: "[Function: anonymous]",
      k: "[Function: Klass]",
      m: "[Function: max]",
    });
    assert.equal(toJson(named), '"[Function: named]"');
    assert.equal(toJson([named]), '["[Function: named]"]');
    const throwingName = function () {};
    Object.defineProperty(throwingName, "name", { get() { throw new Error("no"); } });
    assert.equal(toJson(throwingName), '"[Function: anonymous]"');
  });

  test("symbols -> String(sym)", () => {
    assert.equal(toJson(Symbol("desc")), '"Symbol(desc)"');
    assert.deepEqual(rt({ s: Symbol(), t: Symbol.iterator, u: [Symbol("x\"y")] }), {
      s: "Symbol()",
      t: "Symbol(Symbol.iterator)",
      u: ['Symbol(x"y)'],
    });
  });

  test("BigInt -> decimal string", () => {
    assert.equal(toJson(12345678901234567890n), '"12345678901234567890"');
    assert.equal(toJson({ n: -5n, z: 0n }), '{"n":"-5","z":"0"}');
  });
});

describe("toJSON", () => {
  test("Date -> ISO string, invalid Date -> null", () => {
    assert.equal(toJson(new Date(0)), '"1970-01-01T00:00:00.000Z"');
    assert.equal(toJson({ d: new Date("2024-05-06T07:08:09.010Z") }), '{"d":"2024-05-06T07:08:09.010Z"}');
    assert.equal(toJson(new Date(NaN)), "null");
    assert.equal(toJson([new Date("nope")]), "[null]");
  });

  test("called with the key, result not re-toJSON'd, undefined result omitted", () => {
    const byKey = { toJSON(k) { return "key=" + k; } };
    assert.deepEqual(rt({ a: byKey, b: [byKey] }), { a: "key=a", b: ["key=0"] });
    assert.equal(toJson(byKey), '"key="');
    const inner = { toJSON() { return "inner"; } };
    assert.equal(toJson({ toJSON() { return { x: inner, y: 1 }; } }), '{"x":"inner","y":1}');
    // toJSON returning `this`: written as an object, where (unlike JSON.stringify) the toJSON
    // method itself shows as a function placeholder.
    const self = { toJSON() { return this; }, v: 1 };
    assert.equal(toJson(self), '{"toJSON":"[Function: toJSON]","v":1}');
    const gone = { toJSON() { return undefined; } };
    assert.equal(toJson({ a: gone, b: 1 }), '{"b":1}');
    assert.equal(toJson([gone]), "[null]");
    assert.equal(toJson(gone), "null");
  });

  test("a toJSON that throws -> [toJSON threw: message]", () => {
    const bad = { toJSON() { throw new RangeError("nope"); } };
    assert.deepEqual(rt({ a: bad, b: 2 }), { a: "[toJSON threw: nope]", b: 2 });
    assert.equal(toJson(bad), '"[toJSON threw: nope]"');
    assert.equal(toJson({ toJSON() { throw "str"; } }), '"[toJSON threw: str]"');
  });

  test("Node Buffer uses the $typed form, not Buffer.prototype.toJSON", () => {
    assert.deepEqual(rt(Buffer.from("hi")), { $typed: "Uint8Array", length: 2, data: [104, 105] });
  });
});

describe("throwing reads", () => {
  test("a getter that throws -> [Thrown: message], the rest is still written", () => {
    const o = {
      a: 1,
      get bad() { throw new Error("getter failed"); },
      c: 3,
    };
    assert.equal(toJson(o), '{"a":1,"bad":"[Thrown: getter failed]","c":3}');
    const arr = [1, 2, 3];
    Object.defineProperty(arr, 1, { get() { throw new TypeError("idx"); } });
    assert.equal(toJson(arr), '[1,"[Thrown: idx]",3]');
    assert.equal(toJson({ get t() { throw 42; } }), '{"t":"[Thrown: 42]"}');
  });

  test("a getter for toJSON that throws -> [Thrown]", () => {
    assert.equal(toJson({ x: { get toJSON() { throw new Error("tj getter"); } } }), '{"x":"[Thrown: tj getter]"}');
  });

  test("revoked Proxy -> [Thrown] at that spot, siblings written", () => {
    const { proxy, revoke } = Proxy.revocable([], {});
    revoke();
    assert.throws(() => Array.isArray(proxy));
    const top = rt(proxy);
    assert.equal(typeof top, "string");
    assert.match(top, /^\[Thrown: .*revoked.*\]$/);
    const v = rt({ a: 1, p: proxy, b: [proxy, 2] });
    assert.equal(v.a, 1);
    assert.match(v.p, /^\[Thrown: /);
    assert.match(v.b[0], /^\[Thrown: /);
    assert.equal(v.b[1], 2);
  });

  test("Proxy traps that throw mid-object roll the object back to one placeholder", () => {
    const p = new Proxy({ a: 1, b: 2 }, {
      ownKeys() { throw new Error("no keys"); },
    });
    assert.equal(toJson({ before: 0, p, after: 3 }), '{"before":0,"p":"[Thrown: no keys]","after":3}');
    const half = new Proxy([1, 2, 3], {
      get(t, k) {
        if (k === "length") return 3;
        if (k === "2") throw new Error("third");
        return Reflect.get(t, k);
      },
    });
    assert.equal(toJson(half), '[1,2,"[Thrown: third]"]');
    const badProto = new Proxy({}, { getPrototypeOf() { throw new Error("proto"); } });
    assert.equal(toJson([badProto]), '["[Thrown: proto]"]');
  });

  test("a thrown value whose message cannot be read", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    assert.equal(toJson({ get x() { throw proxy; } }), '{"x":"[Thrown: unknown error]"}');
    assert.equal(toJson({ get x() { throw Object.create(null); } }), '{"x":"[Thrown: unknown error]"}');
  });

  test("placeholder messages are cut to 1000 characters", () => {
    const v = rt({ get x() { throw new Error("m".repeat(5000)); } });
    assert.equal(v.x, "[Thrown: " + "m".repeat(1000) + "…]");
  });
});

describe("cycles and shared references", () => {
  test("cycles -> [Circular]", () => {
    const a = { name: "a" };
    a.self = a;
    assert.equal(toJson(a), '{"name":"a","self":"[Circular]"}');
    const arr = [1];
    arr.push(arr);
    assert.equal(toJson(arr), '[1,"[Circular]"]');
    const x = { y: { z: {} } };
    x.y.z.back = x;
    x.y.z.up = x.y;
    assert.deepEqual(rt(x), { y: { z: { back: "[Circular]", up: "[Circular]" } } });
    const m = new Map();
    m.set("me", m);
    assert.deepEqual(rt(m), { $map: [["me", "[Circular]"]] });
  });

  test("repeated sibling references are written each time", () => {
    const shared = { v: 1 };
    assert.equal(toJson({ a: shared, b: shared, c: [shared, shared] }),
      '{"a":{"v":1},"b":{"v":1},"c":[{"v":1},{"v":1}]}');
    const deepShared = { k: [1, 2] };
    const parent = { l: { x: deepShared }, r: { y: deepShared } };
    assert.deepEqual(rt(parent), { l: { x: { k: [1, 2] } }, r: { y: { k: [1, 2] } } });
  });
});

describe("built-in kinds", () => {
  test("Map and Set", () => {
    const m = new Map([["a", 1], [{ k: 1 }, [2]], [3n, undefined]]);
    assert.equal(toJson(m), '{"$map":[["a",1],[{"k":1},[2]],["3",null]]}');
    assert.equal(toJson(new Set([1, "b", { c: 2 }, undefined])), '{"$set":[1,"b",{"c":2},null]}');
    assert.equal(toJson(new Map()), '{"$map":[]}');
    assert.equal(toJson({ s: new Set() }), '{"s":{"$set":[]}}');
  });

  test("typed arrays, DataView, ArrayBuffer", () => {
    assert.equal(toJson(new Uint8Array([1, 2, 255])), '{"$typed":"Uint8Array","length":3,"data":[1,2,255]}');
    assert.equal(toJson(new Float64Array([1.5, NaN, -Infinity])), '{"$typed":"Float64Array","length":3,"data":[1.5,null,null]}');
    assert.equal(toJson(new BigInt64Array([-1n, 2n])), '{"$typed":"BigInt64Array","length":2,"data":["-1","2"]}');
    const big = rt(new Uint16Array(100000));
    assert.equal(big.$typed, "Uint16Array");
    assert.equal(big.length, 100000);
    assert.equal(big.data.length, 64);
    const buf = new ArrayBuffer(10);
    new Uint8Array(buf).set([9, 8, 7, 6, 5]);
    assert.equal(toJson(new DataView(buf, 1, 3)), '{"$typed":"DataView","length":3,"data":[8,7,6]}');
    assert.equal(toJson(buf), '{"$typed":"ArrayBuffer","byteLength":10}');
    assert.equal(toJson(new SharedArrayBuffer(4)), '{"$typed":"SharedArrayBuffer","byteLength":4}');
  });

  test("RegExp, Promise, WeakMap, WeakSet", () => {
    assert.equal(toJson(/a"b/gi), JSON.stringify('/a"b/gi'));
    assert.deepEqual(rt([/x/, Promise.resolve(1), new WeakMap(), new WeakSet()]),
      ["/x/", "[Promise]", "[WeakMap]", "[WeakSet]"]);
    assert.equal(toJson((async () => {})()), '"[Promise]"');
  });

  test("a spoofed Symbol.toStringTag does not fool brand checks", () => {
    class FakeMap {
      constructor() { this.a = 1; }
      get [Symbol.toStringTag]() { return "Map"; }
    }
    assert.equal(toJson(new FakeMap()), '{"a":1}');
    assert.equal(toJson({ [Symbol.toStringTag]: "RegExp", b: 2 }), '{"b":2}');
  });

  test("values from another realm are recognised", () => {
    const [err, map, set, date, arr] = vm.runInNewContext(
      "[Object.assign(new TypeError('other realm'), {code: 7}), new Map([[1, 2]]), new Set([3]), new Date(0), [1, {a: 2}]]",
    );
    assert.equal(err instanceof Error, false);
    const e = rt(err);
    assert.deepEqual(e, { name: "TypeError", message: "other realm", stack: err.stack, code: 7 });
    assert.equal(toJson(map), '{"$map":[[1,2]]}');
    assert.equal(toJson(set), '{"$set":[3]}');
    assert.equal(toJson(date), '"1970-01-01T00:00:00.000Z"');
    assert.equal(toJson(arr), '[1,{"a":2}]');
  });

  test("host objects are written from their enumerable props without throwing", () => {
    for (const v of [new Response("x"), new Request("https://example.com"), new ReadableStream(), new Headers({ a: "b" }), new URL("https://e.com"), new AbortController()]) {
      assert.doesNotThrow(() => JSON.parse(toJson(v)));
      assert.doesNotThrow(() => JSON.parse(toJson({ v })));
    }
  });
});

describe("fetch API objects", () => {
  const headers = () =>
    new Headers([
      ["Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"],
      ["X-Api-Key", "k-0123456789"],
      ["Cookie", "sid=abc"],
      ["Proxy-Authorization", "Basic dTpw"],
      ["x-goog-api-key", "g-1"],
      ["Content-Type", "application/json"],
      ["X-Request-Id", "r-42"],
    ]);
  const maskedHeaders = {
    authorization: "[REDACTED]",
    "content-type": "application/json",
    cookie: "[REDACTED]",
    "proxy-authorization": "[REDACTED]",
    "x-api-key": "[REDACTED]",
    "x-goog-api-key": "[REDACTED]",
    "x-request-id": "r-42",
  };

  test("Headers -> its pairs, secret-named values masked before anything crosses", () => {
    assert.deepEqual(rt(headers()), maskedHeaders);
    assert.deepEqual(rt({ init: { headers: headers() } }), { init: { headers: maskedHeaders } });
    assert.equal(toJson(new Headers()), "{}");
  });

  test("Request -> method, url, headers; Response -> status, statusText, url, headers", () => {
    const req = new Request("https://api.example.com/v1/chat?stream=1", { method: "POST", headers: headers(), body: "{}" });
    assert.deepEqual(rt(req), { method: "POST", url: "https://api.example.com/v1/chat?stream=1", headers: maskedHeaders });
    assert.equal(req.bodyUsed, false, "the body is not read");
    const res = new Response("hello", { status: 429, statusText: "Too Many Requests", headers: { "retry-after": "3", "set-cookie": "s=1" } });
    assert.deepEqual(rt(res), { status: 429, statusText: "Too Many Requests", url: "", headers: { "content-type": "text/plain;charset=UTF-8", "retry-after": "3", "set-cookie": "[REDACTED]" } });
    assert.equal(res.bodyUsed, false);
    assert.deepEqual(rt([req.method, { res }]), ["POST", { res: rt(res) }]);
  });

  test("URL -> its href, any user:password in it masked", () => {
    assert.equal(rt(new URL("https://alice:s3cr3t@example.com:8443/p?q=1#h")), "https://[REDACTED]@example.com:8443/p?q=1#h");
    assert.equal(rt(new URL("https://ghp_token@github.com/o/r.git")), "https://[REDACTED]@github.com/o/r.git");
    assert.equal(rt(new URL("https://example.com/a?b=c")), "https://example.com/a?b=c");
    assert.deepEqual(rt({ endpoint: new URL("postgres://app:pw@db:5432/x") }), { endpoint: "postgres://[REDACTED]@db:5432/x" });
  });

  test("look-alikes are not trusted: a spoofed tag or a borrowed toJSON is a plain object", () => {
    assert.equal(toJson({ [Symbol.toStringTag]: "Headers", a: 1 }), '{"a":1}');
    assert.equal(toJson(Object.create(Headers.prototype)), "{}");
    assert.match(toJson({ toJSON: URL.prototype.toJSON }), /^"\[toJSON threw: .+\]"$/);
  });
});

describe("errors", () => {
  test("Error with cause and own props", () => {
    const inner = new TypeError("inner");
    const e = new Error("outer", { cause: inner });
    e.code = "E_FAIL";
    e.status = 503;
    assert.deepEqual(rt(e), {
      name: "Error",
      message: "outer",
      stack: e.stack,
      cause: { name: "TypeError", message: "inner", stack: inner.stack },
      code: "E_FAIL",
      status: 503,
    });
    const s = toJson(e);
    assert.ok(s.startsWith('{"name":"Error","message":"outer","stack":'), s);
  });

  test("custom class names", () => {
    class MyErr extends Error {}
    const a = new MyErr("a");
    assert.deepEqual(rt(a), { name: "MyErr", message: "a", stack: a.stack });
    class HttpError extends Error {
      constructor(msg, status) {
        super(msg);
        this.name = "HttpError";
        this.status = status;
      }
    }
    const h = new HttpError("down", 500);
    // `name` is an own enumerable prop here: written once, first.
    assert.equal(toJson(h), JSON.stringify({ name: "HttpError", message: "down", stack: h.stack, status: 500 }));
    class Named extends Error {}
    Named.prototype.name = "ProtoName";
    assert.equal(rt(new Named("x")).name, "ProtoName");
  });

  test("non-string cause, missing stack, cause that is a cycle", () => {
    const e = new Error("m", { cause: { why: 1 } });
    delete e.stack;
    Object.defineProperty(e, "stack", { value: undefined });
    assert.deepEqual(rt(e), { name: "Error", message: "m", stack: "", cause: { why: 1 } });
    const c = new Error("loop");
    c.cause = c;
    assert.equal(rt(c).cause, "[Circular]");
    assert.equal("cause" in rt(new Error("no cause")), false);
  });

  test("AggregateError lists its errors", () => {
    const agg = new AggregateError([new Error("one"), "two"], "many");
    const v = rt(agg);
    assert.equal(v.name, "AggregateError");
    assert.equal(v.message, "many");
    assert.deepEqual(v.errors, [{ name: "Error", message: "one", stack: agg.errors[0].stack }, "two"]);
  });

  test("an error whose getters throw", () => {
    const e = new Error("x");
    void e.stack; // V8 formats the stack lazily, reading message: do it before breaking it
    Object.defineProperty(e, "message", { get() { throw new Error("no message"); } });
    Object.defineProperty(e, "code", { get() { throw new Error("no code"); }, enumerable: true });
    const v = rt(e);
    assert.equal(v.message, "[Thrown: no message]");
    assert.equal(v.code, "[Thrown: no code]");
    assert.equal(v.stack, e.stack);
  });
});

describe("strings", () => {
  test("lone surrogates round-trip exactly", () => {
    const strs = ["\ud800", "a\udc00b", "\udbff\udfff", "\ud83d", "x\ud83d\ude00\ud83dy", "\udfff\ud800"];
    for (const s of strs) {
      const t = toJson(s);
      assert.equal(JSON.parse(t), s);
      assert.equal(t, JSON.stringify(s));
      assert.equal(JSON.parse(toJson({ [s]: s }))[s], s);
    }
    assert.equal(toJson("\ud800"), '"\\ud800"');
    assert.equal(toJson("\ud800".repeat(200)), JSON.stringify("\ud800".repeat(200)));
  });

  test("long strings are cut to maxBytes characters plus …", () => {
    assert.equal(rt("abcdefgh", 5), "abcde…");
    assert.equal(rt("abcde", 5), "abcde");
    assert.deepEqual(rt({ k: "0123456789" }, 4), { k: "0123…" });
    // a cut never splits a surrogate pair
    assert.equal(rt("abcd😀xyz", 5), "abcd…");
    assert.equal(rt("abc😀xyz", 5), "abc😀…");
    // long keys too
    assert.deepEqual(rt({ ["k".repeat(10)]: 1 }, 3), { "kkk…": 1 });
  });

  test("a 10 MB string is cut and quick", () => {
    const big = "x".repeat(10 * 1024 * 1024);
    big.charCodeAt(5); // flatten outside the timing
    const [s, ms] = timed(() => toJson(big));
    assert.equal(JSON.parse(s), "x".repeat(65536) + "…");
    assert.ok(ms < 100, `took ${ms} ms`);
    const s2 = toJson({ a: big, b: big }, 1000);
    assert.deepEqual(JSON.parse(s2), { a: "x".repeat(1000) + "…", b: "x".repeat(1000) + "…" });
  });
});

describe("bounded work", () => {
  test("10,000-deep nesting is valid and quick; containers past depth 64 -> [MaxDepth]", () => {
    let deep = {};
    const root = deep;
    for (let i = 0; i < 10000; i++) {
      deep.a = {};
      deep = deep.a;
    }
    const [s, ms] = timed(() => toJson(root));
    assert.ok(ms < 100, `took ${ms} ms`);
    let v = JSON.parse(s);
    let levels = 0;
    while (typeof v === "object") {
      levels++;
      v = v.a;
    }
    assert.equal(levels, 64);
    assert.equal(v, "[MaxDepth]");

    let arr = [];
    const aroot = arr;
    for (let i = 0; i < 10000; i++) {
      const next = [];
      arr.push(next, i);
      arr = next;
    }
    let w = rt(aroot);
    let alevels = 0;
    while (Array.isArray(w)) {
      alevels++;
      w = w[0];
    }
    assert.equal(alevels, 64);
    assert.equal(w, "[MaxDepth]");
  });

  test("primitives at the depth limit are still written", () => {
    let o = "leaf";
    for (let i = 0; i < 64; i++) o = { a: o, d: new Date(0) };
    let v = rt(o);
    for (let i = 0; i < 64; i++) {
      assert.equal(v.d, "1970-01-01T00:00:00.000Z");
      v = v.a;
    }
    assert.equal(v, "leaf");
  });

  test("a Map counts 3 levels, a Set 2 (output nesting stays bounded)", () => {
    let v = {};
    for (let i = 0; i < 100; i++) v = new Map([["k", v]]);
    const s = toJson(v);
    let depth = 0;
    let max = 0;
    for (const ch of s.replace(/"(?:[^"\\]|\\.)*"/g, "")) {
      if (ch === "{" || ch === "[") max = Math.max(max, ++depth);
      else if (ch === "}" || ch === "]") depth--;
    }
    assert.ok(max <= 67, `nesting ${max}`);
    assert.ok(s.includes('"[MaxDepth]"'));
  });

  test("a 1e6-key object is cut by the output budget, quickly", () => {
    const big = {};
    for (let i = 0; i < 1e6; i++) big["key" + i] = i;
    // V8 collects all 1e6 keys before any enumeration can start (Object.keys, for-in):
    // that is the floor; everything toJson adds on top of it must be small.
    const [, keysMs] = timed(() => Object.keys(big), 2);
    const [s, ms] = timed(() => toJson(big), 2);
    assert.ok(ms < keysMs * 2 + 100, `toJson ${ms} ms, Object.keys alone ${keysMs} ms`);
    const v = JSON.parse(s);
    assert.ok(s.length < 65536 * 2 + 100, `length ${s.length}`);
    const keys = Object.keys(v);
    assert.ok(keys.length > 1000 && keys.length < 20000, `${keys.length} keys`);
    assert.equal(v.key0, 0);
    assert.equal(v[keys[keys.length - 1]], "[Truncated]");
    const small = rt(big, 100);
    assert.deepEqual(Object.values(small).at(-1), "[Truncated]");
    assert.ok(Object.keys(small).length < 100);
  });

  test("a 1e7-element array is cut by the output budget, quickly", () => {
    const holes = new Array(1e7);
    const [s, ms] = timed(() => toJson(holes));
    assert.ok(ms < 100, `took ${ms} ms`);
    const v = JSON.parse(s);
    assert.equal(v.at(-1), "[Truncated]");
    assert.equal(v[0], null);
    const filled = new Array(1e7).fill("abc");
    const [s2, ms2] = timed(() => toJson(filled));
    assert.ok(ms2 < 100, `took ${ms2} ms`);
    assert.ok(s2.length <= 65536 * 2 + 100);
    assert.equal(JSON.parse(s2).at(-1), "[Truncated]");
  });

  test("budget applies inside Maps, Sets and nested values, result stays valid", () => {
    const m = new Map();
    for (let i = 0; i < 1e5; i++) m.set(i, { v: "x".repeat(10) });
    const mv = rt(m, 1000);
    assert.equal(mv.$map.at(-1), "[Truncated]");
    const set = new Set();
    for (let i = 0; i < 1e5; i++) set.add(i);
    assert.equal(rt(set, 1000).$set.at(-1), "[Truncated]");
    const nested = Array.from({ length: 1000 }, (_, i) => ({ i, list: Array.from({ length: 100 }, () => "yy") }));
    const s = toJson(nested, 2000);
    assert.ok(s.length < 2000 * 2 + 1000, `length ${s.length}`);
    assert.ok(s.includes('"[Truncated]"'));
    JSON.parse(s);
  });

  test("bad maxBytes falls back to the default", () => {
    const s = "y".repeat(70000);
    for (const m of [undefined, NaN, 0, -5, "10", null]) assert.equal(rt(s, m), "y".repeat(65536) + "…");
    assert.equal(rt(s, 10.7), "y".repeat(10) + "…");
    assert.equal(rt(s, Infinity), s); // capped at 2^26, not unbounded
    assert.equal(rt([s, { s }], Infinity)[1].s, s);
  });
});

describe("robustness", () => {
  test("re-entrant calls from getters and toJSON", () => {
    const o = {
      a: 1,
      get b() { return toJson({ inner: [1, 2] }); },
      c: { toJSON() { return toJson(new Map([[1, 2]])); } },
    };
    assert.deepEqual(rt(o), { a: 1, b: '{"inner":[1,2]}', c: '{"$map":[[1,2]]}' });
    const cyc = { get again() { return JSON.parse(toJson(cyc, 50)); } };
    assert.doesNotThrow(() => JSON.parse(toJson(cyc)));
  });

  test("a getter returning a fresh object forever is bounded by depth", () => {
    const make = () => ({ get next() { return make(); } });
    const s = toJson(make());
    assert.ok(s.includes("[MaxDepth]"));
    JSON.parse(s);
  });

  test("near the stack limit whatever it returns is valid JSON", () => {
    const value = { a: [{ b: { c: [1, 2, 3], d: new Map([[1, { e: 2 }]]) } }] };
    const results = [];
    // Call toJson at each of the ~300 frames closest to the stack limit, on the way back up.
    // (A call can still fail before toJson's first line runs, when not even its frame fits:
    // that is no different for any function, so those are skipped.)
    function recurse() {
      try {
        recurse();
      } catch {
        // the frame above ran out of stack
      }
      if (results.length < 300) {
        try {
          results.push(toJson(value));
        } catch {
          // the call itself did not fit
        }
      }
    }
    recurse();
    assert.ok(results.length > 0);
    for (const r of results) JSON.parse(r);
    assert.equal(results.at(-1), '{"a":[{"b":{"c":[1,2,3],"d":{"$map":[[1,{"e":2}]]}}}]}');
  });

  test("a plain object tagged Error is written as an error", () => {
    assert.deepEqual(rt({ [Symbol.toStringTag]: "Error", message: "m", code: 1 }),
      { name: "Error", message: "m", stack: "", code: 1 });
  });

  test("property: jsonValue inputs give exactly JSON.stringify", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const s = toJson(v);
        assert.deepStrictEqual(JSON.parse(s), JSON.parse(JSON.stringify(v)));
        assert.equal(s, JSON.stringify(v));
      }),
      { numRuns: 2000 },
    );
  });

  test("property: any UTF-16 string round-trips", () => {
    const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 300 });
    fc.assert(
      fc.property(utf16, (s) => {
        assert.equal(JSON.parse(toJson(s)), s);
        assert.equal(toJson(s), JSON.stringify(s));
      }),
      { numRuns: 2000 },
    );
  });

  test("property: anything() always gives valid JSON, with any budget", () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withTypedArray: true,
      withSparseArray: true,
      stringUnit: "binary",
      maxDepth: 6,
    });
    fc.assert(
      fc.property(anything, fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }), (v, max) => {
        const s = toJson(v, max);
        assert.equal(typeof s, "string");
        JSON.parse(s);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("writeUtf8: toJson's text as UTF-8 bytes, plain data only", () => {
  const utf8 = new TextEncoder();
  const view = new Uint8Array(1 << 20);
  /** The bytes writeUtf8 wrote, or null when it declined. */
  const written = (v, max, into = view) => {
    const n = writeUtf8(v, max, into);
    return n < 0 ? null : Array.from(into.subarray(0, n));
  };
  const expected = (v, max) => Array.from(utf8.encode(toJson(v, max)));

  test("plain data: exactly toJson's bytes (escapes, surrogates, numbers, undefined, null prototypes)", () => {
    const q = "What's the weather in Paris?";
    const bare = Object.create(null);
    bare.k = [1, undefined];
    const values = [
      [q], { steps: ["search", "answer"], question: q }, [[{ role: "user", content: q }, { role: "system", content: "search,answer" }]],
      "Sunny, 21 °C", "a\"b\\c\n\r\t\b\f\u0001\u001f\u007f\u2028 😀 \ud800x\udc00 \ud83d", "", [], {}, bare,
      [undefined, null, NaN, Infinity, -Infinity, -0, 1e21, 1.5e-7, 0.1, true, false], { a: undefined, b: 1, "k\"ey": { "😀": [] } },
      // Sparse arrays: holes are null.
      [1, , 3], // eslint-disable-line no-sparse-arrays
    ];
    for (const v of values) assert.deepEqual(written(v), expected(v), toJson(v));
    assert.deepEqual(written(undefined), expected(undefined));
  });

  test("property: jsonValue and any UTF-16 string, any budget: toJson's bytes, or declined where toJson cuts", () => {
    const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 60 });
    const plain = fc.oneof(fc.jsonValue(), utf16, fc.array(fc.oneof(utf16, fc.constant(undefined)), { maxLength: 5 }), fc.dictionary(utf16, fc.oneof(utf16, fc.constant(undefined), fc.jsonValue())));
    fc.assert(
      fc.property(plain, fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }), (v, max) => {
        const w = written(v, max);
        const text = toJson(v, max);
        if (max === undefined) assert.notEqual(w, null, "plain data within the default limits is written");
        if (w !== null) assert.deepEqual(w, expected(v, max));
        // Declined only where the text is not JSON.stringify's (a cut string, the budget), or
        // is longer than the output budget (twice maxBytes), which toJson checks only before
        // each member: there the writer declines rather than follow it.
        else assert.ok(text !== (JSON.stringify(v) ?? "null") || text.length > 2 * max, text);
      }),
      { numRuns: 3000 },
    );
  });

  test("property: long strings, plain or not (the encodeInto path and the loop): toJson's bytes", () => {
    // Mostly plain ASCII, sometimes a character the loop must handle, so that strings of
    // either kind cross the length from which plain ones go through encodeInto.
    const unit = fc.oneof(
      { weight: 30, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.constantFrom('"', "\\", "\n", "\u0001", "é", "中", "😀", "\ud800", "\udc00") },
    );
    const long = fc.string({ unit, minLength: 40, maxLength: 300 });
    fc.assert(
      fc.property(fc.oneof(long, fc.array(long, { maxLength: 3 }), fc.dictionary(long, long, { maxKeys: 2 })), (v) => {
        assert.deepEqual(written(v), expected(v));
      }),
      { numRuns: 2000 },
    );
  });

  test("property: anything() is toJson's bytes when written", () => {
    const anything = fc.anything({ withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true, withTypedArray: true, withSparseArray: true, stringUnit: "binary", maxDepth: 6 });
    fc.assert(
      fc.property(anything, fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }), (v, max) => {
        const w = written(v, max);
        if (w !== null) assert.deepEqual(w, expected(v, max));
      }),
      { numRuns: 2000 },
    );
  });

  test("property: a view of any size: toJson's bytes, or declined; nothing written past its end", () => {
    const backing = new Uint8Array(512);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 0, max: 200 }), (v, room) => {
        backing.fill(0xee);
        const n = writeUtf8(v, undefined, backing.subarray(0, room));
        if (n >= 0) assert.deepEqual(Array.from(backing.subarray(0, n)), expected(v));
        // A string asks for three bytes a unit and its quotes before it is written.
        else assert.ok(room < 3 * expected(v).length + 2, "declined though there was room");
        assert.ok(backing.subarray(room).every((b) => b === 0xee), "wrote past the view");
      }),
      { numRuns: 3000 },
    );
  });

  test("declines what toJson writes its own way", () => {
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    // 65 arrays: the innermost is at depth 64, a [MaxDepth] for toJson.
    let deep = [];
    for (let i = 0; i < 64; i++) deep = [deep];
    const ownToJSON = [1];
    ownToJSON.toJSON = () => "x";
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    class Point {
      x = 1;
    }
    const declined = [
      new Map([[1, 2]]), new Set([1]), new Date(0), 1n, () => 1, Symbol("s"), new Point(), { toJSON: () => 1 }, ownToJSON, cyclic, deep,
      new Error("e"), new Uint8Array(2), new URL("https://u:p@example.com/"), new Headers({ authorization: "x" }), proxy,
      { [Symbol.toStringTag]: "Error", message: "m" }, Object("boxed"), [() => 1], { f() {} }, { big: 2n },
    ];
    for (const v of declined) assert.equal(writeUtf8(v, 65536, view), -1, toJson(v));
    assert.equal(writeUtf8("x".repeat(11), 10, view), -1, "a string toJson cuts");
    assert.equal(writeUtf8(["x".repeat(8), "y".repeat(8), "z".repeat(8)], 10, view), -1, "over the output budget");
    assert.deepEqual(written(["x".repeat(4), "y".repeat(4)], 10), expected(["x".repeat(4), "y".repeat(4)], 10), "within it");
  });

  test("the output budget counts escapes as the text's characters: a text of exactly the budget is written, one more declines", () => {
    // maxBytes 10: strings up to 10 characters, a budget of 20 characters of text.
    for (const [unit, width] of [["\n", 2], ["\u0001", 6], ["\ud800", 6], ["\"", 2]]) {
      const k = Math.min(10, Math.floor(18 / width));
      const fits = unit.repeat(k) + "a".repeat(18 - k * width);
      assert.equal(toJson(fits, 10).length, 20, JSON.stringify(fits));
      assert.deepEqual(written(fits, 10), expected(fits, 10), JSON.stringify(fits));
      const over = [fits.slice(0, -1), "b"];
      if (toJson(over, 10).length > 20) assert.equal(writeUtf8(over, 10, view), -1, JSON.stringify(over));
      if (fits.length < 10) assert.equal(writeUtf8(fits + "c", 10, view), -1, JSON.stringify(fits + "c"));
    }
  });

  test("own keys only, in Object.keys order, with Object.prototype polluted", () => {
    Object.prototype.polluted = "inherited"; // eslint-disable-line no-extend-native
    try {
      const v = { b: 1, a: { 2: "two", 1: "one", z: [] }, [Symbol("s")]: 1 };
      Object.defineProperty(v, "hidden", { value: 1, enumerable: false });
      assert.deepEqual(written(v), expected(v));
      assert.equal(toJson(v), '{"b":1,"a":{"1":"one","2":"two","z":[]}}');
    } finally {
      delete Object.prototype.polluted;
    }
  });

  test("a getter is read once; one that throws declines (toJson writes its placeholder)", () => {
    let reads = 0;
    const counted = { get n() { return ++reads; } };
    assert.deepEqual(written(counted), Array.from(utf8.encode('{"n":1}')));
    assert.equal(reads, 1);
    const bad = { a: 1, get b() { throw new Error("no"); } };
    assert.equal(writeUtf8(bad, 65536, view), -1);
    assert.equal(toJson(bad), '{"a":1,"b":"[Thrown: no]"}');
  });

  test("declines without room, and inside a toJson (re-entrant: the caller's text comes first)", () => {
    // Room for three bytes a unit and the quotes is asked for before a string is written.
    assert.equal(writeUtf8("abc", 65536, new Uint8Array(10)), -1);
    assert.deepEqual(written("abc", 65536, new Uint8Array(11)), expected("abc"));
    assert.equal(writeUtf8("é".repeat(10), 65536, new Uint8Array(31)), -1);
    assert.equal(writeUtf8("\u0001", 65536, new Uint8Array(7)), -1, "an escape needs its six bytes");
    assert.deepEqual(written("\u0001", 65536, new Uint8Array(8)), expected("\u0001"));
    let inner;
    toJson({ toJSON: () => (inner = writeUtf8([1], 65536, view)) });
    assert.equal(inner, -1);
  });
});

describe("errorInfo", () => {
  test("Errors", () => {
    const e = new TypeError("x");
    assert.deepEqual(errorInfo(e), { name: "TypeError", message: "x", stack: e.stack });
    class MyErr extends Error {}
    const m = new MyErr("mine");
    assert.deepEqual(errorInfo(m), { name: "MyErr", message: "mine", stack: m.stack });
    class Named extends Error {
      constructor() {
        super("n");
        this.name = "CustomName";
      }
    }
    assert.equal(errorInfo(new Named()).name, "CustomName");
    const blank = new Error();
    assert.deepEqual(errorInfo(blank), { name: "Error", message: "", stack: blank.stack });
    const other = vm.runInNewContext("new RangeError('far')");
    assert.deepEqual(errorInfo(other), { name: "RangeError", message: "far", stack: other.stack });
  });

  test("thrown primitives", () => {
    assert.deepEqual(errorInfo("boom"), { name: "string", message: "boom", stack: "" });
    assert.deepEqual(errorInfo(42), { name: "number", message: "42", stack: "" });
    assert.deepEqual(errorInfo(undefined), { name: "undefined", message: "undefined", stack: "" });
    assert.deepEqual(errorInfo(null), { name: "null", message: "null", stack: "" });
    assert.deepEqual(errorInfo(Symbol("s")), { name: "symbol", message: "Symbol(s)", stack: "" });
    assert.deepEqual(errorInfo(5n), { name: "bigint", message: "5", stack: "" });
    assert.deepEqual(errorInfo(function fx() {}), { name: "function", message: "[Function: fx]", stack: "" });
  });

  test("thrown non-Error objects", () => {
    assert.deepEqual(errorInfo({ code: 5, detail: "bad" }), { name: "Object", message: '{"code":5,"detail":"bad"}', stack: "" });
    assert.deepEqual(errorInfo({ message: "has one", name: "ApiError" }), { name: "ApiError", message: "has one", stack: "" });
    class Failure {
      constructor() {
        this.reason = "r";
      }
    }
    assert.deepEqual(errorInfo(new Failure()), { name: "Failure", message: '{"reason":"r"}', stack: "" });
    assert.deepEqual(errorInfo(Object.create(null)), { name: "Object", message: "{}", stack: "" });
    const long = errorInfo({ text: "z".repeat(5000) });
    assert.equal(long.message.length, 1000);
    assert.ok(long.message.startsWith('{"text":"zzz'));
    const cyc = { a: 1 };
    cyc.self = cyc;
    assert.deepEqual(errorInfo(cyc), { name: "Object", message: '{"a":1,"self":"[Circular]"}', stack: "" });
  });

  test("hostile thrown values never throw", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const info = errorInfo(proxy);
    assert.equal(info.name, "Object");
    assert.equal(typeof info.message, "string");
    assert.match(info.message, /\[Thrown: /);
    assert.equal(info.stack, "");

    const e = new Error("x");
    void e.stack;
    for (const k of ["stack", "name", "message", "constructor"]) {
      Object.defineProperty(e, k, { get() { throw new Error("no " + k); } });
    }
    const i2 = errorInfo(e);
    assert.deepEqual(i2, { name: "Error", message: "", stack: "" });

    const weird = { toString() { throw new Error("no toString"); }, [Symbol.toPrimitive]() { throw new Error("no"); } };
    assert.equal(errorInfo(weird).name, "Object");
    const trap = new Proxy({}, { get() { throw new Error("trap"); }, getPrototypeOf() { throw new Error("proto"); } });
    assert.doesNotThrow(() => errorInfo(trap));
    for (const v of [proxy, e, weird, trap]) {
      const r = errorInfo(v);
      assert.equal(typeof r.name, "string");
      assert.equal(typeof r.message, "string");
      assert.equal(typeof r.stack, "string");
    }
  });
});
