// One real integration through both wire encoders (issue 16, "the same through the OTLP and
// Agensight encoders"): the Vercel AI SDK (`ai` + `@ai-sdk/openai`, against the local OpenAI
// stand-in) runs generateText with one tool round inside a trace(), exported in prod as OTLP
// http/json and http/protobuf (tests/export's receiver parses JSON strictly and decodes
// protobuf with the official schema) and to the Agensight API (tests/export's receiver).
// The exact span tree and what docs/records.md says each encoder writes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { generateText, tool, registerTelemetry, stepCountIs } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { z } from "zod";
import { importPackage } from "../support/package.mjs";
import { startServer } from "../llm/server.mjs";
import { chatJson } from "./doubles.mjs";
import { agensightReceiver, otlpReceiver, attrs } from "../export/receivers.mjs";

const { init, trace, flush } = await importPackage();
const { agensightTelemetry } = await importPackage("agensight-wasm/ai");
registerTelemetry(agensightTelemetry());

const srv = await startServer();
after(() => srv.close());
const openai = createOpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1` });

const ARGS = '{"city":"Paris"}';
const ANSWER = "21°C and sunny in Paris.";

/** generateText with one tool round: a tool call, get_weather executed, the final answer. */
async function weatherRound() {
  srv.reply(
    { json: chatJson({ id: "chatcmpl-1", model: "gpt-4.1-2025-04-14", toolCalls: [{ id: "call_w1", name: "get_weather", arguments: ARGS }], usage: { prompt_tokens: 50, completion_tokens: 10, total_tokens: 60 } }) },
    { json: chatJson({ id: "chatcmpl-2", model: "gpt-4.1-2025-04-14", content: ANSWER, usage: { prompt_tokens: 80, completion_tokens: 7, total_tokens: 87 } }) },
  );
  const result = await trace(
    () =>
      generateText({
        model: openai.chat("gpt-4.1"),
        system: "You are a weather bot.",
        prompt: "Weather in Paris?",
        tools: {
          get_weather: tool({
            description: "Current weather for a city",
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }) => ({ city, celsius: 21, sky: "sunny" }),
          }),
        },
        stopWhen: stepCountIs(3),
      }),
    "weather",
  )();
  assert.equal(result.text, ANSWER);
  assert.deepEqual(await flush(), { exported: 5, failed: 0, pending: 0, dropped: 0 });
}

// [name, kind, parent index] in start order.
const TREE = [
  ["weather", 1, null],
  ["ai.generateText", 1, 0],
  ["ai.generateText.doGenerate", 3, 1],
  ["get_weather", 1, 1],
  ["ai.generateText.doGenerate", 3, 1],
];

for (const protocol of ["http/json", "http/protobuf"]) {
  test(`OTLP ${protocol}: the span tree and the GenAI attributes of the model call and the tool`, async () => {
    const rx = await otlpReceiver();
    try {
      init({ name: "weather-app", mode: "prod", exporter: "otlp", protocol, endpoint: rx.url, headers: { authorization: "Bearer collector-token" }, storage: "memory", queue: { batchDelayMs: 0 } });
      await weatherRound();
      assert.ok(rx.calls.length >= 1);
      for (const c of rx.calls) {
        assert.equal(c.headers["content-type"], protocol === "http/json" ? "application/json" : "application/x-protobuf");
        assert.equal(c.headers.authorization, "Bearer collector-token");
      }
      const start = (s) => BigInt(s.startTimeUnixNano);
      const spans = rx.spans().sort((a, b) => (start(a) < start(b) ? -1 : start(a) > start(b) ? 1 : 0));
      assert.ok(spans.every((s) => s.traceId === spans[0].traceId));
      const index = new Map(spans.map((s, i) => [s.spanId, i]));
      assert.deepEqual(spans.map((s) => [s.name, s.kind, s.parentSpanId === undefined ? null : index.get(s.parentSpanId) ?? "unknown"]), TREE);
      assert.ok(spans.every((s) => s.status.code === 1));
      const [root, , first, weather, second] = spans.map((s) => attrs(s.attributes));
      assert.equal(root["agensight.trace.total_tokens"], 60 + 87, "each model call counted once");
      assert.deepEqual(spans.map((s) => [attrs(s.attributes)["agensight.span.kind"], attrs(s.attributes)["openinference.span.kind"]]), [["trace", "CHAIN"], ["chain", "CHAIN"], ["llm", "LLM"], ["tool", "TOOL"], ["llm", "LLM"]]);

      const la = first;
      assert.deepEqual(
        [la["gen_ai.operation.name"], la["gen_ai.system"], la["gen_ai.provider.name"], la["gen_ai.request.model"], la["gen_ai.response.model"], la["gen_ai.response.id"], la["gen_ai.usage.input_tokens"], la["gen_ai.usage.output_tokens"], la["gen_ai.response.finish_reasons"]],
        ["chat", "openai", "openai", "gpt-4.1", "gpt-4.1-2025-04-14", "chatcmpl-1", 50, 10, ["tool_calls"]],
      );
      assert.deepEqual(JSON.parse(la["gen_ai.system_instructions"]), [{ type: "text", content: "You are a weather bot." }]);
      assert.deepEqual(JSON.parse(la["gen_ai.input.messages"]), [{ role: "user", parts: [{ type: "text", content: "Weather in Paris?" }] }]);
      const out = JSON.parse(la["gen_ai.output.messages"]);
      assert.deepEqual(out.map((m) => [m.role, m.finish_reason]), [["assistant", "tool_calls"]]);
      assert.deepEqual(out[0].parts.filter((p) => p.type === "tool_call"), [{ type: "tool_call", id: "call_w1", name: "get_weather", arguments: { city: "Paris" } }], "arguments as the JSON value (the conventions' ToolCallRequestPart)");

      assert.deepEqual(
        [weather["gen_ai.operation.name"], weather["gen_ai.tool.name"], weather["tool.name"], JSON.parse(weather["gen_ai.tool.call.arguments"]), JSON.parse(weather["gen_ai.tool.call.result"])],
        // The tool function's one argument is the call's arguments object.
        ["execute_tool", "get_weather", "get_weather", { city: "Paris" }, { city: "Paris", celsius: 21, sky: "sunny" }],
      );

      assert.deepEqual([second["gen_ai.usage.input_tokens"], second["gen_ai.usage.output_tokens"], second["gen_ai.response.id"]], [80, 7, "chatcmpl-2"]);
      // The second call saw the tool round; its answer is the final text.
      assert.deepEqual(JSON.parse(second["gen_ai.system_instructions"]), [{ type: "text", content: "You are a weather bot." }]);
      assert.deepEqual(JSON.parse(second["gen_ai.input.messages"]).map((m) => m.role), ["user", "assistant", "tool"]);
      // Phoenix's names for the same call (OpenInference), as docs/records.md lists them.
      assert.deepEqual([la["llm.token_count.total"], la["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"], la["llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments"]], [60, "get_weather", ARGS]);
      assert.deepEqual(JSON.parse(second["gen_ai.output.messages"]), [{ role: "assistant", parts: [{ type: "text", content: ANSWER }], finish_reason: "stop" }]);
    } finally {
      await rx.close();
    }
  });
}

test("Agensight: span, prompt, completion and tool records, parents linked, total_tokens counted once", async () => {
  const rx = await agensightReceiver();
  try {
    init({ name: "weather-app", mode: "prod", token: "tok-test-12345", endpoint: rx.url, storage: "memory", queue: { batchDelayMs: 0 } });
    await weatherRound();
    for (const c of rx.calls.slice(1)) assert.ok(!c.body.includes("tok-test-12345"), "the token goes only to /auth/validate");
    // Spans by depth, each followed by its records, the root last, then the token total.
    // No session record: none was set. Function spans carry the reference's normalized
    // prompt/completion pair (docs/records.md), LLM calls their messages, answer and tool calls.
    assert.deepEqual(rx.records.map((r) => r.type), [
      "trace",
      "span", "prompt", "completion",
      "span", "prompt", "prompt", "completion", "tool",
      "span", "prompt", "completion",
      "span", "prompt", "prompt", "prompt", "prompt", "completion",
      "span",
      "trace_update",
    ]);
    const data = rx.records.map((r) => r.data);
    const [tr, op, , , a, , , c1, t1, weather, , , b, , , , , c2, root] = data;
    const spans = [root, op, a, weather, b];
    const index = new Map(spans.map((s, i) => [s.id, i]));
    const kind = { "SpanKind.SERVER": "server", "SpanKind.INTERNAL": "internal", "SpanKind.CLIENT": "client" };
    assert.deepEqual(spans.map((s) => [s.name, kind[s.kind], s.parent_id === null ? null : index.get(s.parent_id) ?? "unknown"]), [
      ["weather", "server", null],
      ["ai.generateText", "internal", 0],
      ["ai.generateText.doGenerate", "client", 1],
      ["get_weather", "internal", 1],
      ["ai.generateText.doGenerate", "client", 1],
    ]);
    assert.ok(spans.every((s) => s.trace_id === tr.id && s.status === "StatusCode.OK"));
    assert.deepEqual(spans.map((s) => JSON.parse(s.attributes)["agensight.span.kind"]), ["trace", "chain", "llm", "tool", "llm"]);

    const prompts = data.filter((d, i) => rx.records[i].type === "prompt");
    const owner = new Map([[op.id, "op"], [a.id, "a"], [weather.id, "weather"], [b.id, "b"]]);
    assert.deepEqual(prompts.map((p) => [owner.get(p.span_id), p.role]), [
      ["op", "user"],
      ["a", "system"], ["a", "user"],
      ["weather", "user"],
      ["b", "system"], ["b", "user"], ["b", "assistant"], ["b", "tool"],
    ]);
    assert.deepEqual(prompts.slice(1, 3).map((p) => p.content), ["You are a weather bot.", "Weather in Paris?"]);
    assert.equal(prompts[7].content, '{"city":"Paris","celsius":21,"sky":"sunny"}');
    assert.deepEqual(c1, { span_id: a.id, role: "assistant", content: "", finish_reason: "tool_calls", total_tokens: 60, prompt_tokens: 50, completion_tokens: 10 });
    assert.deepEqual(t1, { span_id: a.id, name: "get_weather", arguments: ARGS });
    assert.deepEqual(c2, { span_id: b.id, role: "assistant", content: ANSWER, finish_reason: "stop", total_tokens: 87, prompt_tokens: 80, completion_tokens: 7 });
    const aa = JSON.parse(a.attributes);
    assert.deepEqual([aa["gen_ai.completion.0.tool_calls.0.name"], aa["gen_ai.completion.0.tool_calls.0.arguments"], aa["llm.usage.total_tokens"]], ["get_weather", ARGS, 60]);
    // The function spans' normalized prompt/completion carry no tokens: each call counted once.
    const completions = data.filter((d, i) => rx.records[i].type === "completion");
    assert.deepEqual(completions.map((c) => [owner.get(c.span_id), c.total_tokens]), [["op", null], ["a", 60], ["weather", null], ["b", 87]]);
    assert.deepEqual([prompts[3].content, completions[2].content], ['{"city":"Paris"}', '{"celsius":21,"city":"Paris","sky":"sunny"}']);
    assert.deepEqual([tr.name, tr.session_id, root.trace_id], ["weather", null, tr.id]);
    assert.deepEqual(rx.records.at(-1).data, { id: tr.id, total_tokens: 60 + 87 });
  } finally {
    await rx.close();
  }
});
