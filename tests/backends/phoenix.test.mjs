// A real Arize Phoenix (tests/backends/phoenix.mjs: `phoenix serve` on 127.0.0.1) receives
// this package's OTLP export of the docs' multi-agent example plus wrapOpenAI calls (a JSON
// answer, a stream, a failing call), and what Phoenix's REST API shows is checked against what
// a user expects to see there (issue 13): LLM spans as LLM with model, token counts, input and
// output messages and tool calls; the tool as a TOOL with arguments and result; the root as an
// AGENT or CHAIN; errors with their exception; the session with its traces; the spans in a
// project named after init's `name`; the trace's metadata. The OpenAI API is the local double
// of tests/llm/server.mjs. The last test posts the protobuf encoder's sample (src/encode/otlp_proto.rs)
// straight to Phoenix.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import OpenAI from "openai";
import { importPackage, ROOT } from "../support/package.mjs";
import { startServer, fixture } from "../llm/server.mjs";
import { startPhoenix } from "./phoenix.mjs";

const { init, trace, span, flush, wrapOpenAI } = await importPackage();
const TOOLS = [{ type: "function", function: { name: "get_weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
const chat = (id, message, finish, usage) => ({ json: { id, object: "chat.completion", created: 1700000000, model: "gpt-4o-mini-2024-07-18", choices: [{ index: 0, message, finish_reason: finish }], usage } });

let ph, llm, flushed;
// The docs example: root, llm x2 each with its OpenAI call, the tool (6); a JSON call and a stream
// (1 each); a failing call in its trace (2).
const SPANS = 10;
before(async () => {
  ph = await startPhoenix();
  llm = await startServer();
  llm.reply(
    chat("chatcmpl-1", { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }, "tool_calls", { prompt_tokens: 52, completion_tokens: 17, total_tokens: 69 }),
    chat("chatcmpl-2", { role: "assistant", content: "Sunny, 21°C." }, "stop", { prompt_tokens: 88, completion_tokens: 21, total_tokens: 109 }),
    chat("chatcmpl-3", { role: "assistant", content: "Hello!" }, "stop", { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }),
    { sse: fixture("openai-chat-stream-text").sse },
    { status: 429, json: { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }, headers: { "retry-after": "0" } },
  );
  init({ name: "chat-service", mode: "prod", exporter: "otlp", endpoint: ph.traces, storage: "memory", queue: { batchDelayMs: 0 } });
  const client = wrapOpenAI(new OpenAI({ baseURL: `${llm.url}/v1`, apiKey: "sk-test-not-a-key", maxRetries: 0 }));
  const callLlm = span(async (messages) => client.chat.completions.create({ model: "gpt-4o-mini", messages, tools: TOOLS }), { name: "llm" });
  const getWeather = span(async ({ city }) => ({ city, celsius: 21, sky: "sunny" }), { name: "get_weather", kind: "tool" });
  const main = trace(async (question) => {
    const messages = [{ role: "user", content: question }];
    const plan = await callLlm(messages);
    const call = plan.choices[0].message.tool_calls[0];
    const weather = await getWeather(JSON.parse(call.function.arguments));
    messages.push(plan.choices[0].message, { role: "tool", tool_call_id: call.id, content: JSON.stringify(weather) });
    return (await callLlm(messages)).choices[0].message.content;
  }, { name: "multi_agent_chat", session: { id: "user_789", name: "multi agent chat", user_id: "123" }, metadata: { plan: "pro" } });
  assert.equal(await main("Weather in Paris?"), "Sunny, 21°C.");
  await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] });
  for await (const _ of await client.chat.completions.create(fixture("openai-chat-stream-text").request));
  await assert.rejects(trace(() => client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Again" }] }), "failing")(), { status: 429 });
  flushed = await flush();
});
after(async () => {
  await ph?.stop();
  await llm?.close();
});

/** The project's spans once Phoenix has stored `n` (it inserts in the background), by name. */
async function spans(project, n) {
  let found = [];
  for (let i = 0; i < 40 && found.length < n; i++) {
    found = await ph.spans(project).catch(() => []);
    if (found.length < n) await new Promise((r) => setTimeout(r, 250));
  }
  return found;
}
const byName = (list, name) => list.filter((s) => s.name === name);

test("flush(): every span was accepted by Phoenix", () => {
  assert.deepEqual(flushed, { exported: SPANS, failed: 0, pending: 0, dropped: 0 });
});

test("the spans land in a project named after init's name", async () => {
  // Spans first: Phoenix stores them (and makes the project) in the background.
  assert.equal((await spans("chat-service", SPANS)).length, SPANS);
  const projects = await ph.projects();
  assert.deepEqual(projects.map((p) => p.name).filter((n) => n === "chat-service"), ["chat-service"], JSON.stringify(projects));
});

test("LLM spans show as LLM with model, token counts, input and output messages, tool calls", async () => {
  const all = await spans("chat-service", SPANS);
  const calls = byName(all, "openai.chat.completions.create");
  assert.equal(calls.length, 5, "five OpenAI calls");
  for (const s of calls) {
    assert.equal(s.span_kind, "LLM", `${s.name} kind`);
    assert.match(s.attributes["llm.model_name"] ?? "", /^(gpt-4o-mini|o4-mini)/, "model");
  }
  const [plan, answer] = calls.filter((s) => s.attributes["session.id"] === "user_789").sort((a, b) => a.start_time.localeCompare(b.start_time));
  assert.deepEqual([plan.attributes["llm.token_count.prompt"], plan.attributes["llm.token_count.completion"], plan.attributes["llm.token_count.total"]], [52, 17, 69]);
  assert.equal(plan.attributes["llm.input_messages.0.message.role"], "user");
  assert.equal(plan.attributes["llm.input_messages.0.message.content"], "Weather in Paris?");
  assert.equal(plan.attributes["llm.output_messages.0.message.role"], "assistant");
  assert.equal(plan.attributes["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"], "get_weather");
  assert.equal(plan.attributes["llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments"], '{"city":"Paris"}');
  assert.equal(answer.attributes["llm.output_messages.0.message.content"], "Sunny, 21°C.");
  const stream = calls.find((s) => (s.attributes["llm.model_name"] ?? "").startsWith("o4-mini"));
  assert.ok(stream, "the streamed call is there");
  assert.equal(stream.attributes["llm.token_count.total"], 307);
  assert.ok(stream.attributes["llm.output_messages.0.message.content"], "the stream's aggregated answer is its output message");
});

test("the tool span shows as a TOOL with its arguments and result", async () => {
  const [tool] = byName(await spans("chat-service", SPANS), "get_weather");
  assert.equal(tool?.span_kind, "TOOL");
  assert.equal(tool.attributes["tool.name"], "get_weather");
  assert.equal(tool.attributes["tool.id"], "call_1", "the id of the model's call the tool answers");
  assert.deepEqual(JSON.parse(tool.attributes["input.value"]), [{ city: "Paris" }]);
  assert.deepEqual(JSON.parse(tool.attributes["output.value"]), { city: "Paris", celsius: 21, sky: "sunny" });
});

test("the trace's root shows as an AGENT or CHAIN, with the trace's metadata", async () => {
  const [root] = byName(await spans("chat-service", SPANS), "multi_agent_chat");
  assert.ok(["AGENT", "CHAIN"].includes(root?.span_kind), `root kind: ${root?.span_kind}`);
  assert.equal(root.attributes["metadata.plan"], "pro");
});

test("errors show with status ERROR and their exception", async () => {
  const failed = (await spans("chat-service", SPANS)).filter((s) => s.status_code === "ERROR");
  assert.deepEqual(failed.map((s) => s.name).sort(), ["failing", "openai.chat.completions.create"]);
  const call = failed.find((s) => s.name !== "failing");
  assert.equal(call.span_kind, "LLM");
  assert.match(call.status_message, /429/);
  assert.equal(call.events[0]?.name, "exception");
  assert.equal(call.events[0].attributes["exception.type"], "RateLimitError");
});

test("the session shows with its trace and user", async () => {
  const sessions = await ph.sessions("chat-service").catch((e) => assert.fail(e.message));
  const s = sessions.find((x) => x.session_id === "user_789");
  assert.ok(s, "session user_789 listed");
  assert.equal(s.traces.length, 1);
  assert.deepEqual([s.token_count_prompt, s.token_count_completion, s.token_count_total], [140, 38, 178]);
  const [root] = byName(await spans("chat-service", SPANS), "multi_agent_chat");
  assert.equal(root.attributes["user.id"], "123");
});

test("the protobuf encoder's sample (src/encode/otlp_proto.rs) is accepted and stored by Phoenix", async () => {
  const dir = mkdtempSync(join(tmpdir(), "otlp-proto-"));
  await promisify(execFile)("cargo", ["test", "--quiet", "--lib", "encode::otlp_proto::tests::cross_check_fixtures", "--", "--exact"], { cwd: ROOT, env: { ...process.env, OTLP_PROTO_DUMP: dir } });
  const r = await fetch(ph.traces, { method: "POST", headers: { "content-type": "application/x-protobuf" }, body: readFileSync(join(dir, "sample.pb")) });
  assert.equal(r.status, 200, await r.text());
  // The sample's resource names the project as init({ name: "chat-service" }) does
  // (openinference.project.name): its 6 spans join the example's.
  const SAMPLE = ["0000000000000002", "0000000000000003", "0000000000000004", "0000000000000005", "0000000000000006", "00f067aa0ba902b7"];
  const stored = (await spans("chat-service", SPANS + SAMPLE.length)).filter((s) => SAMPLE.includes(s.context.span_id));
  assert.deepEqual(stored.map((s) => s.context.span_id).sort(), ["0000000000000002", "0000000000000003", "0000000000000004", "0000000000000005", "0000000000000006", "00f067aa0ba902b7"]);
  const kinds = Object.fromEntries(stored.map((s) => [s.context.span_id, s.span_kind]));
  assert.deepEqual([kinds["0000000000000002"], kinds["0000000000000003"]], ["LLM", "TOOL"]);
  assert.deepEqual(stored.map((s) => s.name).sort(), ["", "get_weather", "late", "llm", "multi_agent_chat", "quiet"]);
});
