// agensight-wasm/openai-agents with the real `@openai/agents` (its OpenAI provider against the
// local stand-in for the Responses API): a triage agent handing off to a weather agent that
// calls a function tool; the exact span tree (agent run, agents, turns, model responses as
// llm spans with usage and tool calls, the handoff, the tool), a failing tool.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Agent, Runner, tool, setTraceProcessors, OpenAIProvider } from "@openai/agents";
import { z } from "zod";
import { importPackage } from "../support/package.mjs";
import { startServer } from "../llm/server.mjs";
import { fresh, tree, llmAttrs } from "./records.mjs";
import { responsesJson, functionCall, outputMessage, responsesUsage, chatJson } from "./doubles.mjs";

const { trace } = await importPackage();
const { agensightTraceProcessor } = await importPackage("agensight-wasm/openai-agents");

// The one line a user adds (setTraceProcessors: traces stay here, nothing goes to OpenAI).
setTraceProcessors([agensightTraceProcessor()]);

const srv = await startServer();
after(() => srv.close());

const runner = new Runner({ modelProvider: new OpenAIProvider({ apiKey: "sk-test", baseURL: `${srv.url}/v1` }), tracingDisabled: false });

function agents(weatherImpl) {
  const getWeather = tool({ name: "get_weather", description: "Current weather for a city", parameters: z.object({ city: z.string() }), execute: weatherImpl });
  const weather = new Agent({ name: "Weather agent", instructions: "Answer weather questions.", tools: [getWeather], model: "gpt-4.1" });
  return new Agent({ name: "Triage agent", instructions: "Route the question.", handoffs: [weather], model: "gpt-4.1" });
}

test("a handoff and a tool call: the agent run, agents, model responses (llm), the handoff and the tool in one tree", async () => {
  const read = fresh();
  srv.reply(
    { json: responsesJson({ id: "resp_1", model: "gpt-4.1-2025-04-14", output: [functionCall("call_h", "transfer_to_Weather_agent", {})], usage: responsesUsage(100, 10) }) },
    { json: responsesJson({ id: "resp_2", model: "gpt-4.1-2025-04-14", output: [functionCall("call_w", "get_weather", { city: "Paris" })], usage: responsesUsage(200, 20, 128) }) },
    { json: responsesJson({ id: "resp_3", model: "gpt-4.1-2025-04-14", output: [outputMessage("msg_3", "21°C in Paris.")], usage: responsesUsage(300, 30) }) },
  );
  const r = await trace(() => runner.run(agents(async ({ city }) => ({ city, celsius: 21 })), "Weather in Paris?"), "main")();
  assert.equal(r.finalOutput, "21°C in Paris.");
  assert.deepEqual(srv.requests.slice(-3).map((q) => q.url), ["/v1/responses", "/v1/responses", "/v1/responses"]);

  const { traces } = await read();
  assert.equal(traces.length, 1);
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["main", "trace", "ok", null],
    ["Agent workflow", "agent", "ok", 0],
    ["Agent workflow", "span", "ok", 1],
    ["Triage agent", "agent", "ok", 2],
    ["turn", "span", "ok", 3],
    ["response", "llm", "ok", 4],
    ["handoff", "handoff", "ok", 4],
    ["Weather agent", "agent", "ok", 2],
    ["turn", "span", "ok", 7],
    ["response", "llm", "ok", 8],
    ["get_weather", "tool", "ok", 8],
    ["turn", "span", "ok", 7],
    ["response", "llm", "ok", 11],
  ]);
  assert.equal(t.total_tokens, 110 + 220 + 330, "each model response counted once");
  const s = t.spans;
  assert.deepEqual(llmAttrs(s[9]), {
    "gen_ai.system": "openai",
    "gen_ai.operation.name": "chat",
    "gen_ai.response.model": "gpt-4.1-2025-04-14",
    "gen_ai.response.id": "resp_2",
    "gen_ai.usage.input_tokens": 200,
    "gen_ai.usage.output_tokens": 20,
    "gen_ai.usage.total_tokens": 220,
    "gen_ai.usage.cache_read_input_tokens": 128,
    "gen_ai.usage.reasoning_tokens": 0,
    "gen_ai.response.finish_reasons": ["tool_calls"],
  });
  assert.deepEqual(s[9].tools.map((x) => [x.name, x.arguments]), [["get_weather", '{"city":"Paris"}']]);
  assert.deepEqual(s[5].tools.map((x) => x.name), ["transfer_to_Weather_agent"]);
  assert.deepEqual(s[12].completions.map((c) => [c.content, c.finish_reason, c.total_tokens]), [["21°C in Paris.", "stop", 330]]);
  assert.deepEqual(s[6].attributes.output, { from_agent: "Triage agent", to_agent: "Weather agent" });
  assert.deepEqual([s[10].attributes.input, s[10].attributes.output], [[], { arguments: { city: "Paris" }, output: { city: "Paris", celsius: 21 } }]);
  assert.deepEqual(s[3].attributes.output, { name: "Triage agent", tools: [], handoffs: ["Weather agent"], output_type: "text" });
  assert.deepEqual(s[7].attributes.output, { name: "Weather agent", tools: ["get_weather"], handoffs: [], output_type: "text" });
});

test("a tool that throws: its tool span fails, the run goes on", async () => {
  const read = fresh();
  srv.reply(
    { json: responsesJson({ id: "resp_a", model: "gpt-4.1", output: [functionCall("call_h2", "transfer_to_Weather_agent", {})], usage: responsesUsage(10, 1) }) },
    { json: responsesJson({ id: "resp_b", model: "gpt-4.1", output: [functionCall("call_w2", "get_weather", { city: "Lyon" })], usage: responsesUsage(20, 2) }) },
    { json: responsesJson({ id: "resp_c", model: "gpt-4.1", output: [outputMessage("msg_c", "The weather service is down.")], usage: responsesUsage(30, 3) }) },
  );
  const r = await trace(
    () =>
      runner.run(
        agents(async () => {
          throw new Error("weather service down");
        }),
        "Weather in Lyon?",
      ),
    "main",
  )();
  assert.equal(r.finalOutput, "The weather service is down.");
  const { traces } = await read();
  const t = traces[0];
  const toolSpan = t.spans.find((x) => x.name === "get_weather");
  assert.deepEqual([toolSpan.kind, toolSpan.status], ["tool", "error"]);
  // The SDK's error for the span, with its details (which it redacts by default).
  assert.deepEqual([toolSpan.attributes["error.type"], toolSpan.attributes["error.message"]], ["ToolError", "Error running tool (non-fatal): Tool execution failed. Error details are redacted."]);
  assert.equal(srv.requests.at(-1).body.input.at(-1).output, "An error occurred while running the tool. Please try again.");
  assert.equal(t.total_tokens, 11 + 22 + 33);
});

test("a Chat Completions model: generation spans are llm spans with the chat.completion", async () => {
  const read = fresh();
  const chatRunner = new Runner({ modelProvider: new OpenAIProvider({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, useResponses: false }), tracingDisabled: false });
  srv.reply({ json: chatJson({ id: "chatcmpl-agent", model: "gpt-4.1-2025-04-14", content: "Hello from the chat model.", usage: { prompt_tokens: 40, completion_tokens: 6, total_tokens: 46 } }) });
  const r = await trace(() => chatRunner.run(new Agent({ name: "Greeter", instructions: "Greet.", model: "gpt-4.1" }), "Hi"), "main")();
  assert.equal(r.finalOutput, "Hello from the chat model.");
  assert.equal(srv.requests.at(-1).url, "/v1/chat/completions");
  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["main", "trace", "ok", null],
    ["Agent workflow", "agent", "ok", 0],
    ["Agent workflow", "span", "ok", 1],
    ["Greeter", "agent", "ok", 2],
    ["turn", "span", "ok", 3],
    ["generation", "llm", "ok", 4],
  ]);
  assert.equal(t.total_tokens, 46);
  const g = t.spans[5];
  assert.deepEqual([g.attributes["gen_ai.request.model"], g.attributes["gen_ai.response.id"]], ["gpt-4.1", "chatcmpl-agent"]);
  assert.deepEqual(g.completions.map((c) => [c.content, c.finish_reason, c.total_tokens]), [["Hello from the chat model.", "stop", 46]]);
});
