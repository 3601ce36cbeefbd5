// The Vercel AI SDK's prompts, tools, content and usage in the OpenAI chat shape the core
// parses (see ../chat-shape.js). ModelMessage (`ai`) and LanguageModelV4Prompt (the provider
// level) have the same parts: text, tool-call, tool-result, reasoning, file/image.

import { asText, chatUsage, toolCall } from "../chat-shape.js";

/** The SDK's unified finish reasons in the OpenAI words the records use. */
const FINISH = { stop: "stop", length: "length", "content-filter": "content_filter", "tool-calls": "tool_calls", error: "error", other: "other" };

export const finishReason = (r) => (typeof r === "string" ? FINISH[r] ?? r : r?.unified ? FINISH[r.unified] ?? r.unified : null);

/** A tool result's `output` (`{ type: "json" | "text" | "error-text" | ..., value }`) as text. */
function resultText(output) {
  if (output && typeof output === "object" && "value" in output) return asText(output.value);
  return asText(output);
}

/** Content parts as OpenAI text parts (other parts kept as they are: recorded as JSON). */
function parts(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return asText(content);
  return content.map((p) => (p?.type === "text" ? { type: "text", text: p.text } : p));
}

/** ModelMessage / LanguageModelV4Prompt messages as OpenAI chat messages. */
export function chatMessages(instructions, messages) {
  const out = [];
  const system = (s) => {
    if (typeof s === "string") out.push({ role: "system", content: s });
    else if (Array.isArray(s)) s.forEach(system);
    else if (s && typeof s === "object") out.push({ role: "system", content: asText(s.content) });
  };
  system(instructions);
  for (const m of Array.isArray(messages) ? messages : []) {
    if (!m || typeof m !== "object") continue;
    if (m.role === "system") system(m);
    else if (m.role === "assistant" && Array.isArray(m.content)) {
      const calls = m.content.filter((p) => p?.type === "tool-call").map((p) => toolCall(p.toolCallId, p.toolName, p.input));
      const text = m.content.filter((p) => p?.type === "text").map((p) => p.text).join("");
      const msg = { role: "assistant", content: text || null };
      if (calls.length) msg.tool_calls = calls;
      out.push(msg);
    } else if (m.role === "tool" && Array.isArray(m.content)) {
      for (const p of m.content) {
        if (p?.type === "tool-result") out.push({ role: "tool", tool_call_id: p.toolCallId, content: resultText(p.output) });
      }
    } else out.push({ role: String(m.role), content: parts(m.content) });
  }
  return out;
}

/** The tools offered (`{ type, name, description, inputSchema }` or a ToolSet) as OpenAI tools. */
export function chatTools(tools) {
  if (!tools) return undefined;
  const list = Array.isArray(tools) ? tools : Object.entries(tools).map(([name, t]) => ({ ...t, name }));
  return list.map((t) => ({ type: "function", function: { name: t?.name, description: t?.description, parameters: t?.inputSchema?.jsonSchema ?? t?.inputSchema ?? t?.parameters } }));
}

/** The SDK's LanguageModelUsage as OpenAI chat usage. */
export function usageOf(u) {
  if (!u || typeof u !== "object") return undefined;
  return chatUsage({
    input: u.inputTokens,
    output: u.outputTokens,
    total: u.totalTokens,
    cacheRead: u.inputTokenDetails?.cacheReadTokens,
    cacheWrite: u.inputTokenDetails?.cacheWriteTokens,
    reasoning: u.outputTokenDetails?.reasoningTokens,
  });
}

/** A response's content parts: the text joined and the tool calls. */
export function answer(content) {
  let text = "";
  const calls = [];
  for (const p of Array.isArray(content) ? content : []) {
    if (p?.type === "text") text += p.text ?? "";
    else if (p?.type === "tool-call") calls.push(toolCall(p.toolCallId, p.toolName, p.input));
  }
  return { content: text || (calls.length ? null : ""), toolCalls: calls };
}
