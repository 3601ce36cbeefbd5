// wrapOpenAI with the real `openai` client against a local server that answers like the
// OpenAI API: exact records for chat completions (plain, streamed, with tool calls), the
// Responses API, embeddings and API errors; the user gets exactly what the server sent.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { Stream } from "openai/streaming";
import { importPackage } from "../support/package.mjs";
import { startServer, fixture, events } from "./server.mjs";

const { init, trace, span, flush, readLocal, wrapOpenAI } = await importPackage();

const srv = await startServer();
after(() => srv.close());

const rawClient = (options = {}) => new OpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, maxRetries: 0, ...options });
const client = (options) => wrapOpenAI(rawClient(options));

/** Fresh in-memory store; returns a function that flushes and reads it back. */
function fresh() {
  init({ storage: "memory" });
  return async () => {
    await flush();
    return readLocal();
  };
}

/** A span's attributes without the captures. */
function attrs(s) {
  const { input, output, ...rest } = s.attributes;
  return rest;
}

const tick = () => new Promise((r) => setTimeout(r, 5));

test("chat completion with tool calls, the tool as a span under the LLM span's parent, then a streamed answer", async () => {
  const read = fresh();
  const openai = client();
  const fTools = fixture("openai-chat-tools");
  const fText = fixture("openai-chat-stream-text");
  srv.reply({ json: fTools.response }, { sse: fText.sse });
  const getWeather = span(async ({ city }) => ({ city, celsius: 21, sky: "sunny" }), { name: "get_weather", kind: "tool" });
  let first;
  const chunks = [];
  const main = trace(async () => {
    first = await openai.chat.completions.create(fTools.request);
    const call = first.choices[0].message.tool_calls[0];
    await getWeather(JSON.parse(call.function.arguments));
    const stream = await openai.chat.completions.create(fText.request);
    for await (const c of stream) chunks.push(c);
  }, "main");
  await main();

  // The user gets exactly what the server sent; the server got exactly the request.
  assert.deepEqual(first, fTools.response);
  assert.match(first._request_id, /^req_\d+$/);
  assert.deepEqual(chunks, events(fText));
  assert.deepEqual(srv.requests.slice(-2).map((r) => [r.url, r.body]), [["/v1/chat/completions", fTools.request], ["/v1/chat/completions", fText.request]]);

  const { traces } = await read();
  assert.equal(traces.length, 1);
  const t = traces[0];
  assert.equal(t.total_tokens, 1163 + 307, "each call counted once");
  const [root, a, tool, b] = t.spans;
  assert.deepEqual(t.spans.map((s) => [s.name, s.kind, s.status, s.parent_id]), [
    ["main", "trace", "ok", null],
    ["openai.chat.completions.create", "llm", "ok", root.id],
    ["get_weather", "tool", "ok", root.id],
    ["openai.chat.completions.create", "llm", "ok", root.id],
  ]);
  assert.equal(tool.parent_id, a.parent_id, "the tool span sits under the LLM span's parent");
  assert.deepEqual(tool.attributes.input, [{ city: "Paris", unit: "celsius" }]);

  assert.deepEqual(a.attributes.input, [fTools.request]);
  assert.deepEqual(a.attributes.output, fTools.response);
  assert.deepEqual(attrs(a), {
    "service.name": "default",
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
  assert.deepEqual(a.prompts, [
    { span_id: a.id, role: "system", content: "You are a helpful travel agent.", message_index: 0 },
    { span_id: a.id, role: "user", content: "What's the weather and the local time in Paris?", message_index: 1 },
  ]);
  assert.deepEqual(a.completions, [{ span_id: a.id, role: "assistant", content: "", finish_reason: "tool_calls", total_tokens: 1163, prompt_tokens: 1117, completion_tokens: 46 }]);
  assert.deepEqual(a.tools, [
    { span_id: a.id, name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' },
    { span_id: a.id, name: "get_time", arguments: '{"timezone":"Europe/Paris"}' },
  ]);

  // The streamed answer: aggregated into a chat.completion.
  assert.deepEqual(b.attributes.output, {
    id: "chatcmpl-BVqS1aB2cD3eF4gH5iJ6kL7mN8oP9",
    object: "chat.completion",
    created: 1746789200,
    model: "o4-mini-2025-04-16",
    service_tier: "default",
    choices: [{ index: 0, message: { role: "assistant", content: "It is 21°C and sunny in Paris." }, finish_reason: "stop" }],
    usage: events(fText).at(-1).usage,
  });
  assert.deepEqual(attrs(b), {
    "service.name": "default",
    "gen_ai.system": "openai",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "o4-mini",
    "gen_ai.response.model": "o4-mini-2025-04-16",
    "gen_ai.response.id": "chatcmpl-BVqS1aB2cD3eF4gH5iJ6kL7mN8oP9",
    "gen_ai.request.max_tokens": 1000,
    "gen_ai.usage.input_tokens": 96,
    "gen_ai.usage.output_tokens": 211,
    "gen_ai.usage.total_tokens": 307,
    "gen_ai.usage.cache_read_input_tokens": 0,
    "gen_ai.usage.reasoning_tokens": 192,
    "gen_ai.response.finish_reasons": ["stop"],
  });
  assert.deepEqual(b.prompts.map((p) => p.role), ["user", "assistant", "tool"]);
  assert.deepEqual(JSON.parse(b.prompts[1].content), fText.request.messages[1].tool_calls, "an assistant turn that only called tools keeps them");
  assert.equal(b.prompts[2].content, '{"celsius":21,"sky":"sunny"}');
  assert.deepEqual(b.completions, [{ span_id: b.id, role: "assistant", content: "It is 21°C and sunny in Paris.", finish_reason: "stop", total_tokens: 307, prompt_tokens: 96, completion_tokens: 211 }]);
  assert.deepEqual(b.tools, []);
});

test("a streamed tool call: the SDK's Stream comes back with its helpers, tee() included; tool call deltas and usage aggregated", async () => {
  const read = fresh();
  const openai = client();
  const f = fixture("openai-chat-stream-tools");
  srv.reply({ sse: f.sse });
  const stream = await trace(() => openai.chat.completions.create(f.request), "ask")();
  assert.ok(stream instanceof Stream);
  assert.ok(stream.controller instanceof AbortController);
  assert.equal(typeof stream.toReadableStream, "function");
  const [left, right] = stream.tee();
  const got = [[], []];
  await Promise.all([left, right].map(async (s, i) => {
    for await (const c of s) got[i].push(c);
  }));
  assert.deepEqual(got[0], events(f));
  assert.deepEqual(got[1], events(f));

  const { traces } = await read();
  const [root, s] = traces[0].spans;
  assert.equal(traces[0].total_tokens, 1182);
  assert.deepEqual([s.name, s.kind, s.status, s.parent_id], ["openai.chat.completions.create", "llm", "ok", root.id]);
  assert.deepEqual(s.attributes.output.choices, [
    {
      index: 0,
      finish_reason: "tool_calls",
      message: {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_7hQ2xP9kLm3nB5vC1dF8gJ0t", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' } },
          { id: "call_2wE4rT6yU8iO0pA3sD5fG7hJ", type: "function", function: { name: "get_time", arguments: '{"timezone":"Europe/Paris"}' } },
        ],
      },
    },
  ]);
  assert.deepEqual(
    [s.attributes["gen_ai.usage.input_tokens"], s.attributes["gen_ai.usage.output_tokens"], s.attributes["gen_ai.usage.cache_read_input_tokens"], s.attributes["gen_ai.response.finish_reasons"]],
    [1130, 52, 1024, ["tool_calls"]],
  );
  assert.deepEqual(s.completions, [{ span_id: s.id, role: "assistant", content: "", finish_reason: "tool_calls", total_tokens: 1182, prompt_tokens: 1130, completion_tokens: 52 }]);
  assert.deepEqual(s.tools, [
    { span_id: s.id, name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' },
    { span_id: s.id, name: "get_time", arguments: '{"timezone":"Europe/Paris"}' },
  ]);
  // The root span returned the stream object: an ordinary span, not a second LLM call.
  assert.equal(root.attributes["gen_ai.usage.total_tokens"], undefined);
});

test("a stream left early (break) ends its span with what came, and the request is closed", async () => {
  const read = fresh();
  const openai = client();
  const f = fixture("openai-chat-stream-text");
  srv.reply({ sse: f.sse, pauseMs: 5 });
  const got = [];
  await trace(async () => {
    const stream = await openai.chat.completions.create(f.request);
    for await (const c of stream) {
      got.push(c);
      if (got.length === 4) break;
    }
  }, "early")();
  assert.deepEqual(got, events(f).slice(0, 4));
  const { traces } = await read();
  const s = traces[0].spans[1];
  assert.deepEqual([s.name, s.status], ["openai.chat.completions.create", "ok"]);
  assert.equal(s.attributes.output.choices[0].message.content, "It is 21");
  assert.deepEqual(s.completions, [{ span_id: s.id, role: "assistant", content: "It is 21", finish_reason: null, total_tokens: 0, prompt_tokens: 0, completion_tokens: 0 }]);
  assert.equal(s.attributes["gen_ai.usage.total_tokens"], 0);
  for (let i = 0; i < 50 && srv.closed.length === 0; i++) await tick();
  assert.equal(srv.closed.at(-1)?.body.model, "o4-mini", "the SDK aborted the request");
});

test("withResponse() and asResponse() keep working; a raw response is not read by tracing", async () => {
  const read = fresh();
  const openai = client();
  const f = fixture("openai-chat-tools");
  srv.reply({ json: f.response }, { json: f.response });
  const main = trace(async () => {
    const { data, response, request_id } = await openai.chat.completions.create(f.request).withResponse();
    assert.deepEqual(data, f.response);
    assert.equal(response.status, 200);
    assert.match(request_id, /^req_\d+$/);
    const raw = await openai.chat.completions.create(f.request).asResponse();
    assert.equal(raw.bodyUsed, false);
    assert.deepEqual(await raw.json(), f.response);
  }, "raw");
  await main();
  const { traces } = await read();
  const [, a, b] = traces[0].spans;
  assert.deepEqual([a.status, a.attributes["gen_ai.usage.total_tokens"], a.tools.length], ["ok", 1163, 2]);
  // The raw response's span: the request is known, the answer is not.
  assert.deepEqual([b.kind, b.status, b.attributes.output], ["llm", "ok", { status: 200, body: "[read by the caller: asResponse()]" }]);
  assert.deepEqual([b.attributes["gen_ai.request.model"], b.attributes["gen_ai.usage.total_tokens"], b.completions, b.prompts.length], ["gpt-4.1", 0, [], 2]);
  assert.equal(traces[0].total_tokens, 1163);
});

test("Responses API: a result with input items, and a stream of events", async () => {
  const read = fresh();
  const openai = client();
  const f = fixture("openai-responses");
  const fs = fixture("openai-responses-stream");
  srv.reply({ json: f.response }, { sse: fs.sse });
  let result;
  const got = [];
  await trace(async () => {
    result = await openai.responses.create(f.request);
    for await (const e of await openai.responses.create(fs.request)) got.push(e);
  }, "responses")();
  assert.equal(result.output_text, "It is 21°C and sunny in Paris: a good day for a walk.", "the SDK's helpers are there");
  assert.deepEqual({ ...result, output_text: undefined }, { ...f.response, output_text: undefined });
  assert.deepEqual(got, events(fs));

  const { traces } = await read();
  assert.equal(traces[0].total_tokens, 499 + 326);
  const [, a, b] = traces[0].spans;
  assert.equal(a.name, "openai.responses.create");
  assert.deepEqual(attrs(a), {
    "service.name": "default",
    "gen_ai.system": "openai",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "o4-mini",
    "gen_ai.response.model": "o4-mini-2025-04-16",
    "gen_ai.response.id": "resp_68a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5",
    "gen_ai.request.max_tokens": 500,
    "gen_ai.usage.input_tokens": 412,
    "gen_ai.usage.output_tokens": 87,
    "gen_ai.usage.total_tokens": 499,
    "gen_ai.usage.cache_read_input_tokens": 256,
    "gen_ai.usage.reasoning_tokens": 64,
    "gen_ai.response.finish_reasons": ["stop"],
  });
  assert.deepEqual(a.prompts.map((p) => [p.role, p.content]), [
    ["system", "You are a helpful travel agent."],
    ["user", "What's the weather in Paris?"],
    ["assistant", a.prompts[2].content],
    ["tool", '{"celsius":21,"sky":"sunny"}'],
  ]);
  assert.deepEqual(JSON.parse(a.prompts[2].content), f.request.input[1]);
  assert.deepEqual(a.completions, [{ span_id: a.id, role: "assistant", content: "It is 21°C and sunny in Paris: a good day for a walk.", finish_reason: "stop", total_tokens: 499, prompt_tokens: 412, completion_tokens: 87 }]);

  assert.deepEqual(b.attributes.output, events(fs).at(-1).response, "the output is the completed response");
  assert.deepEqual([b.attributes["gen_ai.request.temperature"], b.attributes["gen_ai.usage.total_tokens"], b.attributes["gen_ai.response.finish_reasons"]], [0.5, 326, ["tool_calls"]]);
  assert.deepEqual(b.prompts.map((p) => [p.role, p.content]), [["user", "What's the weather in Paris?"]]);
  assert.deepEqual(b.completions, [{ span_id: b.id, role: "assistant", content: "Let me check the weather.", finish_reason: "tool_calls", total_tokens: 326, prompt_tokens: 301, completion_tokens: 25 }]);
  assert.deepEqual(b.tools, [{ span_id: b.id, name: "get_weather", arguments: '{"city":"Paris"}' }]);
});

test("embeddings: usage and inputs recorded, vectors as their length; the user gets the vectors", async () => {
  const read = fresh();
  const openai = client();
  const f = fixture("openai-embeddings");
  srv.reply({ json: f.response });
  const result = await trace(() => openai.embeddings.create(f.request), "embed")();
  assert.equal(srv.requests.at(-1).body.encoding_format, "base64", "the SDK asks for base64 and decodes it");
  assert.deepEqual(result.usage, f.response.usage);
  result.data.forEach((d, i) => f.response.data[i].embedding.forEach((v, j) => assert.ok(Math.abs(d.embedding[j] - v) < 1e-6)));
  const { traces } = await read();
  const [root, s] = traces[0].spans;
  assert.equal(traces[0].total_tokens, 4);
  assert.equal(root.attributes["gen_ai.usage.total_tokens"], undefined, "the root returned the same response: counted once");
  assert.deepEqual(attrs(s), {
    "service.name": "default",
    "gen_ai.system": "openai",
    "gen_ai.operation.name": "embeddings",
    "gen_ai.request.model": "text-embedding-3-small",
    "gen_ai.response.model": "text-embedding-3-small",
    "gen_ai.usage.input_tokens": 4,
    "gen_ai.usage.output_tokens": 0,
    "gen_ai.usage.total_tokens": 4,
    "gen_ai.response.finish_reasons": [],
  });
  assert.deepEqual(s.attributes.output, {
    object: "list",
    model: "text-embedding-3-small",
    usage: { prompt_tokens: 4, total_tokens: 4 },
    data: [
      { object: "embedding", index: 0, embedding: "[8 numbers]" },
      { object: "embedding", index: 1, embedding: "[8 numbers]" },
    ],
  });
  assert.deepEqual(s.prompts.map((p) => [p.role, p.content]), [["user", "Paris weather"], ["user", "Lyon weather"]]);
  assert.deepEqual([s.completions, s.tools], [[], []]);
});

test("API errors are recorded with status and type, and rethrown unchanged", async () => {
  const read = fresh();
  const f = fixture("openai-chat-tools");
  const cases = [
    [400, { error: { message: "Invalid 'messages[1].content': string too long.", type: "invalid_request_error", param: "messages[1].content", code: "string_above_max_length" } }, OpenAI.BadRequestError],
    [429, { error: { message: "Rate limit reached for gpt-4.1 on tokens per min (TPM): Limit 30000, Used 30000, Requested 1163.", type: "tokens", param: null, code: "rate_limit_exceeded" } }, OpenAI.RateLimitError],
    [500, { error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null } }, OpenAI.InternalServerError],
  ];
  const openai = client();
  const raw = rawClient();
  const errors = [];
  for (const [status, body, Class] of cases) {
    srv.reply({ status, json: body }, { status, json: body });
    const unwrapped = await raw.chat.completions.create(f.request).catch((e) => e);
    const p = trace(() => openai.chat.completions.create(f.request), `call-${status}`)();
    const e = await p.catch((x) => x);
    assert.ok(e instanceof Class && e.constructor === unwrapped.constructor);
    assert.deepEqual([e.status, e.message, e.type, e.code, Object.keys(e)], [status, unwrapped.message, unwrapped.type, unwrapped.code, Object.keys(unwrapped)]);
    assert.deepEqual(e.error, body.error);
    assert.equal(await p.catch((x) => x), e, "the same error object every time");
    errors.push(e);
  }
  const { traces } = await read();
  assert.deepEqual(traces.map((t) => [t.name, t.status, t.total_tokens]), [["call-400", "error", 0], ["call-429", "error", 0], ["call-500", "error", 0]]);
  const spans = traces.map((t) => t.spans[1]);
  const norm = (m) => m.replace(/request id req_\d+/, "request id req_N");
  assert.deepEqual(spans.map((s) => [s.name, s.kind, s.status, s.attributes["error.type"], norm(s.attributes["error.message"])]), [
    ["openai.chat.completions.create", "llm", "error", "BadRequestError", "400 Invalid 'messages[1].content': string too long. (status 400, type invalid_request_error, code string_above_max_length, request id req_N)"],
    ["openai.chat.completions.create", "llm", "error", "RateLimitError", "429 Rate limit reached for gpt-4.1 on tokens per min (TPM): Limit 30000, Used 30000, Requested 1163. (status 429, type tokens, code rate_limit_exceeded, request id req_N)"],
    ["openai.chat.completions.create", "llm", "error", "InternalServerError", "500 The server had an error while processing your request. (status 500, type server_error, request id req_N)"],
  ]);
  spans.forEach((s, i) => assert.equal(s.attributes["error.stack"], errors[i].stack));
  for (const s of spans) {
    // The request is kept: model, parameters, prompts; no answer.
    assert.deepEqual([s.attributes["gen_ai.system"], s.attributes["gen_ai.request.model"], s.attributes["gen_ai.request.temperature"], s.attributes["gen_ai.request.max_tokens"]], ["openai", "gpt-4.1", 0.2, 300]);
    assert.deepEqual(s.attributes.input, [f.request]);
    assert.deepEqual([s.prompts.length, s.completions, s.tools], [2, [], []]);
  }
});

test("an error in the middle of a stream ends the span with it; the chunks before it were delivered", async () => {
  const read = fresh();
  const openai = client();
  const f = fixture("openai-chat-stream-text");
  srv.reply({ sse: [...f.sse.slice(0, 3), { data: { error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null } } }] });
  const got = [];
  const err = await trace(async () => {
    for await (const c of await openai.chat.completions.create(f.request)) got.push(c);
  }, "broken")().catch((e) => e);
  assert.ok(err instanceof OpenAI.APIError);
  assert.deepEqual(got, events(f).slice(0, 3));
  const { traces } = await read();
  const s = traces[0].spans[1];
  assert.deepEqual([s.status, s.attributes["error.type"], s.attributes["error.message"]], ["error", "APIError", `The server had an error while processing your request. (type server_error, request id ${err.requestID})`]);
  assert.match(err.requestID, /^req_\d+$/);
  assert.deepEqual(s.completions.map((c) => [c.content, c.finish_reason]), [["It is", null]], "what came before the error");
});

test("the wrapped client is the same client: instanceof, properties, other methods; the raw one is untouched", async () => {
  const read = fresh();
  const raw = rawClient();
  const before = Object.getOwnPropertyNames(raw);
  const openai = wrapOpenAI(raw);
  assert.ok(openai instanceof OpenAI);
  assert.equal(openai.apiKey, "sk-test");
  assert.equal(openai.baseURL, `${srv.url}/v1`);
  assert.equal(openai.models, raw.models, "resources that are not traced are the client's own");
  assert.equal(openai.chat.completions.create, openai.chat.completions.create, "stable identity");
  assert.equal(wrapOpenAI(openai), openai, "wrapping twice changes nothing");
  assert.equal(typeof openai.buildURL, "function");
  assert.equal(openai.buildURL("/x", null), raw.buildURL("/x", null), "methods with private state work");
  assert.deepEqual(Object.getOwnPropertyNames(raw), before);
  assert.equal(raw.chat.completions.create, OpenAI.Chat.Completions.prototype.create, "nothing patched on the real client");
  assert.throws(() => wrapOpenAI(null), TypeError);
  // withOptions() gives a traced copy.
  const copy = openai.withOptions({ timeout: 5000 });
  assert.ok(copy instanceof OpenAI);
  const f = fixture("openai-chat-tools");
  srv.reply({ json: f.response }, { json: f.response });
  await copy.chat.completions.create(f.request);
  await raw.chat.completions.create(f.request);
  const { traces } = await read();
  assert.deepEqual(traces.map((t) => [t.name, t.spans.length, t.total_tokens]), [["openai.chat.completions.create", 1, 1163]], "the raw client's call is not traced");
});

test("a span returning the wrapped call's response is not a second LLM call", async () => {
  const read = fresh();
  const openai = client();
  const f = fixture("openai-chat-tools");
  srv.reply({ json: f.response });
  const ask = span(async (req) => openai.chat.completions.create(req), "ask");
  const got = await trace(async () => ask(f.request), "main")();
  assert.deepEqual(got, f.response);
  const { traces } = await read();
  assert.equal(traces[0].total_tokens, 1163);
  assert.deepEqual(traces[0].spans.map((s) => [s.name, s.kind, s.depth, s.attributes["gen_ai.usage.total_tokens"] ?? null]), [
    ["main", "trace", 0, null],
    ["ask", "span", 1, null],
    ["openai.chat.completions.create", "llm", 2, 1163],
  ]);
});

test("concurrent streamed calls: each span gets its own chunks", async () => {
  const read = fresh();
  const openai = client();
  const answer = (request) => {
    const n = request.body.messages[0].content;
    const base = { id: `chatcmpl-${n}`, object: "chat.completion.chunk", created: 1, model: "gpt-4.1-mini" };
    return {
      pauseMs: 2,
      sse: [
        ...["answer", " to", ` ${n}`].map((content) => ({ data: { ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }], usage: null } })),
        { data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null } },
        { data: { ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: Number(n), total_tokens: 10 + Number(n) } } },
        { data: "[DONE]" },
      ],
    };
  };
  const n = 20;
  for (let i = 0; i < n; i++) srv.reply(answer);
  const one = trace(async (i) => {
    let text = "";
    const s = await openai.chat.completions.create({ model: "gpt-4.1-mini", messages: [{ role: "user", content: String(i) }], stream: true, stream_options: { include_usage: true } });
    for await (const c of s) text += c.choices[0]?.delta.content ?? "";
    return text;
  }, "one");
  const texts = await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  texts.forEach((t, i) => assert.equal(t, `answer to ${i}`));
  const { traces } = await read();
  assert.equal(traces.length, n);
  for (const t of traces) {
    const i = Number(t.spans[0].attributes.input[0]);
    const s = t.spans[1];
    assert.deepEqual([s.completions[0].content, s.attributes["gen_ai.response.id"], t.total_tokens], [`answer to ${i}`, `chatcmpl-${i}`, 10 + i]);
  }
});

test("capture rules apply to what streams bring: a redact function sees the chunks; output off keeps usage, not texts", async () => {
  const openai = client();
  const f = fixture("openai-chat-stream-text");
  const ft = fixture("openai-chat-stream-tools");
  init({ storage: "memory", redact: (v) => JSON.parse(JSON.stringify(v).replaceAll("Paris", "[city]")) });
  srv.reply({ sse: f.sse });
  let text = "";
  for await (const c of await openai.chat.completions.create(f.request)) text += c.choices[0]?.delta.content ?? "";
  assert.equal(text, "It is 21°C and sunny in Paris.", "the user's data is untouched");
  await flush();
  let s = readLocal().traces[0].spans[0];
  assert.equal(s.completions[0].content, "It is 21°C and sunny in [city].");
  assert.equal(s.prompts[0].content, "What's the weather in [city]?");
  assert.equal(s.attributes.output.choices[0].message.content, "It is 21°C and sunny in [city].");

  init({ storage: "memory", capture: { output: false } });
  srv.reply({ sse: ft.sse });
  for await (const c of await openai.chat.completions.create(ft.request)) void c;
  await flush();
  s = readLocal().traces[0].spans[0];
  assert.equal(s.attributes.output, undefined);
  assert.deepEqual([s.attributes["gen_ai.usage.total_tokens"], s.attributes["gen_ai.response.finish_reasons"]], [1182, ["tool_calls"]]);
  assert.deepEqual(s.completions.map((c) => [c.content, c.finish_reason, c.total_tokens]), [["", "tool_calls", 1182]]);
  assert.deepEqual(s.tools.map((t) => [t.name, t.arguments]), [["get_weather", ""], ["get_time", ""]]);
});
