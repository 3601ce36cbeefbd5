// wrapAnthropic with the real `@anthropic-ai/sdk` client against a local server that answers
// like the Anthropic API: exact records for messages (plain, `stream: true`, the
// `messages.stream()` helper with its MessageStream), tool use and API errors.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { Stream } from "@anthropic-ai/sdk/streaming";
import { MessageStream } from "@anthropic-ai/sdk/lib/MessageStream";
import { importPackage } from "../support/package.mjs";
import { startServer, fixture, events } from "./server.mjs";

const { init, trace, span, flush, readLocal, wrapAnthropic } = await importPackage();

const srv = await startServer();
after(() => srv.close());

const rawClient = () => new Anthropic({ apiKey: "test-key", baseURL: srv.url, maxRetries: 0 });
const client = () => wrapAnthropic(rawClient());

function fresh() {
  init({ storage: "memory" });
  return async () => {
    await flush();
    return readLocal();
  };
}

function attrs(s) {
  const { input, output, ...rest } = s.attributes;
  return rest;
}

/** The events the SDK yields: all but `ping`. */
const yielded = (f) => events(f).filter((e) => e.type !== "ping");

const FINAL = {
  id: "msg_01Bx7yZ2cW3dE4fG5hJ6kL7m",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5-20250929",
  content: [{ type: "text", text: "It is 21°C and sunny in Paris.", citations: null }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 580, cache_creation_input_tokens: 0, cache_read_input_tokens: 2048, output_tokens: 14, service_tier: "standard" },
};

test("messages.create with tool use, the tool as a span under the LLM span's parent, then the answer", async () => {
  const read = fresh();
  const anthropic = client();
  const f = fixture("anthropic-message-tools");
  srv.reply({ json: f.response }, { json: FINAL });
  const getWeather = span(async ({ city }) => ({ city, celsius: 21, sky: "sunny" }), { name: "get_weather", kind: "tool" });
  let first;
  let second;
  let followUp;
  await trace(async () => {
    first = await anthropic.messages.create(f.request);
    const use = first.content.find((b) => b.type === "tool_use");
    const weather = await getWeather(use.input);
    followUp = {
      ...f.request,
      messages: [...f.request.messages, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: JSON.stringify(weather) }] }],
    };
    second = await anthropic.messages.create(followUp);
  }, "main")();
  assert.deepEqual(first, f.response);
  assert.deepEqual(second, FINAL);
  assert.deepEqual(srv.requests.at(-2).body, f.request);

  const { traces } = await read();
  const t = traces[0];
  assert.equal(t.total_tokens, 472 + 2048 + 89 + (580 + 2048 + 14));
  const [root, a, tool, b] = t.spans;
  assert.deepEqual(t.spans.map((s) => [s.name, s.kind, s.status, s.parent_id]), [
    ["main", "trace", "ok", null],
    ["anthropic.messages.create", "llm", "ok", root.id],
    ["get_weather", "tool", "ok", root.id],
    ["anthropic.messages.create", "llm", "ok", root.id],
  ]);
  assert.equal(tool.parent_id, a.parent_id);
  assert.deepEqual(tool.attributes.input, [{ city: "Paris", unit: "celsius" }]);
  assert.deepEqual(a.attributes.input, [f.request]);
  assert.deepEqual(a.attributes.output, f.response);
  assert.deepEqual(attrs(a), {
    "service.name": "default",
    "gen_ai.system": "anthropic",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.response.model": "claude-sonnet-4-5-20250929",
    "gen_ai.response.id": "msg_01Aq9w938a90dw8qXYZabcde",
    "gen_ai.request.temperature": 0.3,
    "gen_ai.request.max_tokens": 1024,
    "gen_ai.usage.input_tokens": 2520,
    "gen_ai.usage.output_tokens": 89,
    "gen_ai.usage.total_tokens": 2609,
    "gen_ai.usage.cache_read_input_tokens": 2048,
    "gen_ai.usage.cache_creation_input_tokens": 0,
    "gen_ai.response.finish_reasons": ["tool_use"],
  });
  assert.deepEqual(a.prompts, [
    { span_id: a.id, role: "system", content: "You are a helpful travel agent.", message_index: 0 },
    { span_id: a.id, role: "user", content: "What's the weather in Paris?", message_index: 1 },
  ]);
  assert.deepEqual(a.completions, [{ span_id: a.id, role: "assistant", content: "I'll check the weather in Paris for you.", finish_reason: "tool_use", total_tokens: 2609, prompt_tokens: 2520, completion_tokens: 89 }]);
  assert.deepEqual(a.tools, [{ span_id: a.id, name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' }]);

  assert.deepEqual(b.prompts.map((p) => p.role), ["system", "user", "assistant", "user"]);
  assert.deepEqual(JSON.parse(b.prompts[2].content), f.response.content);
  assert.deepEqual(JSON.parse(b.prompts[3].content), followUp.messages[2].content);
  assert.deepEqual(b.completions, [{ span_id: b.id, role: "assistant", content: "It is 21°C and sunny in Paris.", finish_reason: "end_turn", total_tokens: 2642, prompt_tokens: 2628, completion_tokens: 14 }]);
  assert.deepEqual(b.tools, []);
});

test("stream: true: the SDK's Stream yields exactly the events; thinking, text and tool input aggregated", async () => {
  const read = fresh();
  const anthropic = client();
  const f = fixture("anthropic-stream-tools");
  srv.reply({ sse: f.sse });
  const got = [];
  await trace(async () => {
    const stream = await anthropic.messages.create(f.request);
    assert.ok(stream instanceof Stream);
    for await (const e of stream) got.push(e);
  }, "main")();
  assert.deepEqual(got, yielded(f));
  const { traces } = await read();
  const s = traces[0].spans[1];
  assert.equal(traces[0].total_tokens, 512 + 1024 + 156);
  // A thinking block's `signature` sits under a secret name: masked like any (issue 15).
  assert.deepEqual(s.attributes.output, {
    id: "msg_01XFDUDYJgAACzvnptvVoYEL",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content: [
      { type: "thinking", thinking: "The user wants the weather in Paris; I should call get_weather.", signature: "[REDACTED]" },
      { type: "text", text: "Let me look that up." },
      { type: "tool_use", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", input: { city: "Paris", unit: "celsius" } },
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: { input_tokens: 512, cache_creation_input_tokens: 1024, cache_read_input_tokens: 0, output_tokens: 156, service_tier: "standard", output_tokens_details: { thinking_tokens: 60 } },
  });
  assert.deepEqual(attrs(s), {
    "service.name": "default",
    "gen_ai.system": "anthropic",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.response.model": "claude-sonnet-4-5-20250929",
    "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "gen_ai.request.max_tokens": 2048,
    "gen_ai.usage.input_tokens": 1536,
    "gen_ai.usage.output_tokens": 156,
    "gen_ai.usage.total_tokens": 1692,
    "gen_ai.usage.cache_read_input_tokens": 0,
    "gen_ai.usage.cache_creation_input_tokens": 1024,
    "gen_ai.usage.reasoning_tokens": 60,
    "gen_ai.response.finish_reasons": ["tool_use"],
  });
  assert.deepEqual(s.prompts, [{ span_id: s.id, role: "user", content: "What's the weather in Paris?", message_index: 0 }]);
  assert.deepEqual(s.completions, [{ span_id: s.id, role: "assistant", content: "Let me look that up.", finish_reason: "tool_use", total_tokens: 1692, prompt_tokens: 1536, completion_tokens: 156 }]);
  assert.deepEqual(s.tools, [{ span_id: s.id, name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' }]);
});

test("messages.stream(): the MessageStream and its helpers work; one span with the final message", async () => {
  const read = fresh();
  const anthropic = client();
  const f = fixture("anthropic-stream-tools");
  srv.reply({ sse: f.sse });
  const texts = [];
  let final;
  let ms;
  await trace(async () => {
    ms = anthropic.messages.stream(f.request);
    assert.ok(ms instanceof MessageStream);
    ms.on("text", (t) => texts.push(t));
    final = await ms.finalMessage();
  }, "main")();
  assert.deepEqual(texts, ["Let me", " look that", " up."]);
  assert.equal(final.content[2].type, "tool_use");
  assert.deepEqual(final.content[2].input, { city: "Paris", unit: "celsius" });
  assert.equal(final.usage.output_tokens, 156);
  assert.equal(srv.requests.at(-1).body.stream, true);
  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(t.spans.map((s) => [s.name, s.kind, s.status]), [
    ["main", "trace", "ok"],
    ["anthropic.messages.stream", "llm", "ok"],
  ]);
  const s = t.spans[1];
  assert.equal(t.total_tokens, 1692);
  assert.deepEqual(s.attributes.input, [f.request]);
  assert.deepEqual(
    s.attributes.output.content.map((b) => b.text ?? b.thinking ?? b.input),
    final.content.map((b) => b.text ?? b.thinking ?? b.input),
    "the recorded message is the one the helper built",
  );
  assert.deepEqual(s.completions, [{ span_id: s.id, role: "assistant", content: "Let me look that up.", finish_reason: "tool_use", total_tokens: 1692, prompt_tokens: 1536, completion_tokens: 156 }]);
  assert.deepEqual(s.tools, [{ span_id: s.id, name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' }]);
});

test("messages.stream() aborted after the first text: the span ends with what came", async () => {
  const read = fresh();
  const anthropic = client();
  const f = fixture("anthropic-stream-tools");
  srv.reply({ sse: f.sse, pauseMs: 10 });
  await trace(async () => {
    const ms = anthropic.messages.stream(f.request);
    await new Promise((resolve) =>
      ms.on("text", () => {
        ms.abort();
        resolve();
      }),
    );
    await ms.done().catch(() => {});
  }, "main")();
  for (let i = 0; i < 50; i++) {
    await flush();
    if (readLocal().traces[0]?.spans.length === 2) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const { traces } = await read();
  const s = traces[0].spans[1];
  assert.deepEqual([s.name, s.status], ["anthropic.messages.stream", "ok"]);
  assert.equal(s.attributes.output.content[1].text, "Let me");
  assert.deepEqual(s.completions.map((c) => [c.content, c.finish_reason]), [["Let me", null]]);
});

test("API errors are recorded with status and type, and rethrown unchanged", async () => {
  const read = fresh();
  const f = fixture("anthropic-message-tools");
  const cases = [
    [400, { type: "error", error: { type: "invalid_request_error", message: "max_tokens: Field required" } }, Anthropic.BadRequestError],
    [429, { type: "error", error: { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit" } }, Anthropic.RateLimitError],
    [500, { type: "error", error: { type: "api_error", message: "Internal server error" } }, Anthropic.InternalServerError],
  ];
  const anthropic = client();
  const raw = rawClient();
  const errors = [];
  for (const [status, body, Class] of cases) {
    srv.reply({ status, json: body }, { status, json: body });
    const unwrapped = await raw.messages.create(f.request).catch((e) => e);
    const p = trace(() => anthropic.messages.create(f.request), `call-${status}`)();
    const e = await p.catch((x) => x);
    assert.ok(e instanceof Class && e.constructor === unwrapped.constructor);
    assert.deepEqual([e.status, e.message, e.type, Object.keys(e)], [status, unwrapped.message, unwrapped.type, Object.keys(unwrapped)]);
    assert.equal(await p.catch((x) => x), e);
    errors.push(e);
  }
  const { traces } = await read();
  const norm = (m) => m.replace(/request id req_\d+/, "request id req_N");
  const spans = traces.map((t) => t.spans[1]);
  assert.deepEqual(spans.map((s) => [s.name, s.status, s.attributes["error.type"], norm(s.attributes["error.message"])]), [
    ["anthropic.messages.create", "error", "BadRequestError", `400 ${JSON.stringify(cases[0][1])} (status 400, type invalid_request_error, request id req_N)`],
    ["anthropic.messages.create", "error", "RateLimitError", `429 ${JSON.stringify(cases[1][1])} (status 429, type rate_limit_error, request id req_N)`],
    ["anthropic.messages.create", "error", "InternalServerError", `500 ${JSON.stringify(cases[2][1])} (status 500, type api_error, request id req_N)`],
  ]);
  spans.forEach((s, i) => {
    assert.equal(s.attributes["error.stack"], errors[i].stack);
    assert.deepEqual([s.attributes["gen_ai.system"], s.attributes["gen_ai.request.model"], s.attributes["gen_ai.request.max_tokens"], s.prompts.length, s.completions.length], ["anthropic", "claude-sonnet-4-5", 1024, 2, 0]);
  });
  assert.deepEqual(traces.map((t) => t.total_tokens), [0, 0, 0]);
});

test("an error event in the middle of a stream ends the span with it", async () => {
  const read = fresh();
  const anthropic = client();
  const f = fixture("anthropic-stream-tools");
  const overloaded = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
  srv.reply({ sse: [...f.sse.slice(0, 8), { event: "error", data: overloaded }] });
  const got = [];
  const err = await trace(async () => {
    for await (const e of await anthropic.messages.create(f.request)) got.push(e);
  }, "main")().catch((e) => e);
  assert.ok(err instanceof Anthropic.APIError);
  assert.equal(err.type, "overloaded_error");
  assert.deepEqual(got, yielded(f).slice(0, 7));
  const { traces } = await read();
  const s = traces[0].spans[1];
  assert.deepEqual([s.status, s.attributes["error.type"], s.attributes["error.message"]], ["error", "APIError", `${err.message} (type overloaded_error, request id ${err.requestID})`]);
  assert.equal(s.attributes["gen_ai.usage.input_tokens"], 1536, "usage from message_start");
});

test("the wrapped client is the same client", () => {
  const raw = rawClient();
  const anthropic = wrapAnthropic(raw);
  assert.ok(anthropic instanceof Anthropic);
  assert.equal(anthropic.apiKey, "test-key");
  assert.equal(anthropic.models, raw.models);
  assert.equal(anthropic.messages.create, anthropic.messages.create);
  assert.equal(typeof anthropic.messages.countTokens, "function");
  assert.equal(wrapAnthropic(anthropic), anthropic);
  assert.equal(raw.messages.create, Anthropic.Messages.prototype.create);
});

test("beta.messages.create and beta.messages.stream() are traced too", async () => {
  const read = fresh();
  const anthropic = client();
  const f = fixture("anthropic-message-tools");
  const fs = fixture("anthropic-stream-tools");
  srv.reply({ json: f.response }, { sse: fs.sse });
  let final;
  await trace(async () => {
    assert.deepEqual(await anthropic.beta.messages.create(f.request), f.response);
    final = await anthropic.beta.messages.stream(fs.request).finalMessage();
  }, "beta")();
  assert.equal(final.stop_reason, "tool_use");
  assert.match(srv.requests.at(-1).url, /^\/v1\/messages/);
  const { traces } = await read();
  assert.deepEqual(traces[0].spans.map((s) => [s.name, s.kind, s.attributes["gen_ai.usage.total_tokens"] ?? null]), [
    ["beta", "trace", null],
    ["anthropic.beta.messages.create", "llm", 2609],
    ["anthropic.beta.messages.stream", "llm", 1692],
  ]);
  assert.equal(traces[0].total_tokens, 2609 + 1692);
});
