// agensight-wasm in Deno: a traced agent with a (mock) LLM call and a tool, an outgoing fetch
// carrying the trace (inject), then the stored trace read back from .agensight/.
//
//   npm install        (links the package built in ../../pkg; `make build` first)
//   deno run --allow-read=.agensight --allow-write=.agensight main.ts
//
// Deno takes the package's `deno` entry: the .wasm is a source-phase import (no file
// permission needed for it); only the local store needs read/write on its directory.

import { flush, init, inject, readLocal, span, trace } from "agensight-wasm";

init({ name: "deno-agent", session: "deno-demo" });

const callLlm = span(async (messages: { role: string; content: string }[]) => {
  await new Promise((r) => setTimeout(r, 10));
  return {
    id: `chatcmpl-deno-${messages.length}`,
    object: "chat.completion",
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: `You said: ${messages.at(-1)?.content}` }, finish_reason: "stop" }],
    usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
  };
}, { name: "llm" });

const lookup = span(async (city: string) => {
  // A real call would be: await fetch(url, { headers: inject({}) }) — the callee continues the trace.
  const headers = inject({ accept: "application/json" });
  return { city, celsius: 21, traceparent: headers.traceparent };
}, { name: "lookup", kind: "tool" });

const agent = trace(async (question: string) => {
  const weather = await lookup("Paris");
  const reply = await callLlm([{ role: "user", content: `${question} (${weather.celsius}°C)` }]);
  return reply.choices[0].message.content;
}, { name: "deno_agent" });

console.log(await agent("Weather in Paris?"));
await flush();

const { traces } = readLocal();
const t = traces.at(-1)!;
console.log(`trace ${t.name} ${t.id} (${t.total_tokens} tokens)`);
for (const s of t.spans) console.log(`${"  ".repeat(s.depth + 1)}${s.name} [${s.kind}] ${s.status}`);
