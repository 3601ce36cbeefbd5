// agensight-wasm/ai with the real Vercel AI SDK (`ai` v7, `@ai-sdk/openai`) against the local
// stand-in for the OpenAI API (tests/llm/server.mjs): generateText with a tool loop,
// streamText, generateObject, streamObject, embed, API and tool errors. The exact span tree
// (names, kinds, parents), usage, prompts, completions and tool calls read back from the store.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { generateText, streamText, generateObject, streamObject, embed, tool, registerTelemetry, stepCountIs } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { z } from "zod";
import { importPackage } from "../support/package.mjs";
import { fresh, tree, llmAttrs } from "./records.mjs";
import { startServer, fixture, events } from "../llm/server.mjs";
import { chatSse, chatJson } from "./doubles.mjs";

const { trace, span } = await importPackage();
const { agensightTelemetry } = await importPackage("agensight-wasm/ai");

// The one line a user adds.
registerTelemetry(agensightTelemetry());

const srv = await startServer();
after(() => srv.close());
const openai = createOpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1` });



const weatherTools = (inner) => ({
  get_weather: tool({
    description: "Current weather for a city",
    inputSchema: z.object({ city: z.string(), unit: z.enum(["celsius", "fahrenheit"]) }),
    execute: async ({ city, unit }) => inner({ city, unit }),
  }),
  get_time: tool({
    description: "Local time in a time zone",
    inputSchema: z.object({ timezone: z.string() }),
    execute: async ({ timezone }) => `12:00 in ${timezone}`,
  }),
});

test("generateText with a tool loop: the call, each model call (llm) and each tool execution (tool), nested in the trace", async () => {
  const read = fresh();
  const f = fixture("openai-chat-tools");
  srv.reply({ json: f.response }, { json: chatJson({ id: "chatcmpl-final", model: "gpt-4.1-2025-04-14", content: "21°C and sunny; it is noon.", usage: { prompt_tokens: 1250, completion_tokens: 12, total_tokens: 1262 } }) });
  const lookup = span(async ({ city }) => ({ city, celsius: 21, sky: "sunny" }), { name: "lookup", kind: "span" });
  const result = await trace(
    () =>
      generateText({
        model: openai.chat("gpt-4.1"),
        system: "You are a helpful travel agent.",
        prompt: "What's the weather and the local time in Paris?",
        temperature: 0.2,
        maxOutputTokens: 300,
        tools: weatherTools(lookup),
        stopWhen: stepCountIs(3),
      }),
    "main",
  )();
  assert.equal(result.text, "21°C and sunny; it is noon.");

  const { traces } = await read();
  assert.equal(traces.length, 1);
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["main", "trace", "ok", null],
    ["ai.generateText", "chain", "ok", 0],
    ["ai.generateText.doGenerate", "llm", "ok", 1],
    ["get_weather", "tool", "ok", 1],
    ["get_time", "tool", "ok", 1],
    ["lookup", "span", "ok", 3],
    ["ai.generateText.doGenerate", "llm", "ok", 1],
  ]);
  assert.equal(t.total_tokens, 1163 + 1262, "each model call counted once; the operation span adds nothing");
  const [, op, a, weather, time, lookupSpan, b] = t.spans;
  assert.deepEqual(llmAttrs(a), {
    "gen_ai.system": "openai",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4.1",
    "gen_ai.response.model": "gpt-4.1-2025-04-14",
    "gen_ai.response.id": "chatcmpl-BVqQ2m8tW9zY6aKLdE4fG7hJ1kL0m",
    "gen_ai.request.temperature": 0.2,
    "gen_ai.request.max_tokens": 300,
    "gen_ai.usage.input_tokens": 1117,
    "gen_ai.usage.output_tokens": 46,
    "gen_ai.usage.total_tokens": 1163,
    "gen_ai.usage.cache_read_input_tokens": 1024,
    "gen_ai.usage.reasoning_tokens": 0,
    "gen_ai.response.finish_reasons": ["tool_calls"],
  });
  assert.deepEqual(a.prompts.map((p) => [p.role, p.content]), [
    ["system", "You are a helpful travel agent."],
    ["user", "What's the weather and the local time in Paris?"],
  ]);
  assert.deepEqual(a.tools.map((x) => [x.name, x.arguments]), [
    ["get_weather", '{"city":"Paris","unit":"celsius"}'],
    ["get_time", '{"timezone":"Europe/Paris"}'],
  ]);
  assert.deepEqual(a.completions.map((c) => [c.content, c.finish_reason, c.total_tokens]), [["", "tool_calls", 1163]]);
  assert.deepEqual(weather.attributes.input, [{ city: "Paris", unit: "celsius" }]);
  assert.deepEqual(weather.attributes.output, { city: "Paris", celsius: 21, sky: "sunny" });
  assert.deepEqual(time.attributes.output, "12:00 in Europe/Paris");
  assert.equal(weather.attributes["gen_ai.usage.total_tokens"], undefined);
  assert.deepEqual(lookupSpan.attributes.input, [{ city: "Paris", unit: "celsius" }], "work inside a tool's execute is nested in its tool span");

  // The second model call saw the tool round: its prompts are the conversation so far.
  assert.deepEqual(b.prompts.map((p) => p.role), ["system", "user", "assistant", "tool", "tool"]);
  assert.deepEqual(JSON.parse(b.prompts[2].content).map((c) => c.function.name), ["get_weather", "get_time"]);
  assert.equal(b.prompts[3].content, '{"city":"Paris","celsius":21,"sky":"sunny"}');
  assert.deepEqual(b.completions.map((c) => [c.content, c.finish_reason, c.prompt_tokens, c.completion_tokens]), [["21°C and sunny; it is noon.", "stop", 1250, 12]]);
  assert.equal(b.attributes["gen_ai.response.id"], "chatcmpl-final");

  // The operation span: what was asked, the answer, the steps and total usage (not as `usage`).
  assert.deepEqual(op.attributes.input, [{ model: "gpt-4.1", provider: "openai.chat", instructions: "You are a helpful travel agent.", messages: [{ role: "user", content: "What's the weather and the local time in Paris?" }], tools: ["get_weather", "get_time"] }]);
  assert.equal(op.attributes.output.text, "21°C and sunny; it is noon.");
  assert.equal(op.attributes.output.steps, 2);
  assert.equal(op.attributes.output.totalUsage.totalTokens, 1163 + 1262);
  assert.equal(op.attributes["gen_ai.usage.total_tokens"], undefined);

  // What the SDK sent is what the LLM span's input says.
  assert.deepEqual(a.attributes.input[0].messages, srv.requests.at(-2).body.messages);
});

test("streamText: the streamed answer aggregated on the llm span, usage from the last chunk", async () => {
  const read = fresh();
  const f = fixture("openai-chat-stream-text");
  srv.reply({ sse: f.sse });
  let text = "";
  await trace(async () => {
    const r = streamText({ model: openai.chat("o4-mini"), prompt: "What's the weather in Paris?" });
    for await (const piece of r.textStream) text += piece;
  }, "stream")();
  assert.equal(text, "It is 21°C and sunny in Paris.");
  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["stream", "trace", "ok", null],
    ["ai.streamText", "chain", "ok", 0],
    ["ai.streamText.doStream", "llm", "ok", 1],
  ]);
  assert.equal(t.total_tokens, 307);
  const s = t.spans[2];
  assert.deepEqual(s.completions, [{ span_id: s.id, role: "assistant", content: "It is 21°C and sunny in Paris.", finish_reason: "stop", total_tokens: 307, prompt_tokens: 96, completion_tokens: 211 }]);
  assert.deepEqual([s.attributes["gen_ai.usage.reasoning_tokens"], s.attributes["gen_ai.response.id"]], [192, "chatcmpl-BVqS1aB2cD3eF4gH5iJ6kL7mN8oP9"]);
  assert.deepEqual(s.prompts.map((p) => [p.role, p.content]), [["user", "What's the weather in Paris?"]]);
});

test("generateObject and streamObject: the JSON text is the completion", async () => {
  const read = fresh();
  const schema = z.object({ city: z.string(), celsius: z.number() });
  srv.reply(
    { json: chatJson({ id: "chatcmpl-obj", model: "gpt-4.1-mini-2025-04-14", content: '{"city":"Paris","celsius":21}', usage: { prompt_tokens: 40, completion_tokens: 9, total_tokens: 49 } }) },
    { sse: chatSse({ id: "chatcmpl-sobj", model: "gpt-4.1-mini-2025-04-14", pieces: ['{"city":', '"Lyon",', '"celsius":18}'], usage: { prompt_tokens: 41, completion_tokens: 10, total_tokens: 51 } }) },
  );
  let streamed;
  const got = await trace(async () => {
    const { object } = await generateObject({ model: openai.chat("gpt-4.1-mini"), schema, prompt: "Weather in Paris as JSON" });
    const s = streamObject({ model: openai.chat("gpt-4.1-mini"), schema, prompt: "Weather in Lyon as JSON" });
    for await (const _ of s.partialObjectStream);
    streamed = await s.object;
    return object;
  }, "objects")();
  assert.deepEqual(got, { city: "Paris", celsius: 21 });
  assert.deepEqual(streamed, { city: "Lyon", celsius: 18 });
  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["objects", "trace", "ok", null],
    ["ai.generateObject", "chain", "ok", 0],
    ["ai.generateObject.doGenerate", "llm", "ok", 1],
    ["ai.streamObject", "chain", "ok", 0],
    ["ai.streamObject.doStream", "llm", "ok", 3],
  ]);
  assert.equal(t.total_tokens, 49 + 51);
  const [, opA, a, opB, b] = t.spans;
  assert.deepEqual(a.completions.map((c) => [c.content, c.finish_reason, c.total_tokens]), [['{"city":"Paris","celsius":21}', "stop", 49]]);
  assert.deepEqual(b.completions.map((c) => [c.content, c.finish_reason, c.total_tokens]), [['{"city":"Lyon","celsius":18}', "stop", 51]]);
  assert.deepEqual([a.attributes["gen_ai.request.model"], a.attributes["gen_ai.response.id"]], ["gpt-4.1-mini", "chatcmpl-obj"]);
  assert.deepEqual(a.prompts, [{ span_id: a.id, role: "user", content: "Weather in Paris as JSON", message_index: 0 }]);
  assert.deepEqual(b.prompts, [{ span_id: b.id, role: "user", content: "Weather in Lyon as JSON", message_index: 0 }]);
  // The JSON schema went to the API as the response format.
  assert.equal(srv.requests.at(-2).body.response_format.type, "json_schema");
  assert.deepEqual(opA.attributes.output.object, { city: "Paris", celsius: 21 });
  assert.deepEqual(opB.attributes.output.object, { city: "Lyon", celsius: 18 });
});

test("embed: an embeddings llm span with usage and the input", async () => {
  const read = fresh();
  const f = fixture("openai-embeddings");
  srv.reply({ json: { ...f.response, data: f.response.data.slice(0, 1), usage: { prompt_tokens: 2, total_tokens: 2 } } });
  const { embedding } = await trace(() => embed({ model: openai.embedding("text-embedding-3-small"), value: "Paris weather" }), "embed")();
  assert.equal(embedding.length, 8);
  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["embed", "trace", "ok", null],
    ["ai.embed", "chain", "ok", 0],
    ["ai.embed.doEmbed", "llm", "ok", 1],
  ]);
  assert.equal(t.total_tokens, 2);
  const s = t.spans[2];
  assert.deepEqual(llmAttrs(s), {
    "gen_ai.system": "openai",
    "gen_ai.operation.name": "embeddings",
    "gen_ai.request.model": "text-embedding-3-small",
    "gen_ai.response.model": "text-embedding-3-small",
    "gen_ai.usage.input_tokens": 2,
    "gen_ai.usage.output_tokens": 0,
    "gen_ai.usage.total_tokens": 2,
    "gen_ai.response.finish_reasons": [],
  });
  assert.deepEqual(s.prompts.map((p) => [p.role, p.content]), [["user", "Paris weather"]]);
  assert.deepEqual(t.spans[1].attributes.output.embedding, "[8 numbers]");
});

test("an API error fails the llm span and the call; a tool that throws fails its tool span only", async () => {
  const read = fresh();
  srv.reply({ status: 429, json: { error: { message: "Rate limit reached for gpt-4.1", type: "requests", code: "rate_limit_exceeded" } } });
  await assert.rejects(
    trace(() => generateText({ model: openai.chat("gpt-4.1"), prompt: "Hi", maxRetries: 0 }), "failing")(),
    (e) => /Rate limit reached/.test(e.message),
  );
  const f = fixture("openai-chat-tools");
  srv.reply({ json: f.response }, { json: chatJson({ id: "chatcmpl-after", model: "gpt-4.1", content: "Sorry, no weather.", usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 } }) });
  const result = await trace(
    () =>
      generateText({
        model: openai.chat("gpt-4.1"),
        prompt: "What's the weather and the local time in Paris?",
        tools: weatherTools(async () => {
          throw new Error("weather service down");
        }),
        stopWhen: stepCountIs(2),
      }),
    "tool-error",
  )();
  assert.equal(result.text, "Sorry, no weather.");

  const { traces } = await read();
  const [t1, t2] = traces;
  assert.deepEqual(tree(t1), [
    ["failing", "trace", "error", null],
    ["ai.generateText", "chain", "error", 0],
    ["ai.generateText.doGenerate", "llm", "error", 1],
  ]);
  const failed = t1.spans[2];
  assert.match(failed.attributes["error.message"], /Rate limit reached for gpt-4\.1/);
  assert.deepEqual([failed.attributes["gen_ai.system"], failed.attributes["gen_ai.request.model"], failed.attributes["gen_ai.usage.total_tokens"]], ["openai", "gpt-4.1", 0]);
  assert.deepEqual(failed.prompts.map((p) => [p.role, p.content]), [["user", "Hi"]]);

  assert.deepEqual(tree(t2), [
    ["tool-error", "trace", "ok", null],
    ["ai.generateText", "chain", "ok", 0],
    ["ai.generateText.doGenerate", "llm", "ok", 1],
    ["get_weather", "tool", "error", 1],
    ["get_time", "tool", "ok", 1],
    ["ai.generateText.doGenerate", "llm", "ok", 1],
  ]);
  assert.equal(t2.spans[3].attributes["error.message"], "weather service down");
  assert.equal(t2.total_tokens, 1163 + 14);
});

test("telemetry off for a call (isEnabled: false): no spans but the user's", async () => {
  const read = fresh();
  srv.reply({ json: chatJson({ id: "chatcmpl-off", model: "gpt-4.1", content: "ok", usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }) });
  await trace(() => generateText({ model: openai.chat("gpt-4.1"), prompt: "Hi", telemetry: { isEnabled: false } }), "off")();
  const { traces } = await read();
  assert.deepEqual(tree(traces[0]), [["off", "trace", "ok", null]]);
});

test("streamText with a tool round: streamed tool calls, the tools, the streamed answer; an aborted stream ends its spans", async () => {
  const read = fresh();
  const f = fixture("openai-chat-stream-tools");
  srv.reply({ sse: f.sse }, { sse: chatSse({ id: "chatcmpl-st2", model: "gpt-4.1-2025-04-14", pieces: ["21°C and sunny; ", "it is noon."], usage: { prompt_tokens: 1300, completion_tokens: 11, total_tokens: 1311 } }) });
  let text = "";
  await trace(async () => {
    const r = streamText({ model: openai.chat("gpt-4.1"), prompt: "What's the weather and the local time in Paris?", tools: weatherTools(async ({ city }) => ({ city, celsius: 21 })), stopWhen: stepCountIs(3) });
    for await (const piece of r.textStream) text += piece;
  }, "stream-tools")();
  assert.equal(text, "21°C and sunny; it is noon.");

  srv.reply({ sse: chatSse({ id: "chatcmpl-abort", model: "gpt-4.1", pieces: ["one ", "two ", "three ", "four"], usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } }), pauseMs: 20 });
  const controller = new AbortController();
  await trace(async () => {
    const r = streamText({ model: openai.chat("gpt-4.1"), prompt: "Count", abortSignal: controller.signal });
    try {
      for await (const piece of r.textStream) if (piece === "one ") controller.abort();
    } catch {}
  }, "aborted")();

  const { traces } = await read();
  const [t, aborted] = traces;
  assert.deepEqual(tree(t), [
    ["stream-tools", "trace", "ok", null],
    ["ai.streamText", "chain", "ok", 0],
    ["ai.streamText.doStream", "llm", "ok", 1],
    ["get_weather", "tool", "ok", 1],
    ["get_time", "tool", "ok", 1],
    ["ai.streamText.doStream", "llm", "ok", 1],
  ]);
  assert.equal(t.total_tokens, 1182 + 1311);
  assert.deepEqual(t.spans[2].tools.map((x) => [x.name, x.arguments]), [
    ["get_weather", '{"city":"Paris","unit":"celsius"}'],
    ["get_time", '{"timezone":"Europe/Paris"}'],
  ]);
  assert.deepEqual(t.spans[5].completions.map((c) => [c.content, c.finish_reason, c.total_tokens]), [["21°C and sunny; it is noon.", "stop", 1311]]);
  // Aborted: the call and its model call end as errors (AbortError), none left open.
  assert.deepEqual(tree(aborted).slice(1), [
    ["ai.streamText", "chain", "error", 0],
    ["ai.streamText.doStream", "llm", "error", 1],
  ]);
  assert.equal(aborted.spans[1].attributes["error.type"], "AbortError");
});
