// An edge worker (Cloudflare Workers / workerd) that answers questions with an LLM, traced:
// instrumentWorker makes each request a trace, wrapOpenAI makes each LLM call an `llm` span
// (model, usage, prompts, completions, tool calls), and the tool the model asks for is a
// `tool` span. The answer is streamed to the client as the model writes it.
//
//   npm install && npx wrangler dev      (set OPENAI_API_KEY; OPENAI_BASE_URL is optional)

import OpenAI from "openai";
import { init, instrumentWorker, span, wrapOpenAI } from "agensight-wasm";
import { answerWithAiSdk } from "./ai.mjs";

// At global scope, once per isolate. mode "local" keeps traces in memory; use mode "dev" or
// "prod" with a token (from env, in the first request) to export them.
init({ name: "edge-chat" });

const MODEL = "gpt-4.1-mini";
const TOOLS = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Current weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } }, required: ["city"] },
    },
  },
  {
    type: "function",
    function: {
      name: "get_time",
      description: "Local time in a time zone",
      parameters: { type: "object", properties: { timezone: { type: "string" } }, required: ["timezone"] },
    },
  },
];

// The tools, each traced as a `tool` span (a real app would call an API here).
const tools = {
  get_weather: span(async ({ city, unit = "celsius" }) => ({ city, unit, temperature: 21, sky: "sunny" }), { name: "get_weather", kind: "tool" }),
  get_time: span(async ({ timezone }) => ({ timezone, time: "14:05" }), { name: "get_time", kind: "tool" }),
};

export default instrumentWorker({
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const question = url.searchParams.get("q") || "What's the weather in Paris?";
    if (url.pathname === "/ai") return new Response(await answerWithAiSdk(question, env), { headers: { "content-type": "text/plain; charset=utf-8" } });
    if (url.pathname !== "/chat") return new Response("Ask with /chat?q=... (openai) or /ai?q=... (Vercel AI SDK)\n", { status: 404 });

    const openai = wrapOpenAI(new OpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL || undefined, maxRetries: 1 }));
    const messages = [
      { role: "system", content: "You are a helpful travel agent. Be brief." },
      { role: "user", content: question },
    ];

    // First call: the model may ask for tools.
    const first = await openai.chat.completions.create({ model: MODEL, messages, tools: TOOLS, temperature: 0.2 });
    const reply = first.choices[0].message;
    if (reply.tool_calls?.length) {
      messages.push(reply);
      for (const call of reply.tool_calls) {
        const result = await tools[call.function.name](JSON.parse(call.function.arguments));
        messages.push({ role: "tool", tool_call_id: call.id, content: JSON.stringify(result) });
      }
    }

    // Second call, streamed through to the client. Its span ends when the stream is read to
    // the end; waitUntil keeps the worker alive until then, so the trace is flushed whole.
    const stream = await openai.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } });
    const encoder = new TextEncoder();
    let finished;
    ctx.waitUntil(new Promise((resolve) => (finished = resolve)));
    const body = new ReadableStream({
      async start(controller) {
        try {
          for await (const chunk of stream) {
            const text = chunk.choices[0]?.delta?.content;
            if (text) controller.enqueue(encoder.encode(text));
          }
          controller.close();
        } catch (e) {
          controller.error(e);
        } finally {
          finished();
        }
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },
});
