// Gemini's request shapes (`@google/genai`, the Gemini API and Vertex AI) in the OpenAI chat
// shape the core reads requests in (../chat-shape.js); responses and stream chunks go to the
// core as they are (src/llm/gemini.rs). The mapping (docs/records.md "Integrations"):
// - contents (a string, a Content, parts or a Content list) -> messages: role `model` ->
//   `assistant`, text parts joined, `functionCall` parts -> `tool_calls` (arguments as JSON),
//   each `functionResponse` part -> a `tool` message (its `response` as JSON);
//   `config.systemInstruction` -> a first `system` message; other parts (inline data, files)
//   kept as JSON content.
// - config.temperature -> temperature, config.maxOutputTokens -> max_tokens, config.tools'
//   functionDeclarations -> tools.

import { asText, chatRequest, toolCall } from "../chat-shape.js";

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

/** `embedContent` params as an OpenAI embeddings request (`input`: the texts, one per content:
 * for embeddings a list of strings is a list of contents, not the parts of one). */
export function embedRequest(params) {
  const c = params?.contents;
  const list = Array.isArray(c) ? c.map((x) => (typeof x === "string" ? { parts: [{ text: x }] } : x)) : contentList(c);
  const texts = list.map((x) => (Array.isArray(x?.parts) ? x.parts : [x]).map((p) => (typeof p?.text === "string" ? p.text : asText(p))).join(""));
  return { model: typeof params?.model === "string" ? params.model : undefined, input: texts };
}
