// The public API in Node, from the installed tarball: wrapped functions behave exactly like
// the originals, and the local store holds the exact span tree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importPackage } from "../support/package.mjs";

const { init, trace, span, flush, readLocal, currentTraceId, currentSpanId, AgensightError } = await importPackage();

/** Fresh in-memory store; returns a function that flushes and reads it back. */
function fresh(options = {}) {
  init({ storage: "memory", ...options });
  return async () => {
    const result = await flush();
    assert.deepEqual(result, { exported: 0, failed: 0, pending: 0, dropped: 0 });
    return readLocal();
  };
}

const tick = () => new Promise((r) => setTimeout(r, Math.random() * 3));

function chatCompletion(id, content, toolCall) {
  return {
    id,
    object: "chat.completion",
    created: 1700000000,
    model: "gpt-4o-mini-2024-07-18",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content, ...(toolCall ? { tool_calls: [toolCall] } : {}) },
        finish_reason: toolCall ? "tool_calls" : "stop",
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
  };
}

test("the docs example: a trace with two LLM spans, stored in .agensight as JSON lines", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-"));
  init({ name: "chat-service", dir, session: "user_456" });
  let n = 0;
  const callLlm = span(
    async (messages) => {
      await tick();
      n++;
      return chatCompletion(`chatcmpl-${n}`, n === 1 ? null : "It is sunny.", n === 1 ? { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } } : undefined);
    },
    { name: "llm" },
  );
  const main = trace(
    async (question) => {
      const first = await callLlm([{ role: "user", content: question }]);
      const second = await callLlm([{ role: "user", content: question }, first.choices[0].message, { role: "tool", tool_call_id: "call_1", content: "sunny" }]);
      return second.choices[0].message.content;
    },
    { name: "multi_agent_chat", session: { id: "xyz123", name: "multi agent chat", user_id: "123" }, metadata: { plan: "pro" } },
  );
  assert.equal(await main("Weather in Paris?"), "It is sunny.");
  await flush();

  assert.deepEqual(readdirSync(dir), ["traces.jsonl"]);
  const lines = readFileSync(join(dir, "traces.jsonl"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.type), ["session", "trace", "span", "span", "prompt", "completion", "tool", "span", "prompt", "prompt", "prompt", "completion"]);

  const { sessions, traces, skipped } = readLocal({ dir });
  assert.equal(skipped, 0);
  assert.deepEqual(sessions.map((s) => [s.id, s.session_name, s.user_id, s.mode]), [["xyz123", "multi agent chat", "123", "local"]]);
  assert.equal(traces.length, 1);
  const t = traces[0];
  assert.match(t.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual([t.name, t.session_id, t.total_tokens, t.status, t.metadata], ["multi_agent_chat", "xyz123", 40, "ok", { plan: "pro" }]);
  const [root, a, b] = t.spans;
  assert.deepEqual(t.spans.map((s) => [s.name, s.kind, s.status, s.depth, s.parent_id]), [
    ["multi_agent_chat", "trace", "ok", 0, null],
    ["llm", "llm", "ok", 1, root.id],
    ["llm", "llm", "ok", 1, root.id],
  ]);
  for (const s of t.spans) {
    assert.match(s.id, /^[0-9a-f]{16}$/);
    assert.equal(s.trace_id, t.id);
    assert.ok(s.duration >= 0 && Math.abs(s.duration - (s.ended_at - s.started_at)) < 1e-6);
    assert.equal(s.attributes["service.name"], "chat-service");
  }
  assert.ok(root.started_at <= a.started_at && a.ended_at <= b.started_at && b.ended_at <= root.ended_at);
  assert.deepEqual(root.attributes.input, ["Weather in Paris?"]);
  assert.equal(root.attributes.output, "It is sunny.");
  assert.deepEqual(a.attributes.input, [[{ role: "user", content: "Weather in Paris?" }]]);
  assert.equal(a.attributes["gen_ai.system"], "openai");
  assert.equal(a.attributes["gen_ai.response.model"], "gpt-4o-mini-2024-07-18");
  assert.deepEqual([a.attributes["gen_ai.usage.input_tokens"], a.attributes["gen_ai.usage.output_tokens"], a.attributes["gen_ai.usage.total_tokens"]], [12, 8, 20]);
  assert.deepEqual(a.prompts, [{ span_id: a.id, role: "user", content: "Weather in Paris?", message_index: 0 }]);
  assert.deepEqual(a.completions, [{ span_id: a.id, role: "assistant", content: "", finish_reason: "tool_calls", total_tokens: 20, prompt_tokens: 12, completion_tokens: 8 }]);
  assert.deepEqual(a.tools, [{ span_id: a.id, name: "get_weather", arguments: '{"city":"Paris"}' }]);
  assert.deepEqual(b.prompts.map((p) => [p.role, p.message_index]), [["user", 0], ["assistant", 1], ["tool", 2]]);
  assert.deepEqual(b.completions.map((c) => [c.content, c.finish_reason]), [["It is sunny.", "stop"]]);
  assert.deepEqual(b.tools, []);
});

test("sync functions stay sync; results and thrown errors are the originals", async () => {
  const read = fresh();
  const obj = { id: 1 };
  const same = span(function same(x) {
    return x;
  });
  const r = same(obj);
  assert.equal(r, obj, "same object, not a copy, not a Promise");
  const err = new RangeError("out of range");
  const thrower = span(() => {
    throw err;
  }, "thrower");
  assert.throws(() => thrower(), (e) => e === err);
  const thrownString = span(() => {
    throw "just a string";
  }, "thrown-string");
  assert.throws(() => thrownString(), (e) => e === "just a string");
  const { traces } = await read();
  assert.deepEqual(traces.map((t) => [t.name, t.status]), [["same", "ok"], ["thrower", "error"], ["thrown-string", "error"]]);
  assert.deepEqual(traces[0].spans[0].attributes.output, { id: 1 });
  const e = traces[1].spans[0].attributes;
  assert.deepEqual([e["error.type"], e["error.message"]], ["RangeError", "out of range"]);
  assert.equal(e["error.stack"], err.stack);
  assert.equal(e.output, undefined);
  assert.deepEqual([traces[2].spans[0].attributes["error.type"], traces[2].spans[0].attributes["error.message"]], ["string", "just a string"]);
});

test("async results and rejections pass through unchanged", async () => {
  const read = fresh();
  const err = new TypeError("nope");
  const ok = span(async (x) => (await tick(), x * 2), "ok");
  const bad = span(async () => {
    await tick();
    throw err;
  }, "bad");
  const p = ok(21);
  assert.ok(p instanceof Promise);
  assert.equal(await p, 42);
  await assert.rejects(bad(), (e) => e === err);
  // A thenable that is not a native Promise is handed back as the same object.
  class ApiPromise extends Promise {
    withResponse() {
      return "extra method";
    }
  }
  const custom = span(() => ApiPromise.resolve(7), "custom");
  const c = custom();
  assert.ok(c instanceof ApiPromise);
  assert.equal(c.withResponse(), "extra method");
  assert.equal(await c, 7);
  await tick();
  const { traces } = await read();
  assert.deepEqual(traces.map((t) => [t.name, t.status, t.spans[0].attributes.output ?? null]), [["ok", "ok", 42], ["bad", "error", null], ["custom", "ok", 7]]);
  assert.equal(traces[1].spans[0].attributes["error.type"], "TypeError");
});

test("`this`, arguments, name and length are kept", async () => {
  const read = fresh();
  const counter = {
    count: 10,
    add: span(function add(a, b) {
      return this.count + a + b;
    }),
  };
  assert.equal(counter.add(1, 2), 13);
  assert.equal(counter.add.name, "add");
  assert.equal(counter.add.length, 2);
  class Box {
    constructor(v) {
      this.v = v;
    }
  }
  const TracedBox = span(Box);
  assert.equal(new TracedBox(3).v, 3, "constructing through the wrapper works");
  const { traces } = await read();
  assert.deepEqual(traces[0].spans[0].attributes.input, [1, 2]);
});

test("nesting: trace inside a trace is a child; span outside a trace starts one", async () => {
  const read = fresh();
  const leaf = span(async () => (await tick(), currentSpanId()), "leaf");
  const inner = trace(async () => leaf(), "inner");
  const outer = trace(async () => {
    const id = currentTraceId();
    await inner();
    return id;
  }, "outer");
  const traceId = await outer();
  const lone = await leaf();
  assert.equal(currentTraceId(), undefined);
  const { traces } = await read();
  assert.equal(traces.length, 2);
  const [t1, t2] = traces;
  assert.equal(t1.id, traceId);
  assert.deepEqual(t1.spans.map((s) => [s.name, s.kind, s.depth]), [["outer", "trace", 0], ["inner", "trace", 1], ["leaf", "span", 2]]);
  assert.equal(t1.spans[1].parent_id, t1.spans[0].id);
  assert.equal(t1.spans[2].parent_id, t1.spans[1].id);
  assert.deepEqual(t2.spans.map((s) => [s.name, s.parent_id]), [["leaf", null]]);
  assert.equal(t2.name, "leaf");
  assert.equal(t2.spans[0].id, lone, "currentSpanId() inside is the span's id");
});

test("sessions: init's default, a trace's own for that trace only", async () => {
  const read = fresh({ session: { id: "init-session", user_id: "u1" } });
  const plain = trace(() => 1, "plain");
  const own = trace(() => 2, { name: "own", session: "trace-session" });
  const obj = trace(() => 3, { name: "obj", session: { id: "s-obj", name: "Named", user_id: "u2" } });
  plain();
  own();
  plain();
  obj();
  plain();
  const { traces, sessions } = await read();
  assert.deepEqual(traces.map((t) => [t.name, t.session_id]), [["plain", "init-session"], ["own", "trace-session"], ["plain", "init-session"], ["obj", "s-obj"], ["plain", "init-session"]]);
  assert.deepEqual(sessions.map((s) => [s.id, s.session_name, s.user_id]), [["init-session", null, "u1"], ["trace-session", null, null], ["s-obj", "Named", "u2"]]);
  // No session anywhere: traces have none.
  const read2 = fresh();
  trace(() => 0, "none")();
  assert.equal((await read2()).traces[0].session_id, null);
  assert.throws(() => trace(() => 0, { session: { name: "no id" } }), (e) => e instanceof AgensightError && e.code === "invalid_option" && /session needs a non-empty `id`/.test(e.message));
});

test("200 concurrent traces with interleaved awaits: every span under its own parent", async () => {
  const read = fresh();
  const step = span(async (i, k) => {
    await tick();
    return `${i}.${k}`;
  }, "step");
  const job = trace(async (i) => {
    const a = await step(i, 1);
    await tick();
    const [b, c] = await Promise.all([step(i, 2), step(i, 3)]);
    return [a, b, c, currentTraceId()];
  }, "job");
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => job(i)));
  results.forEach((r, i) => assert.deepEqual(r.slice(0, 3), [`${i}.1`, `${i}.2`, `${i}.3`]));
  const { traces } = await read();
  assert.equal(traces.length, 200);
  const byId = new Map(traces.map((t) => [t.id, t]));
  results.forEach(([, , , traceId], i) => {
    const t = byId.get(traceId);
    assert.deepEqual(t.spans[0].attributes.input, [i]);
    const children = t.spans.slice(1);
    assert.equal(children.length, 3);
    for (const c of children) {
      assert.equal(c.parent_id, t.spans[0].id);
      assert.equal(c.attributes.input[0], i, "child recorded under the trace of its own job");
    }
  });
});

test("another AsyncLocalStorage in the app (OpenTelemetry's, a framework's): each keeps its own store across awaits, every span under its own parent", async () => {
  const { AsyncLocalStorage } = await import("node:async_hooks");
  const other = new AsyncLocalStorage();
  const read = fresh();
  const step = span(async (k) => {
    await tick();
    return [k, other.getStore()];
  }, "step");
  const job = trace(
    (i) =>
      other.run({ i }, async () => {
        const a = await step(1);
        const [b, c] = await Promise.all([step(2), other.run({ i, inner: true }, () => step(3))]);
        await tick();
        return [a, b, c, other.getStore(), currentTraceId()];
      }),
    "job",
  );
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => other.run({ outer: i }, () => job(i))));
  assert.equal(other.getStore(), undefined);
  assert.equal(currentTraceId(), undefined);
  results.forEach((r, i) => assert.deepEqual(r.slice(0, 4), [[1, { i }], [2, { i }], [3, { i, inner: true }], { i }]));
  const { traces } = await read();
  assert.equal(traces.length, 50);
  const byId = new Map(traces.map((t) => [t.id, t]));
  results.forEach((r, i) => {
    const t = byId.get(r[4]);
    assert.deepEqual(t.spans[0].attributes.input, [i]);
    const children = t.spans.slice(1);
    assert.deepEqual(children.map((c) => c.attributes.input[0]).sort(), [1, 2, 3]);
    for (const c of children) assert.equal(c.parent_id, t.spans[0].id);
  });
});

test("async spans settling in any order, more at once than the reused callbacks: each ends with its own result or error", async () => {
  const read = fresh();
  // Resolved, rejected, at once or after a random timer: the order they settle in is mixed.
  const step = span(async (k) => {
    if (k % 3 !== 0) await tick();
    if (k % 5 === 0) throw new RangeError(`fail ${k}`);
    return { k, square: k * k };
  }, "step");
  const job = trace(async (n) => (await Promise.allSettled(Array.from({ length: n }, (_, k) => step(k)))).length, "job");
  // 150 in flight at once (past the 64 pairs kept for reuse), then waves that reuse them.
  assert.deepEqual(await Promise.all([job(150), job(7)]), [150, 7]);
  for (let wave = 0; wave < 3; wave++) assert.equal(await job(100), 100);
  const { traces } = await read();
  assert.equal(traces.length, 5);
  for (const t of traces) {
    const n = t.spans[0].attributes.input[0];
    assert.equal(t.spans.length, n + 1);
    const seen = new Set();
    for (const s of t.spans.slice(1)) {
      const [k] = s.attributes.input;
      seen.add(k);
      if (k % 5 === 0) {
        assert.deepEqual([s.status, s.attributes["error.type"], s.attributes["error.message"], s.attributes.output], ["error", "RangeError", `fail ${k}`, undefined]);
      } else {
        assert.deepEqual([s.status, s.attributes.output], ["ok", { k, square: k * k }], `span ${k} ends with its own result`);
      }
    }
    assert.equal(seen.size, n);
  }
});

test("a native Promise with a then of its own that calls back twice: its span ends once, later async spans keep their own results", async () => {
  const read = fresh();
  // A misbehaving patch (say an instrumentation library's): the reused callbacks must not be
  // handed to it, or the second call would end whichever span reused them next.
  const twice = (value) => {
    const p = Promise.resolve(value);
    p.then = function (ok, fail) {
      const derived = Promise.prototype.then.call(this, ok, fail);
      Promise.prototype.then.call(this, ok, fail).catch(() => {});
      return derived;
    };
    return p;
  };
  const patched = span(() => twice({ patched: true }), "patched");
  const step = span(async (k) => {
    await tick();
    return { k };
  }, "step");
  const job = trace(async () => {
    assert.deepEqual(await patched(), { patched: true });
    return (await Promise.all(Array.from({ length: 20 }, (_, k) => step(k)))).length;
  }, "job");
  assert.equal(await job(), 20);
  const { traces } = await read();
  const spans = traces[0].spans.slice(1);
  assert.deepEqual(spans.filter((s) => s.name === "patched").map((s) => [s.status, s.attributes.output]), [["ok", { patched: true }]]);
  const steps = spans.filter((s) => s.name === "step");
  assert.equal(steps.length, 20);
  for (const s of steps) assert.deepEqual(s.attributes.output, { k: s.attributes.input[0] }, "each step ends with its own result");
});

test("bad values to capture: a valid record, never a throw", async () => {
  const read = fresh();
  const cyclic = { name: "loop" };
  cyclic.self = cyclic;
  const throwingGetter = {
    get boom() {
      throw new Error("getter failed");
    },
    ok: 1,
  };
  const badToJson = { toJSON() {
    throw new Error("toJSON failed");
  } };
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const values = [cyclic, 10n, Symbol("s"), () => 1, new Map([["k", 1]]), new Set([1]), new Date(0), new Error("e", { cause: "c" }), throwingGetter, badToJson, proxy, "\ud800 lone", undefined];
  const echo = span((...args) => args.length, "echo");
  assert.equal(echo(...values), values.length);
  const back = span(() => proxy, "back");
  assert.equal(back(), proxy);
  const { traces } = await read();
  const input = traces[0].spans[0].attributes.input;
  assert.equal(input.length, values.length);
  assert.equal(input[0].self, "[Circular]");
  assert.equal(input[1], "10");
  assert.equal(input[2], "Symbol(s)");
  assert.deepEqual(input[4], { $map: [["k", 1]] });
  assert.deepEqual(input[5], { $set: [1] });
  assert.equal(input[6], "1970-01-01T00:00:00.000Z");
  assert.equal(input[7].message, "e");
  assert.equal(input[8].ok, 1);
  assert.match(input[8].boom, /getter failed/);
  assert.match(input[9], /toJSON failed/);
  assert.equal(input[11], "\ud800 lone");
  assert.equal(input[12], null);
  assert.equal(traces[1].status, "ok");
});

test("a getter that runs a traced call while its value is captured: each span keeps its own values, the getter runs once", async () => {
  const read = fresh();
  const inner = span((x) => ({ doubled: x * 2, note: "inner ünï 😀" }), "inner");
  let reads = 0;
  const arg = {
    a: "outer value",
    get b() {
      reads++;
      return inner(21).doubled;
    },
  };
  const outer = trace((o) => ({ echoed: o.a, text: "outer 21 °C" }), "outer");
  assert.deepEqual(outer(arg), { echoed: "outer value", text: "outer 21 °C" });
  assert.equal(reads, 1);
  const { traces } = await read();
  const byName = Object.fromEntries(traces.map((t) => [t.name, t.spans[0].attributes]));
  assert.deepEqual(Object.keys(byName).sort(), ["inner", "outer"]);
  assert.deepEqual(byName.inner.input, [21]);
  assert.deepEqual(byName.inner.output, { doubled: 42, note: "inner ünï 😀" });
  assert.deepEqual(byName.outer.input, [{ a: "outer value", b: 42 }]);
  assert.deepEqual(byName.outer.output, { echoed: "outer value", text: "outer 21 °C" });
});

test("big values are cut to maxFieldBytes and stay valid JSON", async () => {
  const read = fresh({ maxFieldBytes: 1000 });
  const big = span((s) => ({ text: s, more: Array.from({ length: 1000 }, (_, i) => i) }), "big");
  big("x".repeat(1_000_000));
  const { traces } = await read();
  const a = traces[0].spans[0].attributes;
  assert.ok(JSON.stringify(a.input).length <= 1000);
  assert.ok(JSON.stringify(a.output).length <= 1000);
  assert.ok(a.input[0].endsWith("…"));
  assert.equal(a.truncated, true);
});

test("secrets in captured values are masked by default", async () => {
  const read = fresh({ token: "proj-token-123456" });
  const call = span((req) => ({ ok: true, echoed: req.note }), "call");
  call({ headers: { Authorization: "Bearer sk-abcdefghijklmnopqrstuvwxyz" }, apiKey: "whatever", note: "token proj-token-123456 and key sk-ant-api03-abcdefghijklmnopqrstuvwxyz" });
  const { traces } = await read();
  const text = JSON.stringify(traces);
  assert.ok(!text.includes("proj-token-123456"));
  assert.ok(!text.includes("sk-abcdefghij"));
  assert.ok(!text.includes("sk-ant-api03"));
  assert.deepEqual(traces[0].spans[0].attributes.input, [{ headers: { Authorization: "[REDACTED]" }, apiKey: "[REDACTED]", note: "token [REDACTED] and key [REDACTED]" }]);
  // A redact function adds to the built-in patterns (issue 15): both apply.
  const read2 = fresh({ redact: (v) => JSON.parse(JSON.stringify(v).replaceAll("secret", "***")) });
  span((x) => x, "f")("a secret, sk-abcdefghijklmnopqrstuvwxyz");
  const t2 = (await read2()).traces[0].spans[0].attributes;
  assert.deepEqual([t2.input, t2.output], [["a ***, [REDACTED]"], "a ***, [REDACTED]"]);
});

test("capture can be turned off", async () => {
  const read = fresh({ capture: { input: false } });
  span((x) => x + 1, "f")(1);
  const a = (await read()).traces[0].spans[0].attributes;
  assert.deepEqual([a.input, a.output], [undefined, 2]);
});

test("async iterables: the span ends when the stream is consumed, with its items", async () => {
  const read = fresh();
  const stream = span(async function* tokens(n) {
    for (let i = 0; i < n; i++) {
      await tick();
      yield `t${i}`;
    }
  });
  const got = [];
  for await (const t of stream(3)) got.push(t);
  assert.deepEqual(got, ["t0", "t1", "t2"]);
  // Stopped early: the span ends at `break`.
  for await (const t of stream(5)) if (t === "t1") break;
  const failing = span(async function* failing() {
    yield 1;
    throw new Error("stream broke");
  });
  await assert.rejects(async () => {
    for await (const _ of failing());
  }, /stream broke/);
  const { traces } = await read();
  assert.deepEqual(traces.map((t) => [t.name, t.status, t.spans[0].attributes.output ?? null]), [
    ["tokens", "ok", ["t0", "t1", "t2"]],
    ["tokens", "ok", ["t0", "t1"]],
    ["failing", "error", null],
  ]);
});

test("a child started after its parent ended still joins the trace", async () => {
  const read = fresh();
  let later;
  const child = span(() => "late", "child");
  const parent = trace(() => {
    later = new Promise((r) => setTimeout(() => r(child()), 5));
    return "done";
  }, "parent");
  assert.equal(parent(), "done");
  assert.equal(await later, "late");
  const { traces } = await read();
  assert.equal(traces.length, 1);
  assert.deepEqual(traces[0].spans.map((s) => [s.name, s.depth]), [["parent", 0], ["child", 1]]);
});

test("init validates options with AgensightError and a code", () => {
  const cases = [
    [{ mode: "production" }, "invalid_mode", /"local", "dev" or "prod"/],
    [{ mode: "prod" }, "missing_token", /needs your project token/],
    [{ name: 42 }, "invalid_option", /`name` must be a string, got a number/],
    [{ sampleRate: "all" }, "invalid_option", /`sampleRate` must be a number from 0 to 1/],
    [{ mode: "prod", token: "t", endpoint: "http://example.com/api" }, "insecure_endpoint", /use https/],
    [{ sesion: "typo" }, "invalid_option", /unknown option `sesion`/],
    [{ headers: { a: 1n } }, "invalid_option", /plain data/],
  ];
  for (const [options, code, message] of cases) {
    assert.throws(() => init(options), (e) => e instanceof AgensightError && e instanceof Error && e.name === "AgensightError" && e.code === code && message.test(e.message), JSON.stringify(options, (_, v) => (typeof v === "bigint" ? `${v}n` : v)));
  }
  assert.throws(() => init("local"), (e) => e instanceof AgensightError && e.code === "invalid_option");
  assert.throws(() => span(42), TypeError);
});

test("a torn last line in the store is skipped, not fatal", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-"));
  init({ dir });
  trace(() => 1, "whole")();
  await flush();
  appendFileSync(join(dir, "traces.jsonl"), '{"type":"span","data":{"id":"abc');
  const { traces, skipped } = readLocal({ dir });
  assert.equal(skipped, 1);
  assert.deepEqual(traces.map((t) => t.name), ["whole"]);
});
