// agensight-wasm/google-genai with the real `@google/genai` client against a local stand-in
// for the Gemini API (REST shapes: `:generateContent`, `:streamGenerateContent?alt=sse`,
// `:batchEmbedContents`, error bodies): exact span tree, usage from usageMetadata, prompts,
// completions and function calls; the user gets the SDK's own objects.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { GoogleGenAI } from "@google/genai";
import { importPackage } from "../support/package.mjs";
import { fresh, tree, llmAttrs } from "./records.mjs";
import { startServer } from "../llm/server.mjs";
import { geminiJson, geminiSse } from "./doubles.mjs";

const { trace } = await importPackage();
const { wrapGoogleGenAI } = await importPackage("agensight-wasm/google-genai");

const srv = await startServer();
after(() => srv.close());

const client = () => wrapGoogleGenAI(new GoogleGenAI({ apiKey: "gemini-test-key", httpOptions: { baseUrl: srv.url } }));


const USAGE = { promptTokenCount: 120, candidatesTokenCount: 18, thoughtsTokenCount: 40, cachedContentTokenCount: 64, totalTokenCount: 178, trafficType: "ON_DEMAND" };

test("generateContent: a function call, then the answer to its result; usage from usageMetadata", async () => {
  const read = fresh();
  const ai = client();
  const call = geminiJson({
    parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }],
    usage: USAGE,
    modelVersion: "gemini-2.5-flash",
    responseId: "resp-gem-1",
  });
  const answer = geminiJson({
    parts: [{ text: "Thinking about Paris.", thought: true }, { text: "It is 21°C and sunny in Paris." }],
    usage: { promptTokenCount: 150, candidatesTokenCount: 11, totalTokenCount: 161 },
    modelVersion: "gemini-2.5-flash",
    responseId: "resp-gem-2",
  });
  srv.reply({ json: call }, { json: answer });
  const tools = [{ functionDeclarations: [{ name: "get_weather", description: "Current weather", parameters: { type: "OBJECT", properties: { city: { type: "STRING" } } } }] }];
  const config = { systemInstruction: "You are a helpful travel agent.", temperature: 0.3, maxOutputTokens: 256, tools };
  let first, second;
  await trace(async () => {
    first = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "What's the weather in Paris?", config });
    second = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: [
        { role: "user", parts: [{ text: "What's the weather in Paris?" }] },
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { celsius: 21, sky: "sunny" } } }] },
      ],
      config,
    });
  }, "gemini")();
  // The SDK's own objects, helpers included.
  assert.deepEqual(first.functionCalls, [{ name: "get_weather", args: { city: "Paris" } }]);
  assert.equal(second.text, "It is 21°C and sunny in Paris.");
  assert.match(srv.requests.at(-2).url, /^\/v1\/models\/gemini-2\.5-flash:generateContent$/);
  assert.equal(srv.requests.at(-2).headers["x-goog-api-key"], "gemini-test-key");

  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["gemini", "trace", "ok", null],
    ["google_genai.models.generateContent", "llm", "ok", 0],
    ["google_genai.models.generateContent", "llm", "ok", 0],
  ]);
  assert.equal(t.total_tokens, 178 + 161);
  const [, a, b] = t.spans;
  assert.deepEqual(llmAttrs(a), {
    "gen_ai.system": "gcp.gemini",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gemini-2.5-flash",
    "gen_ai.response.model": "gemini-2.5-flash",
    "gen_ai.response.id": "resp-gem-1",
    "gen_ai.request.temperature": 0.3,
    "gen_ai.request.max_tokens": 256,
    "gen_ai.usage.input_tokens": 120,
    "gen_ai.usage.output_tokens": 58,
    "gen_ai.usage.total_tokens": 178,
    "gen_ai.usage.cache_read_input_tokens": 64,
    "gen_ai.usage.reasoning_tokens": 40,
    "gen_ai.response.finish_reasons": ["STOP"],
  });
  assert.deepEqual(a.prompts.map((p) => [p.role, p.content]), [
    ["system", "You are a helpful travel agent."],
    ["user", "What's the weather in Paris?"],
  ]);
  assert.deepEqual(a.tools.map((x) => [x.name, x.arguments]), [["get_weather", '{"city":"Paris"}']]);
  assert.deepEqual(a.completions.map((c) => [c.content, c.finish_reason, c.prompt_tokens, c.completion_tokens]), [["", "STOP", 120, 58]]);
  assert.deepEqual(a.attributes.input[0].tools, [{ type: "function", function: tools[0].functionDeclarations[0] }]);

  assert.deepEqual(b.prompts.map((p) => [p.role, p.content]), [
    ["system", "You are a helpful travel agent."],
    ["user", "What's the weather in Paris?"],
    ["assistant", b.prompts[2].content],
    ["tool", '{"celsius":21,"sky":"sunny"}'],
  ]);
  assert.deepEqual(JSON.parse(b.prompts[2].content), [{ type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }], "a model turn that only called a function keeps the call");
  assert.deepEqual(b.completions.map((c) => [c.content, c.total_tokens]), [["It is 21°C and sunny in Paris.", 161]], "thought parts are not the answer");
  assert.deepEqual(b.tools, []);
});

test("generateContentStream: chunks passed on as the SDK gives them, aggregated on the span", async () => {
  const read = fresh();
  const ai = client();
  srv.reply({ sse: geminiSse({ pieces: ["It is ", "21°C and ", "sunny."], usage: { promptTokenCount: 12, candidatesTokenCount: 7, totalTokenCount: 19 }, modelVersion: "gemini-2.5-flash", responseId: "resp-stream" }) });
  let text = "";
  let items = 0;
  await trace(async () => {
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "Weather in Paris?" });
    for await (const c of stream) {
      items++;
      text += c.text;
    }
  }, "stream")();
  assert.equal(text, "It is 21°C and sunny.");
  assert.equal(items, 3);
  assert.match(srv.requests.at(-1).url, /:streamGenerateContent\?alt=sse$/);
  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["stream", "trace", "ok", null],
    ["google_genai.models.generateContentStream", "llm", "ok", 0],
  ]);
  assert.equal(t.total_tokens, 19);
  const s = t.spans[1];
  assert.deepEqual(s.completions, [{ span_id: s.id, role: "assistant", content: "It is 21°C and sunny.", finish_reason: "STOP", total_tokens: 19, prompt_tokens: 12, completion_tokens: 7 }]);
  assert.deepEqual([s.attributes["gen_ai.response.id"], s.attributes["gen_ai.response.model"]], ["resp-stream", "gemini-2.5-flash"]);
  assert.deepEqual(s.prompts.map((p) => [p.role, p.content]), [["user", "Weather in Paris?"]]);
});

test("a stream left early ends its span with what came", async () => {
  const read = fresh();
  const ai = client();
  srv.reply({ sse: geminiSse({ pieces: ["one ", "two ", "three"], usage: { promptTokenCount: 3, candidatesTokenCount: 3, totalTokenCount: 6 }, modelVersion: "gemini-2.5-flash", responseId: "resp-early" }), pauseMs: 5 });
  await trace(async () => {
    for await (const c of await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "Count" })) {
      if (c.text === "one ") break;
    }
  }, "early")();
  const { traces } = await read();
  const s = traces[0].spans[1];
  assert.deepEqual([s.status, s.completions[0].content, s.completions[0].finish_reason], ["ok", "one ", null]);
});

test("embedContent: an embeddings span with the texts as prompts", async () => {
  const read = fresh();
  const ai = client();
  srv.reply({ json: { embeddings: [{ values: [0.1, 0.2, 0.3] }, { values: [0.4, 0.5, 0.6] }] } });
  const r = await trace(() => ai.models.embedContent({ model: "gemini-embedding-001", contents: ["Paris weather", "Lyon weather"] }), "embed")();
  assert.deepEqual(r.embeddings.map((e) => e.values), [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]);
  assert.match(srv.requests.at(-1).url, /gemini-embedding-001:batchEmbedContents$/);
  const { traces } = await read();
  const s = traces[0].spans[1];
  assert.deepEqual([s.name, s.kind, s.status], ["google_genai.models.embedContent", "llm", "ok"]);
  assert.deepEqual([s.attributes["gen_ai.system"], s.attributes["gen_ai.operation.name"], s.attributes["gen_ai.request.model"]], ["gcp.gemini", "embeddings", "gemini-embedding-001"]);
  assert.deepEqual(s.prompts.map((p) => [p.role, p.content]), [["user", "Paris weather"], ["user", "Lyon weather"]]);
  assert.deepEqual(s.attributes.output.data.map((d) => d.embedding), ["[3 numbers]", "[3 numbers]"]);
});

test("an API error fails the span with the SDK's error; the request is still recorded", async () => {
  const read = fresh();
  const ai = client();
  srv.reply({ status: 429, json: { error: { code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" } } });
  await assert.rejects(trace(() => ai.models.generateContent({ model: "gemini-2.5-flash", contents: "Hi" }), "fail")(), (e) => e.status === 429);
  const { traces } = await read();
  const s = traces[0].spans[1];
  assert.deepEqual([s.name, s.kind, s.status], ["google_genai.models.generateContent", "llm", "error"]);
  assert.match(s.attributes["error.message"], /Resource has been exhausted/);
  assert.deepEqual([s.attributes["gen_ai.system"], s.attributes["gen_ai.request.model"], s.attributes["gen_ai.usage.total_tokens"]], ["gcp.gemini", "gemini-2.5-flash", 0]);
  assert.deepEqual(s.prompts.map((p) => [p.role, p.content]), [["user", "Hi"]]);
});
