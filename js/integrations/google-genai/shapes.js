// Gemini's request and response shapes (`@google/genai`, the Gemini API and Vertex AI) in the
// OpenAI chat shape the core parses today (../chat-shape.js). The mapping, for the Rust side
// to take over (docs/records.md "Integrations"):
// - contents (a string, a Content, parts or a Content list) -> messages: role `model` ->
//   `assistant`, text parts joined, `functionCall` parts -> `tool_calls` (arguments as JSON),
//   each `functionResponse` part -> a `tool` message (its `response` as JSON);
//   `config.systemInstruction` -> a first `system` message; other parts (inline data, files)
//   kept as JSON content.
// - config.temperature -> temperature, config.maxOutputTokens -> max_tokens, config.tools'
//   functionDeclarations -> tools.
// - a candidate -> a choice: text parts (not `thought` ones) joined, functionCall parts ->
//   tool_calls; finishReason kept in Gemini's words (`STOP`, `MAX_TOKENS`, `SAFETY`).
// - usageMetadata -> usage: prompt_tokens = promptTokenCount + toolUsePromptTokenCount,
//   completion_tokens = candidatesTokenCount + thoughtsTokenCount, total_tokens =
//   totalTokenCount, cached_tokens = cachedContentTokenCount, reasoning_tokens =
//   thoughtsTokenCount.
// - responseId -> id, modelVersion -> model.

import { asText, chatChunk, chatRequest, chatResponse, chatUsage, toolCall } from "../chat-shape.js";

const isObj = (v) => v !== null && typeof v === "object";

/** `contents` as a list of Content (`{ role, parts }`), the SDK's own normalisation rules. */
function contentList(contents) {
  if (contents === undefined || contents === null) return [];
  if (typeof contents === "string") return [{ role: "user", parts: [{ text: contents }] }];
  if (!Array.isArray(contents)) return isObj(contents) && Array.isArray(contents.parts) ? [contents] : [{ role: "user", parts: [contents] }];
  if (contents.every((c) => typeof c === "string" || (isObj(c) && !Array.isArray(c.parts)))) {
    return [{ role: "user", parts: contents.map((p) => (typeof p === "string" ? { text: p } : p)) }];
  }
  return contents.map((c) => (typeof c === "string" ? { role: "user", parts: [{ text: c }] } : c));
}

function systemText(s) {
  if (s === undefined || s === null) return undefined;
  if (typeof s === "string") return s;
  const parts = Array.isArray(s) ? s : s.parts ?? [s];
  return parts.map((p) => (typeof p === "string" ? p : p?.text ?? asText(p))).join("");
}

/** One Content as OpenAI chat messages. */
function messagesOf(c) {
  const parts = Array.isArray(c?.parts) ? c.parts : [];
  const role = c?.role === "model" ? "assistant" : c?.role ?? "user";
  const out = [];
  const calls = [];
  const rest = [];
  for (const p of parts) {
    if (!isObj(p)) continue;
    if (p.functionCall) calls.push(toolCall(p.functionCall.id, p.functionCall.name, p.functionCall.args ?? {}));
    else if (p.functionResponse) out.push({ role: "tool", tool_call_id: p.functionResponse.id, name: p.functionResponse.name, content: asText(p.functionResponse.response) });
    else if (typeof p.text === "string" && !p.thought) rest.push({ type: "text", text: p.text });
    else if (typeof p.text !== "string") rest.push(p);
  }
  if (rest.length || calls.length) {
    const content = rest.every((p) => p.type === "text") ? rest.map((p) => p.text).join("") : rest;
    const m = { role, content: calls.length && content === "" ? null : content };
    if (calls.length) m.tool_calls = calls;
    out.unshift(m);
  }
  return out;
}

/** `generateContent` params as an OpenAI chat request. */
export function request(params) {
  const p = isObj(params) ? params : {};
  const config = isObj(p.config) ? p.config : {};
  const messages = [];
  const sys = systemText(config.systemInstruction);
  if (sys !== undefined) messages.push({ role: "system", content: sys });
  for (const c of contentList(p.contents)) messages.push(...messagesOf(c));
  const tools = [];
  for (const t of Array.isArray(config.tools) ? config.tools : []) {
    for (const f of t?.functionDeclarations ?? []) tools.push({ type: "function", function: { name: f.name, description: f.description, parameters: f.parameters ?? f.parametersJsonSchema } });
  }
  return chatRequest({ model: typeof p.model === "string" ? p.model : undefined, messages, temperature: config.temperature, maxTokens: config.maxOutputTokens, tools });
}

/** Gemini usageMetadata as OpenAI chat usage. */
export function usage(u) {
  if (!isObj(u)) return undefined;
  const sum = (...xs) => (xs.some((x) => typeof x === "number") ? xs.reduce((a, x) => a + (typeof x === "number" ? x : 0), 0) : undefined);
  return chatUsage({
    input: sum(u.promptTokenCount, u.toolUsePromptTokenCount),
    output: sum(u.candidatesTokenCount, u.thoughtsTokenCount),
    total: u.totalTokenCount,
    cacheRead: u.cachedContentTokenCount,
    reasoning: u.thoughtsTokenCount,
  });
}

/** A candidate's text (thoughts left out) and function calls. */
function answer(candidate, callIndex = 0) {
  let text = "";
  const calls = [];
  for (const p of candidate?.content?.parts ?? []) {
    if (!isObj(p)) continue;
    if (typeof p.text === "string" && !p.thought) text += p.text;
    else if (p.functionCall) calls.push({ ...toolCall(p.functionCall.id, p.functionCall.name, p.functionCall.args ?? {}), index: callIndex + calls.length });
  }
  return { text, calls };
}

/** A whole GenerateContentResponse as a chat.completion. */
export function response(r) {
  const candidates = Array.isArray(r?.candidates) ? r.candidates : [];
  return chatResponse({
    id: r?.responseId,
    model: r?.modelVersion,
    choices: candidates.map((c) => {
      const a = answer(c);
      return { content: a.calls.length && !a.text ? null : a.text, toolCalls: a.calls.map(({ index, ...t }) => t), finishReason: c.finishReason };
    }),
    usage: usage(r?.usageMetadata),
  });
}

/**
 * A streamed GenerateContentResponse as a chat.completion.chunk. Function calls come whole in
 * one chunk; `state.calls` numbers them across the stream (their index in the aggregate).
 */
export function chunk(r, state) {
  const c = Array.isArray(r?.candidates) ? r.candidates[0] : undefined;
  const a = answer(c, state.calls);
  state.calls += a.calls.length;
  return chatChunk({
    id: r?.responseId,
    model: r?.modelVersion,
    content: a.text,
    toolCalls: a.calls.map((t) => ({ index: t.index, id: t.id, name: t.function.name, arguments: t.function.arguments })),
    finishReason: c?.finishReason,
    usage: usage(r?.usageMetadata),
  });
}

/** `embedContent` params as an OpenAI embeddings request (`input`: the texts, one per content:
 * for embeddings a list of strings is a list of contents, not the parts of one). */
export function embedRequest(params) {
  const c = params?.contents;
  const list = Array.isArray(c) ? c.map((x) => (typeof x === "string" ? { parts: [{ text: x }] } : x)) : contentList(c);
  const texts = list.map((x) => (Array.isArray(x?.parts) ? x.parts : [x]).map((p) => (typeof p?.text === "string" ? p.text : asText(p))).join(""));
  return { model: typeof params?.model === "string" ? params.model : undefined, input: texts };
}
