// The multi-agent chat example of the Agensight docs, in local mode: a `main` trace calls an
// LLM span twice (a mock that answers like OpenAI's chat completions API, with usage and one
// tool call), runs the requested tool, and prints the stored trace read back from .agensight/.
//
//   make demo            (or, with the package installed: node main.mjs)

import { init, trace, span, flush, readLocal } from "agensight-wasm";

init({ name: "chat-service", mode: "local", session: "user_456" });

// A stand-in for `client.chat.completions.create`: same response shape, no network.
let calls = 0;
async function mockCompletion({ model, messages }) {
  await new Promise((r) => setTimeout(r, 15));
  calls++;
  const wantsTool = !messages.some((m) => m.role === "tool");
  return {
    id: `chatcmpl-demo-${calls}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: wantsTool
          ? { role: "assistant", content: null, tool_calls: [{ id: "call_weather", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }
          : { role: "assistant", content: "It is 21°C and sunny in Paris: a good day for a walk by the Seine." },
        finish_reason: wantsTool ? "tool_calls" : "stop",
      },
    ],
    usage: wantsTool ? { prompt_tokens: 52, completion_tokens: 17, total_tokens: 69 } : { prompt_tokens: 88, completion_tokens: 21, total_tokens: 109 },
  };
}

const callLlm = span(async (messages) => mockCompletion({ model: "gpt-4o-mini", messages }), { name: "llm" });
const getWeather = span(async ({ city }) => ({ city, celsius: 21, sky: "sunny" }), { name: "get_weather", kind: "tool" });

const main = trace(
  async (question) => {
    const messages = [
      { role: "system", content: "You are a helpful travel agent." },
      { role: "user", content: question },
    ];
    const plan = await callLlm(messages);
    const call = plan.choices[0].message.tool_calls[0];
    const weather = await getWeather(JSON.parse(call.function.arguments));
    messages.push(plan.choices[0].message, { role: "tool", tool_call_id: call.id, content: JSON.stringify(weather) });
    const answer = await callLlm(messages);
    return answer.choices[0].message.content;
  },
  { name: "multi_agent_chat", session: { id: "xyz123", name: "multi agent chat", user_id: "123" }, metadata: { plan: "pro" } },
);

console.log("answer:", await main("What's the weather in Paris today?"));
await flush();

// Read the trace back from the local store and print it as a tree.
const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
const { traces, skipped } = readLocal();
const t = traces.at(-1);
console.log(`\ntrace ${t.name}  id ${t.id}  session ${t.session_id}  ${ms(t.duration)}  ${t.total_tokens} tokens  ${t.status}`);
const byId = new Map(t.spans.map((s) => [s.id, s]));
function print(s, prefix, last) {
  const tokens = s.attributes["gen_ai.usage.total_tokens"];
  const tools = s.tools.map((c) => `  -> ${c.name}(${c.arguments})`).join("");
  console.log(`${prefix}${last ? "└─ " : "├─ "}${s.name} [${s.kind}]  ${ms(s.duration)}  ${s.status}${tokens ? `  ${tokens} tokens` : ""}${tools}`);
  s.children.forEach((id, i) => print(byId.get(id), prefix + (last ? "   " : "│  "), i === s.children.length - 1));
}
t.spans.filter((s) => !s.parent_id).forEach((s, i, roots) => print(s, "", i === roots.length - 1));
console.log(`\n${traces.length} trace(s) in .agensight/${skipped ? `, ${skipped} torn line(s) skipped` : ""}; browse them with: npx agensight-wasm view`);
