// Export as OTLP/HTTP JSON: a real receiver on 127.0.0.1 parses every request strictly against
// the OTLP protobuf schema; the spans, parent links and GenAI attributes are exact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "../support/package.mjs";
import { attrs, otlpReceiver } from "./receivers.mjs";
import OpenAI from "openai";
import { startServer, fixture } from "../llm/server.mjs";

const { init, trace, span, flush, wrapOpenAI } = await importPackage();

test("prod otlp: one strict OTLP request with the span tree and GenAI attributes", async () => {
  const rx = await otlpReceiver();
  try {
    init({ name: "chat-service", mode: "prod", exporter: "otlp", endpoint: rx.url, headers: { "x-api-key": "collector-key" }, storage: "memory", session: { id: "s-1", user_id: "u-1" } });
    const llm = span(async (messages) => ({
      id: "chatcmpl-9",
      object: "chat.completion",
      model: "gpt-4o-2024-08-06",
      choices: [{ index: 0, message: { role: "assistant", content: "Hi!" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9, prompt_tokens_details: { cached_tokens: 3 } },
    }), "llm");
    const tool = span(() => {
      throw new TypeError("tool broke");
    }, { name: "lookup", kind: "tool" });
    const main = trace(async () => {
      await llm({ model: "gpt-4o", temperature: 0.2, messages: [{ role: "user", content: "Hello" }] });
      try {
        tool();
      } catch {}
      return "done";
    }, "main");
    await main();
    assert.deepEqual(await flush(), { exported: 3, failed: 0, pending: 0, dropped: 0 });

    assert.equal(rx.requests.length, 1);
    assert.equal(rx.calls[0].headers["x-api-key"], "collector-key");
    const spans = rx.spans();
    assert.deepEqual(attrs(spans[0].resource.attributes), {
      "service.name": "chat-service",
      "telemetry.sdk.name": "agensight-wasm",
      "telemetry.sdk.language": "webjs",
      "telemetry.sdk.version": "0.1.0",
      "deployment.environment.name": "prod",
      "openinference.project.name": "chat-service",
    });
    const [root, l, t] = spans;
    assert.match(root.traceId, /^[0-9a-f]{32}$/);
    assert.match(root.spanId, /^[0-9a-f]{16}$/);
    assert.ok(spans.every((s) => s.traceId === root.traceId));
    assert.deepEqual([root.parentSpanId, l.parentSpanId, t.parentSpanId], [undefined, root.spanId, root.spanId]);
    assert.deepEqual([root.name, root.kind, root.status], ["main", 1, { code: 1 }]);
    assert.ok(BigInt(root.endTimeUnixNano) >= BigInt(root.startTimeUnixNano));
    assert.ok(Math.abs(Number(BigInt(root.startTimeUnixNano) / 1000000n) - Date.now()) < 60000, "times are ns since the epoch");
    const ra = attrs(root.attributes);
    assert.deepEqual([ra["agensight.trace.total_tokens"], ra["gen_ai.conversation.id"], ra["user.id"], ra["output.value"]], [9, "s-1", "u-1", '"done"']);
    assert.equal(l.kind, 3, "an LLM call is a CLIENT span");
    const la = attrs(l.attributes);
    assert.deepEqual(
      [la["gen_ai.operation.name"], la["gen_ai.system"], la["gen_ai.request.model"], la["gen_ai.response.model"], la["gen_ai.request.temperature"], la["gen_ai.usage.input_tokens"], la["gen_ai.usage.output_tokens"], la["gen_ai.usage.cache_read.input_tokens"], la["gen_ai.response.finish_reasons"], JSON.parse(la["gen_ai.input.messages"]), JSON.parse(la["gen_ai.output.messages"]), la["openinference.span.kind"]],
      ["chat", "openai", "gpt-4o", "gpt-4o-2024-08-06", 0.2, 7, 2, 3, ["stop"], [{ role: "user", parts: [{ type: "text", content: "Hello" }] }], [{ role: "assistant", parts: [{ type: "text", content: "Hi!" }], finish_reason: "stop" }], "LLM"],
    );
    // The deprecated indexed attributes are the Agensight dialect's only (docs/records.md).
    assert.deepEqual(Object.keys(la).filter((k) => /^gen_ai\.(prompt|completion)\./.test(k)), []);
    const ta = attrs(t.attributes);
    assert.deepEqual([ta["gen_ai.operation.name"], ta["gen_ai.tool.name"]], ["execute_tool", "lookup"]);
    assert.deepEqual(t.status, { code: 2, message: "tool broke" });
    assert.equal(t.events[0].name, "exception");
    assert.deepEqual(Object.keys(attrs(t.events[0].attributes)), ["exception.type", "exception.message", "exception.stacktrace"]);
    assert.equal(attrs(t.events[0].attributes)["exception.type"], "TypeError");
  } finally {
    await rx.close();
  }
});

test("a wrapOpenAI tool round: each tool span carries the id of the model's call it answers", async () => {
  const rx = await otlpReceiver();
  const srv = await startServer();
  try {
    init({ name: "tools", mode: "prod", exporter: "otlp", endpoint: rx.url, storage: "memory" });
    const openai = wrapOpenAI(new OpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, maxRetries: 0 }));
    const f = fixture("openai-chat-tools");
    srv.reply({ json: f.response });
    const tools = {
      get_weather: span(async ({ city }) => ({ city, celsius: 21 }), { name: "get_weather", kind: "tool" }),
      get_time: span(async () => "12:00", { name: "get_time", kind: "tool" }),
    };
    const main = trace(async () => {
      const r = await openai.chat.completions.create(f.request);
      // The tools run in parallel, in the other order than the model listed them.
      const calls = [...r.choices[0].message.tool_calls].reverse();
      await Promise.all(calls.map((c) => tools[c.function.name](JSON.parse(c.function.arguments))));
    }, "main");
    await main();
    assert.deepEqual(await flush(), { exported: 4, failed: 0, pending: 0, dropped: 0 });
    const returned = Object.fromEntries(f.response.choices[0].message.tool_calls.map((c) => [c.function.name, c.id]));
    assert.deepEqual(
      rx.spans().map((s) => [s.name, attrs(s.attributes)["gen_ai.tool.call.id"], attrs(s.attributes)["tool.id"]]),
      [
        ["main", undefined, undefined],
        ["openai.chat.completions.create", undefined, undefined],
        ["get_time", returned.get_time, returned.get_time],
        ["get_weather", returned.get_weather, returned.get_weather],
      ],
    );
  } finally {
    await srv.close();
    await rx.close();
  }
});

test("a custom fetch carries the requests", async () => {
  const rx = await otlpReceiver();
  try {
    const seen = [];
    const myFetch = (req, init) => {
      seen.push(req.url);
      return fetch(req, init);
    };
    init({ mode: "prod", exporter: "otlp", endpoint: rx.url, storage: "memory", fetch: myFetch });
    trace(() => 1, "via-custom-fetch")();
    assert.deepEqual(await flush(), { exported: 1, failed: 0, pending: 0, dropped: 0 });
    assert.deepEqual(seen, [rx.url]);
    assert.equal(rx.spans()[0].name, "via-custom-fetch");
  } finally {
    await rx.close();
  }
});

test("a custom fetch that throws or resolves to something that is not a Response: a network failure, retried; nothing thrown into the app", async (t) => {
  const warnings = [];
  t.mock.method(console, "warn", (...a) => warnings.push(a.join(" ")));
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  const rx = await otlpReceiver();
  try {
    let n = 0;
    const myFetch = (req, init) => {
      n++;
      if (n === 1) throw new TypeError("custom fetch broke synchronously");
      if (n === 2) return Promise.resolve({ ok: true, note: "not a Response" });
      return fetch(req, init);
    };
    init({ mode: "dev", exporter: "otlp", endpoint: rx.url, storage: "memory", fetch: myFetch, queue: { batchDelayMs: 0 } });
    assert.equal(trace(() => 42, "via-flaky-fetch")(), 42);
    assert.deepEqual(await flush(), { exported: 1, failed: 0, pending: 0, dropped: 0 });
    assert.equal(n, 3, "two failures, then the retry that worked");
    assert.equal(rx.calls.length, 1);
    assert.equal(rx.spans()[0].name, "via-flaky-fetch");
    assert.ok(warnings.some((w) => w.includes("could not be reached: custom fetch broke synchronously; retrying")), warnings.join("\n"));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
    await rx.close();
  }
});

test("without the fetch option, the global fetch is the one there at send time", async () => {
  const rx = await otlpReceiver();
  const original = globalThis.fetch;
  try {
    init({ mode: "prod", exporter: "otlp", endpoint: rx.url, storage: "memory" });
    const seen = [];
    globalThis.fetch = (req, init) => {
      seen.push(req.url);
      return original(req, init);
    };
    trace(() => 1, "via-later-global-fetch")();
    assert.deepEqual(await flush(), { exported: 1, failed: 0, pending: 0, dropped: 0 });
    assert.deepEqual(seen, [rx.url]);
  } finally {
    globalThis.fetch = original;
    await rx.close();
  }
});

test("many traces are batched into few requests", async () => {
  const rx = await otlpReceiver();
  try {
    init({ mode: "prod", exporter: "otlp", endpoint: rx.url, storage: "memory", queue: { maxBatchSpans: 100 } });
    const job = trace(async (i) => i, "job");
    await Promise.all(Array.from({ length: 250 }, (_, i) => job(i)));
    assert.deepEqual(await flush(), { exported: 250, failed: 0, pending: 0, dropped: 0 });
    assert.deepEqual(rx.requests.map((r) => r.resourceSpans[0].scopeSpans[0].spans.length), [100, 100, 50]);
    assert.equal(new Set(rx.spans().map((s) => s.spanId)).size, 250);
  } finally {
    await rx.close();
  }
});

test("the strict parser refuses what the OTLP schema does not allow", async () => {
  const { parseOtlpRequest } = await import("./otlp-proto.mjs");
  const span = (extra) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "0".repeat(31) + "1", spanId: "0".repeat(15) + "1", name: "s", kind: 1, startTimeUnixNano: "1", endTimeUnixNano: "2", ...extra }] }] }] });
  assert.equal(parseOtlpRequest(span({})).resourceSpans[0].scopeSpans[0].spans[0].name, "s");
  assert.throws(() => parseOtlpRequest(span({ unknownField: 1 })), /not a field of Span/);
  assert.throws(() => parseOtlpRequest(span({ kind: "SPAN_KIND_INTERNAL" })), /enum must be one of its integers/);
  assert.throws(() => parseOtlpRequest(span({ traceId: "AAAAAAAAAAAAAAAAAAAAAA==" })), /as lowercase hex/);
  assert.throws(() => parseOtlpRequest(span({ startTimeUnixNano: 1.5 })), /64-bit integer/);
  assert.throws(() => parseOtlpRequest(span({ attributes: [{ key: "k", value: { stringValue: 5 } }] })), /expected a string/);
});

test("secrets in captured values are masked on the wire, in both formats", async () => {
  const { agensightReceiver } = await import("./receivers.mjs");
  const secrets = ["sk-proj-abcdefghijklmnopqrstuvwx", "eyJhbGciOiJIUzI1NiJ9.payload.sig", "hunter2-password"];
  const call = span((req) => ({ ok: true, echo: req.note }), "call");
  const payload = () => ({ headers: { authorization: `Bearer ${secrets[1]}` }, password: secrets[2], note: `key ${secrets[0]}` });
  const otlp = await otlpReceiver();
  const ag = await agensightReceiver();
  try {
    init({ mode: "prod", exporter: "otlp", endpoint: otlp.url, storage: "memory", queue: { batchDelayMs: 0 } });
    call(payload());
    assert.equal((await flush()).exported, 1);
    init({ mode: "prod", token: "tok-test-12345", endpoint: ag.url, storage: "memory", queue: { batchDelayMs: 0 } });
    call(payload());
    assert.equal((await flush()).exported, 1);
    for (const body of [...otlp.calls, ...ag.calls].map((c) => c.body)) {
      for (const s of secrets) assert.ok(!body.includes(s), `a secret reached the wire: ${body.slice(0, 200)}`);
    }
    assert.ok(otlp.calls[0].body.includes("[REDACTED]") && ag.calls.some((c) => c.body.includes("[REDACTED]")));
  } finally {
    await otlp.close();
    await ag.close();
  }
});
