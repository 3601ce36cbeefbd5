// The AI SDK's own integration point (`ai` v7 `Telemetry`): lifecycle events of every
// generateText / streamText / generateObject / streamObject / embed / embedMany call, plus
// `executeLanguageModelCall` and `executeTool`, which run the provider call and each tool's
// `execute` inside our span (so whatever they trace is nested there).
//
// Span tree per call (its `callId` ties the events together):
//   ai.generateText (chain, under whatever span is active when the call starts)
//   ├─ ai.generateText.doGenerate (llm)  one per model call (step)
//   ├─ get_weather (tool)                one per tool execution, named after the tool
//   └─ ai.generateText.doGenerate (llm)
// LLM spans carry the call in OpenAI chat shape (../chat-shape.js) so the core records model,
// usage, prompts, completions and tool calls. The operation span's output has the answer and
// `totalUsage` (not `usage`: the tokens are counted on the LLM spans, once).

import { beginChat, chatRequest, chatResponse, declare, embeddingsResponse, endWith } from "../chat-shape.js";
import { answer, chatMessages, chatTools, finishReason, usageOf } from "./messages.js";

/** Calls in flight tracked at most; past it the oldest is ended as an error (and counted). */
const MAX_CALLS = 1000;

const systemOf = (provider) => (typeof provider === "string" && provider ? provider.split(".")[0] : "ai-sdk");

/**
 * @param {{internal?: {begin: Function}}} api the package's API (its `internal.begin`)
 * @returns the Telemetry integration object
 */
export function createAiTelemetry(api) {
  const calls = new Map(); // callId -> { op, name, model, tools: Map, embeds: Map }
  let evicted = 0;
  const begin = (name, opts) => api.internal?.begin(name, opts) ?? null;

  function track(callId, call) {
    if (calls.size >= MAX_CALLS) {
      const [oldest, c] = calls.entries().next().value;
      calls.delete(oldest);
      evicted++;
      closeAll(c, new Error("agensight: AI SDK call still open when 1000 newer ones started; ended here"));
    }
    calls.set(callId, call);
  }

  function closeAll(c, error) {
    const fail = (sp) => sp && (error ? sp.fail(error) : sp.end(undefined));
    fail(c.model);
    c.model = null;
    for (const sp of c.tools.values()) fail(sp);
    for (const sp of c.embeds.values()) fail(sp);
    c.tools.clear();
    c.embeds.clear();
    fail(c.op);
  }

  /** Starts a child of the call's operation span (the active span when there is none). */
  const child = (c, fn) => (c?.op ? c.op.run(fn) : fn());

  function startModel(c, e, messages) {
    const request = chatRequest({
      model: e.modelId,
      messages,
      temperature: e.temperature,
      maxTokens: e.maxOutputTokens,
      tools: chatTools(e.tools ?? e.stepTools),
    });
    const verb = /^ai\.stream/.test(c?.name ?? "") ? "doStream" : "doGenerate";
    return child(c, () => beginChat(begin, `${c?.name ?? "ai"}.${verb}`, { system: systemOf(e.provider), request }));
  }

  function endModel(c, e, text) {
    const sp = c?.model;
    if (!sp) return;
    c.model = null;
    const a = text === undefined ? answer(e.content) : { content: text, toolCalls: [] };
    endWith(sp, chatResponse({ id: e.responseId ?? e.response?.id, model: e.modelId ?? e.response?.modelId, choices: [{ ...a, finishReason: finishReason(e.finishReason) }], usage: usageOf(e.usage) }));
  }

  const get = (e) => calls.get(e?.callId);

  const telemetry = {
    onStart(e) {
      const name = typeof e.operationId === "string" ? e.operationId : "ai";
      const input = { model: e.modelId, provider: e.provider };
      if (e.instructions !== undefined) input.instructions = e.instructions;
      if (e.system !== undefined) input.system = e.system;
      if (e.messages !== undefined) input.messages = e.messages;
      if (e.prompt !== undefined) input.prompt = e.prompt;
      if (e.value !== undefined) input.value = e.value;
      if (e.tools) input.tools = Object.keys(e.tools);
      const op = begin(name, { kind: "chain", args: [input] });
      track(e.callId, { op, name, model: null, tools: new Map(), embeds: new Map() });
    },
    onLanguageModelCallStart(e) {
      const c = get(e);
      if (c) c.model = startModel(c, e, chatMessages(e.instructions, e.messages));
    },
    onLanguageModelCallEnd(e) {
      endModel(get(e), e);
    },
    onObjectStepStart(e) {
      const c = get(e);
      if (c) c.model = startModel(c, e, chatMessages(undefined, e.promptMessages));
    },
    onObjectStepEnd(e) {
      endModel(get(e), e, e.objectText);
    },
    onStepError(e) {
      const c = get(e);
      if (c?.model) {
        c.model.fail(e.error);
        c.model = null;
      }
    },
    executeLanguageModelCall({ callId, execute }) {
      const sp = calls.get(callId)?.model;
      return sp ? sp.run(execute) : execute();
    },
    onToolExecutionStart(e) {
      const c = get(e);
      const t = e.toolCall;
      if (!c || !t) return;
      const sp = child(c, () => begin(String(t.toolName), { kind: "tool", args: [t.input] }));
      if (sp) c.tools.set(t.toolCallId, sp);
    },
    executeTool({ callId, toolCallId, execute }) {
      const sp = calls.get(callId)?.tools.get(toolCallId);
      return sp ? sp.run(execute) : execute();
    },
    onToolExecutionEnd(e) {
      const c = get(e);
      const id = e.toolCall?.toolCallId;
      const sp = c?.tools.get(id);
      if (!sp) return;
      c.tools.delete(id);
      const out = e.toolOutput;
      if (out?.type === "tool-error") sp.fail(out.error);
      else sp.end(out?.output);
    },
    onEmbedStart(e) {
      const c = get(e);
      if (!c) return;
      const request = { model: e.modelId, input: e.values };
      const sp = child(c, () => begin(`${c.name}.doEmbed`, { kind: "llm", args: [request] }));
      if (!sp) return;
      declare(sp, { system: systemOf(e.provider), operation: "embeddings", model: e.modelId });
      c.embeds.set(e.embedCallId, sp);
    },
    onEmbedEnd(e) {
      const c = get(e);
      const sp = c?.embeds.get(e.embedCallId);
      if (!sp) return;
      c.embeds.delete(e.embedCallId);
      endWith(sp, embeddingsResponse({ model: e.modelId, vectors: e.embeddings, inputTokens: e.usage?.tokens }));
    },
    onEnd(e) {
      const c = get(e);
      if (!c) return;
      calls.delete(e.callId);
      closeAll({ ...c, op: null }, new Error("agensight: the AI SDK call ended before this part"));
      c.op?.end(summary(e));
    },
    onAbort(e) {
      const c = get(e);
      if (!c) return;
      calls.delete(e.callId);
      const reason = e.reason instanceof Error ? e.reason : Object.assign(new Error(`aborted${e.reason !== undefined ? `: ${String(e.reason)}` : ""}`), { name: "AbortError" });
      closeAll(c, reason);
    },
    onError(e) {
      const c = get(e);
      if (!c) return;
      calls.delete(e.callId);
      closeAll(c, e.error);
    },
  };
  Object.defineProperty(telemetry, "stats", {
    /** Calls open now, and ended early because more than 1000 were open at once. */
    value: () => ({ open: calls.size, evicted }),
  });
  return telemetry;
}

/** The operation's result as its span's output: the answer, steps and total usage. */
function summary(e) {
  const out = {};
  if (typeof e.text === "string") out.text = e.text;
  if (e.object !== undefined) out.object = e.object;
  if (e.embedding !== undefined) out.embedding = Array.isArray(e.embedding?.[0]) ? e.embedding.map((v) => `[${v.length} numbers]`) : `[${e.embedding?.length ?? 0} numbers]`;
  if (Array.isArray(e.toolCalls) && e.toolCalls.length) out.toolCalls = e.toolCalls.map((t) => ({ toolCallId: t.toolCallId, toolName: t.toolName, input: t.input }));
  if (e.finishReason !== undefined) out.finishReason = e.finishReason;
  if (Array.isArray(e.steps)) out.steps = e.steps.length;
  const total = e.totalUsage ?? e.usage;
  if (total) out.totalUsage = total;
  return out;
}
