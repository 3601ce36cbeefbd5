import type { TracingProcessor } from "@openai/agents";

/**
 * A trace processor for the OpenAI Agents SDK: `addTraceProcessor(agensightTraceProcessor())`.
 * Agent runs and agents become `agent` spans, model calls `llm`, function tools `tool`,
 * handoffs `handoff`.
 */
export declare function agensightTraceProcessor(): TracingProcessor;
