// A Cloudflare Worker traced with agensight-wasm: instrumentWorker makes one trace per request
// (continuing the caller's W3C traceparent), a traced LLM call inside, background work in
// ctx.waitUntil (its spans are flushed after it settles), and the local records at /records.
import { init, instrumentWorker, span, inject, readLocal } from "agensight-wasm";

// At global scope is fine: ids are seeded and the clock read again at the first request.
// mode "local" keeps the records in memory; with mode "dev"/"prod" and a token they are exported.
init({ name: "edge-chat" });

const callLlm = span(async (question) => {
  // Stands in for `await fetch("https://api.openai.com/v1/chat/completions", ...)`.
  await scheduler.wait(5);
  return {
    id: `chatcmpl-${crypto.randomUUID()}`,
    object: "chat.completion",
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: `Echo: ${question}` }, finish_reason: "stop" }],
    usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 },
  };
}, { name: "llm" });

const audit = span(async (question) => {
  await scheduler.wait(20); // e.g. write to a queue or KV after the response
  return { question, at: Date.now() };
}, { name: "audit" });

export default instrumentWorker({
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/records") return Response.json(readLocal());
    const question = url.searchParams.get("q") ?? "hello";
    const reply = await callLlm(question);
    ctx.waitUntil(audit(question));
    // Calling another service? Pass the trace on: fetch(other, { headers: inject({}) }).
    return Response.json({ answer: reply.choices[0].message.content, traceparent: inject({}).traceparent ?? null });
  },
});
