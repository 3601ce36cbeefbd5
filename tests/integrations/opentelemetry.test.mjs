// agensight-wasm/opentelemetry with the real `@opentelemetry/api`: spans an instrumented
// library starts through the global API land in agensight traces, nested both ways (an OTel
// span inside trace() is its child; span() inside an OTel span made current is that span's
// child, across `await`), GenAI spans become llm spans with usage, error status, remote
// parents, and the API's own ids match the records.
import { test } from "node:test";
import assert from "node:assert/strict";
import { trace as otel, context, SpanStatusCode, ROOT_CONTEXT } from "@opentelemetry/api";
import { importPackage } from "../support/package.mjs";
import { fresh, tree } from "./records.mjs";

const { trace, span, currentTraceId } = await importPackage();
const { registerOpenTelemetry } = await importPackage("agensight-wasm/opentelemetry");

// The one line a user adds.
assert.deepEqual(registerOpenTelemetry(), { tracerProvider: true, contextManager: true });

const tracer = otel.getTracer("some-instrumented-library", "1.0.0");
const tick = () => new Promise((r) => setTimeout(r, 2));

test("an OTel span inside trace() is its child; span() inside the active OTel span is that span's child, across await", async () => {
  const read = fresh();
  const inner = span(async (x) => x * 2, "inner");
  let ids;
  const got = await trace(async () => {
    return tracer.startActiveSpan("db.query", { attributes: { "db.system": "postgresql" } }, async (s) => {
      await tick();
      const v = await inner(21);
      s.setAttribute("db.rows", 3);
      s.addEvent("fetched", { rows: 3 });
      ids = { otel: s.spanContext(), agensight: currentTraceId() };
      s.end();
      return v;
    });
  }, "main")();
  assert.equal(got, 42);
  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["main", "trace", "ok", null],
    ["db.query", "span", "ok", 0],
    ["inner", "span", "ok", 1],
  ]);
  const q = t.spans[1];
  assert.equal(ids.otel.traceId, t.id.replaceAll("-", ""), "the OTel span context is the agensight trace and span");
  assert.equal(ids.otel.spanId, q.id);
  assert.equal(ids.agensight, t.id);
  assert.deepEqual(q.attributes.input, [{ attributes: { "db.system": "postgresql" } }]);
  assert.deepEqual(q.attributes.output.attributes, { "db.system": "postgresql", "db.rows": 3 });
  assert.deepEqual(q.attributes.output.events.map((e) => [e.name, e.attributes]), [["fetched", { rows: 3 }]]);
});

test("context.with(setSpan(...)) makes a started span current for span(); startSpan takes the active OTel context as parent", async () => {
  const read = fresh();
  await trace(async () => {
    const parent = tracer.startSpan("http.request");
    await context.with(otel.setSpan(context.active(), parent), async () => {
      await span(async () => {
        const child = tracer.startSpan("dns.lookup");
        await tick();
        child.end();
      }, "work")();
    });
    parent.end();
    // Explicitly a new root: not under main.
    tracer.startSpan("detached", { root: true }).end();
  }, "main")();
  const { traces } = await read();
  const main = traces.find((t) => t.spans[0].name === "main");
  assert.deepEqual(tree(main), [
    ["main", "trace", "ok", null],
    ["http.request", "span", "ok", 0],
    ["work", "span", "ok", 1],
    ["dns.lookup", "span", "ok", 2],
  ]);
  const detached = traces.find((t) => t.spans[0].name === "detached");
  assert.deepEqual(tree(detached), [["detached", "span", "ok", null]]);
});

test("a GenAI span (gen_ai.* attributes) is an llm span with model and usage, counted in the trace", async () => {
  const read = fresh();
  await trace(async () => {
    await tracer.startActiveSpan("chat gpt-4.1", { attributes: { "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4.1", "gen_ai.request.temperature": 0.5 } }, async (s) => {
      s.setAttributes({ "gen_ai.response.model": "gpt-4.1-2025-04-14", "gen_ai.response.id": "chatcmpl-otel", "gen_ai.usage.input_tokens": 30, "gen_ai.usage.output_tokens": 12, "gen_ai.response.finish_reasons": ["stop"] });
      s.end();
    });
    tracer.startActiveSpan("execute_tool get_weather", { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather" } }, (s) => s.end());
  }, "genai")();
  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["genai", "trace", "ok", null],
    ["chat gpt-4.1", "llm", "ok", 0],
    ["execute_tool get_weather", "tool", "ok", 0],
  ]);
  assert.equal(t.total_tokens, 42);
  const s = t.spans[1];
  assert.deepEqual(
    ["gen_ai.system", "gen_ai.request.model", "gen_ai.response.model", "gen_ai.response.id", "gen_ai.request.temperature", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.usage.total_tokens", "gen_ai.response.finish_reasons"].map((k) => s.attributes[k]),
    ["openai", "gpt-4.1", "gpt-4.1-2025-04-14", "chatcmpl-otel", 0.5, 30, 12, 42, ["stop"]],
  );
});

test("error status with a recorded exception fails the span; a remote parent continues its trace", async () => {
  const read = fresh();
  await trace(async () => {
    const s = tracer.startSpan("payment");
    s.recordException(new TypeError("card declined"));
    s.setStatus({ code: SpanStatusCode.ERROR, message: "card declined" });
    s.end();
    s.setAttribute("late", true);
    s.end();
  }, "checkout")();
  const remote = otel.setSpanContext(ROOT_CONTEXT, { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1, isRemote: true });
  tracer.startSpan("handle-request", {}, remote).end();
  const { traces } = await read();
  const checkout = traces.find((t) => t.spans[0].name === "checkout");
  assert.deepEqual(tree(checkout), [
    ["checkout", "trace", "ok", null],
    ["payment", "span", "error", 0],
  ]);
  assert.deepEqual([checkout.spans[1].attributes["error.type"], checkout.spans[1].attributes["error.message"]], ["TypeError", "card declined"]);
  const continued = traces.find((t) => t.spans[0].name === "handle-request");
  assert.equal(continued.id, "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
  assert.equal(continued.spans[0].parent_id, "00f067aa0ba902b7");
});
