// "LLM usage is extracted if present", through the packed package: a span whose function
// returns a result carrying a usage object (no provider response) records its tokens, and the
// trace counts them once, also when a parent reports its child's usage again.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { importPackage } from "../support/package.mjs";
import { startServer, fixture } from "./server.mjs";
import { recorded } from "../integrations/records.mjs";

const { span, wrapOpenAI } = await importPackage();

const srv = await startServer();
after(() => srv.close());

const summary = (t) => t.spans.map((s) => [s.name, s.kind, s.attributes["gen_ai.usage.total_tokens"] ?? null]);

test("results carrying OpenAI, Gemini and AI SDK usage count into their spans and the trace", async () => {
  const answer = span(async () => ({ content: "Paris", usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } }), { name: "answer" });
  const gemini = span(async () => ({ text: "Oui", usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 2, thoughtsTokenCount: 4, totalTokenCount: 13 } }), { name: "gemini" });
  const aiSdk = span(async () => ({ text: "Yes", finishReason: "stop", usage: { inputTokens: 5, outputTokens: 1, totalTokens: 6 } }), { name: "ai" });
  const t = await recorded(async () => {
    await answer();
    await gemini();
    await aiSdk();
    return "done";
  });
  assert.deepEqual(summary(t), [
    ["main", "trace", null],
    ["answer", "llm", 15],
    ["gemini", "llm", 13],
    ["ai", "llm", 6],
  ]);
  assert.equal(t.total_tokens, 34);
  assert.deepEqual(t.spans[1].completions.map((c) => c.content), ["Paris"]);
  assert.deepEqual([t.spans[2].attributes["gen_ai.system"], t.spans[2].attributes["gen_ai.usage.output_tokens"]], ["gcp.gemini", 6]);
});

test("a parent that reports its traced call's usage again counts nothing more", async () => {
  const f = fixture("openai-chat-tools");
  srv.reply({ json: f.response });
  const openai = wrapOpenAI(new OpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, maxRetries: 0 }));
  const ask = span(
    async () => {
      const r = await openai.chat.completions.create(f.request);
      return { answer: r.choices[0].message.content, usage: r.usage };
    },
    { name: "ask" },
  );
  const t = await recorded(async () => ask());
  assert.deepEqual(summary(t), [
    ["main", "trace", null],
    ["ask", "span", null],
    ["openai.chat.completions.create", "llm", f.response.usage.total_tokens],
  ]);
  assert.equal(t.total_tokens, f.response.usage.total_tokens);
});
