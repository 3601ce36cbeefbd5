// agensight-wasm/langchain with the real `@langchain/core` and `@langchain/openai` (ChatOpenAI
// against the local stand-in for the OpenAI API): a chain with a retriever, a chat model
// with bound tools, the tool, the model's answer; exact span tree, usage, prompts, tool calls;
// errors.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { ChatOpenAI } from "@langchain/openai";
import { tool } from "@langchain/core/tools";
import { RunnableLambda } from "@langchain/core/runnables";
import { BaseRetriever } from "@langchain/core/retrievers";
import { Document } from "@langchain/core/documents";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { z } from "zod";
import { importPackage } from "../support/package.mjs";
import { startServer, fixture } from "../llm/server.mjs";
import { fresh, tree, llmAttrs } from "./records.mjs";
import { chatJson } from "./doubles.mjs";

const { trace } = await importPackage();
const { AgensightCallbackHandler } = await importPackage("agensight-wasm/langchain");

const srv = await startServer();
after(() => srv.close());

class Guides extends BaseRetriever {
  lc_namespace = ["tests", "retrievers"];
  async _getRelevantDocuments(query) {
    return [new Document({ pageContent: `Paris in spring: mild, ${query}`, metadata: { source: "guide.md" } })];
  }
}

const getWeather = tool(async ({ city, unit }) => JSON.stringify({ city, unit, celsius: 21 }), {
  name: "get_weather",
  description: "Current weather for a city",
  schema: z.object({ city: z.string(), unit: z.enum(["celsius", "fahrenheit"]) }),
});
const getTime = tool(async ({ timezone }) => `12:00 in ${timezone}`, {
  name: "get_time",
  description: "Local time in a time zone",
  schema: z.object({ timezone: z.string() }),
});

const model = () => new ChatOpenAI({ model: "gpt-4.1", temperature: 0.2, apiKey: "sk-test", maxRetries: 0, configuration: { baseURL: `${srv.url}/v1` } });

test("a chain with a retriever, a chat model with tools, the tools and the answer: one tree under the trace", async () => {
  const read = fresh();
  const f = fixture("openai-chat-tools");
  srv.reply({ json: f.response }, { json: chatJson({ id: "chatcmpl-lc-2", model: "gpt-4.1-2025-04-14", content: "21°C and sunny; it is noon.", usage: { prompt_tokens: 1250, completion_tokens: 12, total_tokens: 1262 } }) });
  const llm = model().bindTools([getWeather, getTime]);
  const agent = RunnableLambda.from(async (question, config) => {
    const docs = await new Guides().invoke(question, config);
    const messages = [new SystemMessage("You are a helpful travel agent."), new HumanMessage(`${question}\n\n${docs[0].pageContent}`)];
    const first = await llm.invoke(messages, config);
    messages.push(first);
    for (const call of first.tool_calls) messages.push(await (call.name === "get_weather" ? getWeather : getTime).invoke(call, config));
    const answer = await llm.invoke(messages, config);
    return answer.content;
  }).withConfig({ runName: "travel_agent" });

  const handler = new AgensightCallbackHandler();
  const out = await trace(() => agent.invoke("What's the weather and the local time in Paris?", { callbacks: [handler] }), "main")();
  assert.equal(out, "21°C and sunny; it is noon.");

  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["main", "trace", "ok", null],
    ["travel_agent", "chain", "ok", 0],
    ["Guides", "retriever", "ok", 1],
    ["ChatOpenAI", "llm", "ok", 1],
    ["get_weather", "tool", "ok", 1],
    ["get_time", "tool", "ok", 1],
    ["ChatOpenAI", "llm", "ok", 1],
  ]);
  assert.equal(t.total_tokens, 1163 + 1262);
  const [, chain, retriever, a, weather, time, b] = t.spans;
  assert.deepEqual(retriever.attributes.output, [{ pageContent: "Paris in spring: mild, What's the weather and the local time in Paris?", metadata: { source: "guide.md" } }]);
  assert.deepEqual(llmAttrs(a), {
    "gen_ai.system": "openai",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4.1",
    "gen_ai.response.model": "gpt-4.1-2025-04-14",
    "gen_ai.response.id": "chatcmpl-BVqQ2m8tW9zY6aKLdE4fG7hJ1kL0m",
    "gen_ai.request.temperature": 0.2,
    "gen_ai.usage.input_tokens": 1117,
    "gen_ai.usage.output_tokens": 46,
    "gen_ai.usage.total_tokens": 1163,
    "gen_ai.usage.cache_read_input_tokens": 1024,
    "gen_ai.usage.reasoning_tokens": 0,
    "gen_ai.response.finish_reasons": ["tool_calls"],
  });
  assert.deepEqual(a.prompts.map((p) => p.role), ["system", "user"]);
  assert.deepEqual(a.tools.map((x) => [x.name, x.arguments]), [
    ["get_weather", '{"city":"Paris","unit":"celsius"}'],
    ["get_time", '{"timezone":"Europe/Paris"}'],
  ]);
  assert.deepEqual(weather.attributes.output, '{"city":"Paris","unit":"celsius","celsius":21}');
  assert.deepEqual(time.attributes.output, "12:00 in Europe/Paris");
  assert.deepEqual(b.prompts.map((p) => p.role), ["system", "user", "assistant", "tool", "tool"]);
  assert.deepEqual(b.completions.map((c) => [c.content, c.finish_reason, c.total_tokens]), [["21°C and sunny; it is noon.", "stop", 1262]]);
  assert.equal(chain.attributes.output.output, "21°C and sunny; it is noon.");
});

test("a failing model call fails its llm span and the chain", async () => {
  const read = fresh();
  srv.reply({ status: 500, json: { error: { message: "The server had an error", type: "server_error" } } });
  const chain = RunnableLambda.from(async (q, config) => model().invoke(q, config)).withConfig({ runName: "ask" });
  await assert.rejects(trace(() => chain.invoke("Hi", { callbacks: [new AgensightCallbackHandler()] }), "failing")(), /server had an error/);
  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["failing", "trace", "error", null],
    ["ask", "chain", "error", 0],
    ["ChatOpenAI", "llm", "error", 1],
  ]);
  assert.deepEqual([t.spans[2].attributes["gen_ai.request.model"], t.spans[2].prompts.map((p) => [p.role, p.content])], ["gpt-4.1", [["user", "Hi"]]]);
});
