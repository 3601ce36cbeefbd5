// The openai SDK's helpers that go around `create` (chat.completions.parse/stream/runTools,
// responses.parse/stream), through wrapOpenAI with the real client against the local double:
// one `llm` span per request a helper makes, named after the helper, with the response (or the
// aggregated stream), usage and tool calls; tools that runTools calls sit beside its rounds.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { importPackage } from "../support/package.mjs";
import { startServer, fixture } from "./server.mjs";
import { recorded, tree } from "../integrations/records.mjs";
import { chatJson, chatSse, responsesJson, outputMessage } from "../integrations/doubles.mjs";

const { span, wrapOpenAI } = await importPackage();

const srv = await startServer();
after(() => srv.close());

const openai = wrapOpenAI(new OpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, maxRetries: 0 }));

const usage = (s) => [s.attributes["gen_ai.usage.input_tokens"], s.attributes["gen_ai.usage.output_tokens"]];
const schema = { type: "object", properties: { city: { type: "string" }, celsius: { type: "number" } }, required: ["city", "celsius"], additionalProperties: false };

/**
 * runTools over a get_weather tool (a `tool` span) for "Weather in Paris?" with `params` added,
 * answered in two rounds: asserts the final content `answer` and the span tree (each round an
 * llm span, the tool between them, the first round's tool call); returns the trace.
 */
async function weatherRounds(params, answer) {
  const getWeather = span(async ({ city }) => ({ city, celsius: 21 }), { name: "get_weather", kind: "tool" });
  let content;
  const t = await recorded(async () => {
    const runner = openai.chat.completions.runTools({
      model: "gpt-4.1",
      ...params,
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [{ type: "function", function: { name: "get_weather", function: getWeather, parse: JSON.parse, parameters: schema } }],
    });
    content = await runner.finalContent();
  });
  assert.equal(content, answer);
  assert.deepEqual(tree(t), [
    ["main", "trace", "ok", null],
    ["openai.chat.completions.runTools", "llm", "ok", 0],
    ["get_weather", "tool", "ok", 0],
    ["openai.chat.completions.runTools", "llm", "ok", 0],
  ]);
  assert.deepEqual(t.spans[1].tools.map((x) => [x.name, x.arguments]), [["get_weather", '{"city":"Paris"}']]);
  return t;
}

test("chat.completions.parse: one llm span with the completion; the caller gets the parsed answer", async () => {
  const answer = '{"city":"Paris","celsius":21}';
  srv.reply({ json: chatJson({ id: "chatcmpl-parse", model: "gpt-4.1-2025-04-14", content: answer, usage: { prompt_tokens: 40, completion_tokens: 9, total_tokens: 49 } }) });
  let parsed;
  const t = await recorded(async () => {
    const r = await openai.chat.completions.parse({
      model: "gpt-4.1",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      response_format: { type: "json_schema", json_schema: { name: "weather", schema, strict: true } },
    });
    parsed = r.choices[0].message.parsed;
  });
  assert.deepEqual(parsed, { city: "Paris", celsius: 21 });
  assert.deepEqual(tree(t), [["main", "trace", "ok", null], ["openai.chat.completions.parse", "llm", "ok", 0]]);
  const s = t.spans[1];
  assert.deepEqual([s.attributes["gen_ai.response.id"], s.attributes["gen_ai.request.model"]], ["chatcmpl-parse", "gpt-4.1"]);
  assert.deepEqual(usage(s), [40, 9]);
  assert.equal(s.completions[0].content, answer);
  assert.deepEqual(s.prompts.map((p) => [p.role, p.content]), [["user", "Weather in Paris?"]]);
  assert.equal(t.total_tokens, 49);
  assert.equal(srv.requests.at(-1).headers["x-stainless-helper-method"], "chat.completions.parse");
});

test("chat.completions.parse failing: the span records the API error and the caller gets it", async () => {
  srv.reply({ status: 400, json: { error: { message: "bad schema", type: "invalid_request_error", code: null } } });
  let caught;
  const t = await recorded(async () => {
    try {
      await openai.chat.completions.parse({ model: "gpt-4.1", messages: [{ role: "user", content: "x" }] });
    } catch (e) {
      caught = e;
    }
  });
  assert.ok(caught instanceof OpenAI.BadRequestError);
  assert.deepEqual(tree(t), [["main", "trace", "ok", null], ["openai.chat.completions.parse", "llm", "error", 0]]);
  assert.equal(t.spans[1].attributes["error.type"], "BadRequestError");
  assert.match(t.spans[1].attributes["error.message"], /bad schema \(status 400, type invalid_request_error/);
});

test("chat.completions.stream: the chunks the helper reads are aggregated into its span", async () => {
  srv.reply({ sse: chatSse({ id: "chatcmpl-s", model: "gpt-4.1-mini", pieces: ["Sunny, ", "21 °C."], usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 } }) });
  let text;
  const t = await recorded(async () => {
    const stream = openai.chat.completions.stream({ model: "gpt-4.1-mini", messages: [{ role: "user", content: "Paris?" }], stream_options: { include_usage: true } });
    text = await stream.finalContent();
  });
  assert.equal(text, "Sunny, 21 °C.");
  assert.deepEqual(tree(t), [["main", "trace", "ok", null], ["openai.chat.completions.stream", "llm", "ok", 0]]);
  const s = t.spans[1];
  assert.equal(s.completions[0].content, "Sunny, 21 °C.");
  assert.equal(s.completions[0].finish_reason, "stop");
  assert.deepEqual(usage(s), [12, 6]);
  assert.equal(t.total_tokens, 18);
});

test("chat.completions.runTools: each round a span, the tool it runs between them", async () => {
  srv.reply(
    { json: chatJson({ id: "chatcmpl-r1", model: "gpt-4.1", toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' }], usage: { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 } }) },
    { json: chatJson({ id: "chatcmpl-r2", model: "gpt-4.1", content: "Sunny, 21 °C in Paris.", usage: { prompt_tokens: 50, completion_tokens: 8, total_tokens: 58 } }) },
  );
  const t = await weatherRounds({}, "Sunny, 21 °C in Paris.");
  assert.deepEqual(t.spans[3].prompts.map((p) => p.role), ["user", "assistant", "tool"]);
  assert.equal(t.total_tokens, 98);
});

test("responses.parse and responses.stream: one span each, the result or the aggregated events", async () => {
  const answer = '{"city":"Paris","celsius":21}';
  const fs = fixture("openai-responses-stream");
  srv.reply({ json: responsesJson({ id: "resp_parse", model: "gpt-4.1-2025-04-14", output: [outputMessage("msg_1", answer)], usage: { input_tokens: 20, output_tokens: 7, total_tokens: 27 } }) }, { sse: fs.sse });
  let parsed;
  let final;
  const t = await recorded(async () => {
    const r = await openai.responses.parse({ model: "gpt-4.1", input: "Weather in Paris?", text: { format: { type: "json_schema", name: "weather", schema, strict: true } } });
    parsed = r.output_parsed;
    const { stream: _, ...request } = fs.request;
    final = await openai.responses.stream(request).finalResponse();
  });
  assert.deepEqual(parsed, { city: "Paris", celsius: 21 });
  const done = fs.sse.at(-1).data.response;
  assert.equal(final.id, done.id);
  assert.deepEqual(tree(t), [["main", "trace", "ok", null], ["openai.responses.parse", "llm", "ok", 0], ["openai.responses.stream", "llm", "ok", 0]]);
  assert.equal(t.spans[1].completions[0].content, answer);
  assert.deepEqual(usage(t.spans[1]), [20, 7]);
  assert.equal(t.spans[2].attributes["gen_ai.response.id"], done.id);
  assert.equal(t.spans[2].completions[0].content, "Let me check the weather.");
  assert.deepEqual(t.spans[2].tools.map((x) => x.name), ["get_weather"]);
  assert.equal(t.total_tokens, 27 + done.usage.total_tokens);
});

test("chat.completions.runTools with stream: true: each streamed round a span with what its chunks said", async () => {
  const toolRound = [
    { data: { id: "chatcmpl-t1", object: "chat.completion.chunk", created: 1, model: "gpt-4.1", choices: [{ index: 0, delta: { role: "assistant", content: null, tool_calls: [{ index: 0, id: "call_9", type: "function", function: { name: "get_weather", arguments: "" } }] }, finish_reason: null }] } },
    { data: { id: "chatcmpl-t1", object: "chat.completion.chunk", created: 1, model: "gpt-4.1", choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }, finish_reason: null }] } },
    { data: { id: "chatcmpl-t1", object: "chat.completion.chunk", created: 1, model: "gpt-4.1", choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] } },
    { data: { id: "chatcmpl-t1", object: "chat.completion.chunk", created: 1, model: "gpt-4.1", choices: [], usage: { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 } } },
    { data: "[DONE]" },
  ];
  srv.reply({ sse: toolRound }, { sse: chatSse({ id: "chatcmpl-t2", model: "gpt-4.1", pieces: ["Sunny."], usage: { prompt_tokens: 50, completion_tokens: 2, total_tokens: 52 } }) });
  const t = await weatherRounds({ stream: true, stream_options: { include_usage: true } }, "Sunny.");
  assert.equal(t.spans[3].completions[0].content, "Sunny.");
  assert.equal(t.total_tokens, 92);
});
