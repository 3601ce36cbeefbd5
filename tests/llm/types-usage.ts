// Compiled with `tsc --noEmit` against the installed package's index.d.ts (tests/llm/types.test.mjs):
// the wrappers keep the client's own type.
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { wrapOpenAI, wrapAnthropic } from "agensight-wasm";

const openai: OpenAI = wrapOpenAI(new OpenAI({ apiKey: "sk-test" }));
const anthropic: Anthropic = wrapAnthropic(new Anthropic({ apiKey: "test" }));

async function use(): Promise<string> {
  const r = await openai.chat.completions.create({ model: "gpt-4.1", messages: [{ role: "user", content: "Hi" }] });
  const s = await openai.chat.completions.create({ model: "gpt-4.1", messages: [], stream: true });
  for await (const chunk of s) void chunk.choices[0]?.delta.content;
  const m = await anthropic.messages.create({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "Hi" }] });
  const final = await anthropic.messages.stream({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [] }).finalMessage();
  return `${r.choices[0].message.content}${m.id}${final.id}`;
}
void use;
// @ts-expect-error the wrapped client keeps the SDK's parameter types
void openai.chat.completions.create({ model: 42, messages: [] });
