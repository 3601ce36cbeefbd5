// What the integrations hand the core for an LLM call whose SDK has no shape the Rust parser
// knows (Vercel AI SDK, Google Gen AI, OpenAI Agents, LangChain): the call rewritten as an
// OpenAI chat completion. The span's input is `[chatRequest(...)]`, then the declaration
// (`declare`: provider and operation for certain), then either one whole `chatResponse(...)`
// or `chatChunk(...)`s that the core aggregates. docs/records.md "Integrations" lists each
// SDK's mapping; moving it into src/llm is the plan, and then these go.

const num = (v) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined);

/** A value as message text: strings as they are, anything else as JSON. */
export function asText(v) {
  if (typeof v === "string") return v;
  if (v === undefined || v === null) return "";
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * An OpenAI `tool_calls` entry: `{ id, type: "function", function: { name, arguments } }`,
 * arguments as JSON text (a string is kept as the model wrote it).
 */
export function toolCall(id, name, args) {
  return { id: id ?? undefined, type: "function", function: { name: String(name ?? ""), arguments: typeof args === "string" ? args : asText(args ?? {}) } };
}

/**
 * The request as an OpenAI chat request: `{ model, messages, temperature?, max_tokens?,
 * tools? }`. `messages` are `{ role, content, tool_calls?, tool_call_id? }`.
 */
export function chatRequest({ model, messages, temperature, maxTokens, tools, extra } = {}) {
  const r = { model: typeof model === "string" ? model : undefined, messages: messages ?? [] };
  if (typeof temperature === "number") r.temperature = temperature;
  if (num(maxTokens) !== undefined) r.max_tokens = num(maxTokens);
  if (tools && tools.length) r.tools = tools;
  if (extra) Object.assign(r, extra);
  return r;
}

/**
 * OpenAI chat `usage` from token counts: `input` counts every prompt token (cached ones
 * included), `output` every generated one (reasoning included); undefined when none is known.
 */
export function chatUsage({ input, output, total, cacheRead, cacheWrite, reasoning } = {}) {
  const i = num(input);
  const o = num(output);
  const t = num(total);
  if (i === undefined && o === undefined && t === undefined) return undefined;
  const u = { prompt_tokens: i ?? 0, completion_tokens: o ?? 0, total_tokens: t ?? (i ?? 0) + (o ?? 0) };
  const cr = num(cacheRead);
  const cw = num(cacheWrite);
  if (cr !== undefined || cw !== undefined) {
    u.prompt_tokens_details = {};
    if (cr !== undefined) u.prompt_tokens_details.cached_tokens = cr;
    if (cw !== undefined) u.prompt_tokens_details.cache_write_tokens = cw;
  }
  if (num(reasoning) !== undefined) u.completion_tokens_details = { reasoning_tokens: num(reasoning) };
  return u;
}

/**
 * One answer as an OpenAI `chat.completion`: `choices` is `[{ content, toolCalls,
 * finishReason }]` (one per candidate); `usage` from `chatUsage`.
 */
export function chatResponse({ id, model, choices, usage }) {
  const r = { id: id ?? undefined, object: "chat.completion", model: model ?? undefined };
  r.choices = (choices ?? []).map((c, index) => {
    const message = { role: "assistant", content: c.content ?? null };
    if (c.toolCalls && c.toolCalls.length) message.tool_calls = c.toolCalls;
    return { index, message, finish_reason: c.finishReason ?? null };
  });
  if (usage) r.usage = usage;
  return r;
}

/**
 * One streamed piece as an OpenAI `chat.completion.chunk` (the core joins contents and tool
 * call arguments per choice and tool call index, keeps the last finish reason and usage).
 * `toolCalls`: `[{ index, id?, name?, arguments? }]`.
 */
export function chatChunk({ id, model, index = 0, content, toolCalls, finishReason, usage }) {
  const delta = {};
  if (typeof content === "string" && content) delta.content = content;
  if (toolCalls && toolCalls.length) {
    delta.tool_calls = toolCalls.map((t) => {
      const d = { index: t.index ?? 0, type: "function", function: {} };
      if (t.id) d.id = t.id;
      if (t.name !== undefined) d.function.name = t.name;
      d.function.arguments = t.arguments ?? "";
      return d;
    });
  }
  const c = { id: id ?? undefined, object: "chat.completion.chunk", model: model ?? undefined, choices: [{ index, delta, finish_reason: finishReason ?? null }] };
  if (usage) c.usage = usage;
  return c;
}

/**
 * An embeddings call as an OpenAI embeddings `list` (vectors as their length, so that the
 * output stays small): the core records usage, model and the inputs as prompts.
 */
export function embeddingsResponse({ model, vectors, inputTokens }) {
  return {
    object: "list",
    model: model ?? undefined,
    data: (vectors ?? []).map((v, index) => ({ object: "embedding", index, embedding: `[${v?.length ?? 0} numbers]` })),
    usage: { prompt_tokens: num(inputTokens) ?? 0, total_tokens: num(inputTokens) ?? 0 },
  };
}

/**
 * Tells the core which LLM call span `sp` is: provider and operation, and what the request
 * says (`{system, operation, model?, temperature?, max_tokens?}`). A later declaration
 * replaces an earlier one. Through the handle's `declare` (not captured data: a redact function
 * does not see it).
 */
export function declare(sp, { system, operation = "chat", model, temperature, maxTokens }) {
  const d = { system, operation };
  if (typeof model === "string") d.model = model;
  if (typeof temperature === "number") d.temperature = temperature;
  if (num(maxTokens) !== undefined) d.max_tokens = num(maxTokens);
  sp.declare(d);
}

/**
 * Starts an `llm` span for a call described in chat shape: input `[request]`, then the
 * declaration. Returns the core's span handle (see core.js `begin`), or null.
 */
export function beginChat(begin, name, { system, operation = "chat", request }) {
  const sp = begin(name, { kind: "llm", args: [request] });
  if (!sp) return null;
  declare(sp, { system, operation, model: request.model, temperature: request.temperature, maxTokens: request.max_tokens });
  return sp;
}

/** Ends an `llm` span with one whole response (fed as the chunk the core parses, and the output). */
export function endWith(sp, response) {
  sp.chunk(response);
  sp.end(response);
}
