// `agensight-wasm/openai-agents`: the OpenAI Agents SDK (`@openai/agents`) traced into
// agensight. One line, at start-up:
//
//   import { addTraceProcessor } from "@openai/agents";
//   addTraceProcessor(agensightTraceProcessor());
//
// (`setTraceProcessors([agensightTraceProcessor()])` instead keeps traces on this machine
// only: it replaces the SDK's exporter to the OpenAI platform). No import of the SDK here.

import * as agensight from "agensight-wasm";
import { createAgentsProcessor } from "./processor.js";

/**
 * A TracingProcessor for `@openai/agents`: each agent run (the SDK's trace) becomes an
 * `agent` span under the active span, agents `agent` spans, model calls `llm` spans (model,
 * usage, completions, tool calls), function tools `tool` spans, handoffs `handoff` spans.
 * @returns {object} an `@openai/agents` TracingProcessor
 */
export function agensightTraceProcessor() {
  return createAgentsProcessor(agensight);
}
