// The Agensight docs' multi-agent chat example with this package, the twin of
// reference_example.py (same calls, same session, metadata and replies): init() in prod mode
// with a token and a session, a span `llm` calling the OpenAI client (wrapped with wrapOpenAI,
// pointed at the local OpenAI double), a trace `multi_agent_chat` with its own session and
// metadata calling it twice, the final output printed, then flush()'s counts as JSON.
// Environment: AGENSIGHT_TEST_BASE (the receiver's base URL), OPENAI_BASE_URL.
import OpenAI from "openai";
import { importPackage } from "../support/package.mjs";

const { init, trace, span, flush, wrapOpenAI } = await importPackage();

const TOOLS = [{ type: "function", function: { name: "get_weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];

init({ name: "chat-service", mode: "prod", token: "tok-test-12345", session: "user_456", endpoint: process.env.AGENSIGHT_TEST_BASE, storage: "memory", queue: { batchDelayMs: 0 } });
const client = wrapOpenAI(new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: "sk-test-not-a-key" }));

const llm = span(async (messages) => {
  const reply = await client.chat.completions.create({ model: "gpt-4o-mini", messages, tools: TOOLS });
  const message = reply.choices[0].message;
  return { content: message.content ?? "", tool_used: message.tool_calls?.[0]?.function.name ?? null };
}, { name: "llm" });

const multiAgentChat = trace(async () => {
  const plan = await llm([{ role: "user", content: "Weather in Paris?" }]);
  const summary = await llm([{ role: "user", content: `Summarize this plan: ${plan.tool_used}` }]);
  return summary.content;
}, { name: "multi_agent_chat", session: { id: "user_789", name: "multi agent chat", user_id: "123" }, metadata: { plan: "pro" } });

console.log("final:", await multiAgentChat());
console.log(JSON.stringify(await flush()));
