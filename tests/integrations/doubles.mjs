// Replies for the local provider stand-in (tests/llm/server.mjs) that the integration tests
// script inline: OpenAI chat completions (JSON and SSE) and Gemini generateContent (JSON and
// the `alt=sse` stream), in the providers' documented shapes.

/** An OpenAI `chat.completion` with one choice: text, or tool calls `[{ id, name, arguments }]`. */
export function chatJson({ id, model, content = null, toolCalls, finish, usage }) {
  const message = { role: "assistant", content, refusal: null };
  if (toolCalls) message.tool_calls = toolCalls.map((t) => ({ id: t.id, type: "function", function: { name: t.name, arguments: t.arguments } }));
  return {
    id,
    object: "chat.completion",
    created: 1746789000,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish ?? (toolCalls ? "tool_calls" : "stop") }],
    usage,
  };
}

/** An OpenAI chat stream: a role chunk, one chunk per text piece, the finish, the usage chunk, [DONE]. */
export function chatSse({ id, model, pieces, usage, finish = "stop" }) {
  const chunk = (delta, finish_reason = null) => ({ data: { id, object: "chat.completion.chunk", created: 1746789000, model, choices: [{ index: 0, delta, finish_reason }] } });
  return [
    chunk({ role: "assistant", content: "" }),
    ...pieces.map((p) => chunk({ content: p })),
    chunk({}, finish),
    { data: { id, object: "chat.completion.chunk", created: 1746789000, model, choices: [], usage } },
    { data: "[DONE]" },
  ];
}

/** A Gemini `GenerateContentResponse` with one candidate of `parts`. */
export function geminiJson({ parts, finishReason = "STOP", usage, modelVersion, responseId }) {
  const r = { candidates: [{ content: { role: "model", parts }, finishReason, index: 0 }], modelVersion, responseId };
  if (usage) r.usageMetadata = usage;
  return r;
}

/** A Gemini `streamGenerateContent?alt=sse` stream: one event per text piece, usage on the last. */
export function geminiSse({ pieces, usage, modelVersion, responseId, finishReason = "STOP" }) {
  return pieces.map((p, i) => {
    const last = i === pieces.length - 1;
    const c = { content: { role: "model", parts: typeof p === "string" ? [{ text: p }] : [p] }, index: 0 };
    if (last) c.finishReason = finishReason;
    const data = { candidates: [c], modelVersion, responseId };
    if (last && usage) data.usageMetadata = usage;
    else data.usageMetadata = { promptTokenCount: usage?.promptTokenCount, trafficType: "ON_DEMAND" };
    return { data };
  });
}

/** An OpenAI Responses API `response` of output items, completed. */
export function responsesJson({ id, model, output, usage }) {
  return { id, object: "response", created_at: 1746789000, status: "completed", model, output, usage, error: null, incomplete_details: null, instructions: null, parallel_tool_calls: true, tool_choice: "auto", tools: [] };
}

/** A Responses API `function_call` output item. */
export const functionCall = (callId, name, args) => ({ type: "function_call", id: `fc_${callId}`, call_id: callId, name, arguments: JSON.stringify(args), status: "completed" });

/** A Responses API assistant `message` output item with one text part. */
export const outputMessage = (id, text) => ({ type: "message", id, role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] });

/** Responses API usage. */
export const responsesUsage = (input, output, cached = 0) => ({ input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input + output });
