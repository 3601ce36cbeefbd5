// LangChain messages and results in the OpenAI chat shape the core parses (../chat-shape.js):
// - BaseMessage -> { role, content }: type human -> user, ai -> assistant (its `tool_calls`
//   `{ id, name, args }` -> OpenAI tool_calls), system -> system, tool -> tool (tool_call_id).
// - LLMResult: each generation of the first prompt -> a choice; the text, the AIMessage's
//   tool calls, `response_metadata.finish_reason`; the id and model from the AIMessage (`id`,
//   `response_metadata.model_name`); usage from the message's `usage_metadata` (input_tokens,
//   output_tokens, total_tokens, input_token_details.cache_read / cache_creation,
//   output_token_details.reasoning), else `llmOutput.tokenUsage` (promptTokens, ...).

import { asText, chatResponse, chatUsage, toolCall } from "../chat-shape.js";

const ROLES = { human: "user", ai: "assistant", system: "system", tool: "tool", function: "function", generic: "user", developer: "developer" };

function typeOf(m) {
  try {
    if (typeof m?.getType === "function") return m.getType();
    if (typeof m?._getType === "function") return m._getType();
  } catch {}
  return m?.type ?? m?.role;
}

function content(c) {
  if (typeof c === "string") return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p === "string" ? { type: "text", text: p } : p));
  return asText(c);
}

/** One LangChain message as an OpenAI chat message. */
export function chatMessage(m) {
  const type = typeOf(m);
  const msg = { role: ROLES[type] ?? String(type ?? "user"), content: content(m?.content) };
  if (type === "ai" && Array.isArray(m.tool_calls) && m.tool_calls.length) {
    msg.tool_calls = m.tool_calls.map((t) => toolCall(t.id, t.name, t.args));
    if (msg.content === "") msg.content = null;
  }
  if (type === "tool" && m.tool_call_id) msg.tool_call_id = m.tool_call_id;
  return msg;
}

/** The model name a chat model's start event names (invocation params, then constructor kwargs). */
export function modelOf(llm, extra) {
  const p = extra?.invocation_params ?? {};
  return p.model ?? p.model_name ?? p.modelName ?? llm?.kwargs?.model ?? llm?.kwargs?.model_name ?? llm?.kwargs?.modelName;
}

/** `gen_ai.system`: the provider from the model's class path (`langchain/chat_models/openai/ChatOpenAI`). */
export function systemOf(llm, extra) {
  const p = extra?.invocation_params?.ls_provider ?? extra?.metadata?.ls_provider;
  if (typeof p === "string" && p) return p;
  const id = Array.isArray(llm?.id) ? llm.id.join("/").toLowerCase() : "";
  for (const name of ["openai", "anthropic", "google", "mistral", "bedrock", "ollama", "groq", "cohere"]) if (id.includes(name)) return name;
  return "langchain";
}

function usageOf(message, llmOutput) {
  const u = message?.usage_metadata;
  if (u && typeof u === "object") {
    return chatUsage({
      input: u.input_tokens,
      output: u.output_tokens,
      total: u.total_tokens,
      cacheRead: u.input_token_details?.cache_read,
      cacheWrite: u.input_token_details?.cache_creation,
      reasoning: u.output_token_details?.reasoning,
    });
  }
  const t = llmOutput?.tokenUsage ?? llmOutput?.estimatedTokenUsage;
  return t ? chatUsage({ input: t.promptTokens, output: t.completionTokens, total: t.totalTokens }) : undefined;
}

/** An LLMResult as a chat.completion. */
export function chatResult(output) {
  const gens = Array.isArray(output?.generations?.[0]) ? output.generations[0] : [];
  const first = gens[0]?.message;
  const choices = gens.map((g) => {
    const m = g?.message;
    const calls = Array.isArray(m?.tool_calls) ? m.tool_calls.map((t) => toolCall(t.id, t.name, t.args)) : [];
    const text = typeof g?.text === "string" ? g.text : typeof m?.content === "string" ? m.content : "";
    const finish = m?.response_metadata?.finish_reason ?? m?.response_metadata?.stop_reason ?? g?.generationInfo?.finish_reason ?? null;
    return { content: calls.length && !text ? null : text, toolCalls: calls, finishReason: finish };
  });
  return chatResponse({
    id: typeof first?.id === "string" ? first.id : undefined,
    model: first?.response_metadata?.model_name ?? first?.response_metadata?.model,
    choices,
    usage: usageOf(first, output?.llmOutput),
  });
}
