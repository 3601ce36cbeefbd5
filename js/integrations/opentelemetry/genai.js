// OpenTelemetry GenAI semantic conventions (`gen_ai.*` attributes) read from a bridged span:
// its agensight kind at start, and at its end the LLM call in the chat shape the core parses
// (model, response id and model, finish reasons, usage; prompts and answers are not read from
// `gen_ai.input.messages` / `gen_ai.output.messages` yet: the Rust side should read those).

import { chatResponse, chatUsage, declare, embeddingsResponse } from "../chat-shape.js";

const LLM_OPERATIONS = { chat: "chat", text_completion: "text_completion", generate_content: "chat", embeddings: "embeddings" };

/** The agensight kind for a span's start attributes: llm, tool, agent or span. */
export function kindOf(attributes) {
  const op = attributes?.["gen_ai.operation.name"];
  if (LLM_OPERATIONS[op]) return "llm";
  if (op === "execute_tool") return "tool";
  if (op === "invoke_agent" || op === "create_agent") return "agent";
  return "span";
}

/** Feeds the LLM call a GenAI span describes to its agensight span (nothing for others). */
export function recordGenAi(sp, a) {
  const op = a["gen_ai.operation.name"];
  const hasUsage = a["gen_ai.usage.input_tokens"] !== undefined || a["gen_ai.usage.output_tokens"] !== undefined;
  if (!LLM_OPERATIONS[op] && !(op === undefined && hasUsage)) return;
  const operation = LLM_OPERATIONS[op] ?? "chat";
  const system = a["gen_ai.provider.name"] ?? a["gen_ai.system"] ?? "opentelemetry";
  declare(sp, { system: String(system), operation, model: a["gen_ai.request.model"], temperature: a["gen_ai.request.temperature"], maxTokens: a["gen_ai.request.max_tokens"] });
  const model = a["gen_ai.response.model"] ?? a["gen_ai.request.model"];
  if (operation === "embeddings") {
    sp.chunk(embeddingsResponse({ model, vectors: [], inputTokens: a["gen_ai.usage.input_tokens"] }));
    return;
  }
  const usage = chatUsage({
    input: a["gen_ai.usage.input_tokens"],
    output: a["gen_ai.usage.output_tokens"],
    cacheRead: a["gen_ai.usage.cache_read_input_tokens"] ?? a["gen_ai.usage.cache_read.input_tokens"],
    cacheWrite: a["gen_ai.usage.cache_creation_input_tokens"] ?? a["gen_ai.usage.cache_creation.input_tokens"],
    reasoning: a["gen_ai.usage.reasoning_tokens"],
  });
  const reasons = a["gen_ai.response.finish_reasons"];
  const choices = (Array.isArray(reasons) && reasons.length ? reasons : [null]).map((r) => ({ content: "", finishReason: r }));
  sp.chunk(chatResponse({ id: a["gen_ai.response.id"], model, choices, usage }));
}
