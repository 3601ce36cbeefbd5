// `agensight-wasm/ai`: the Vercel AI SDK (`ai` v7) integration. One line in the user's code:
//
//   import { registerTelemetry } from "ai";
//   import { agensightTelemetry } from "agensight-wasm/ai";
//   registerTelemetry(agensightTelemetry());
//
// (or per call: `generateText({ ..., telemetry: { integrations: [agensightTelemetry()] } })`).
// No import of `ai` here: the SDK calls the object it is given.

import * as agensight from "agensight-wasm";
import { createAiTelemetry } from "./telemetry.js";

/**
 * A telemetry integration for the AI SDK (`registerTelemetry(agensightTelemetry())`): every
 * generateText / streamText / generateObject / streamObject / embed / embedMany call becomes a
 * span (kind `chain`, named after the operation, `ai.generateText`) under the active span,
 * each model call an `llm` span under it (model, usage, prompts, completions, tool calls),
 * each tool execution a `tool` span named after the tool. Work done inside a tool's
 * `execute` (other traced functions, nested AI SDK calls) is nested in its tool span.
 * `telemetry: { recordInputs: false }` and `recordOutputs: false` are honoured by the SDK
 * (it removes those fields from the events).
 * @returns {object} an `ai` `Telemetry` integration
 */
export function agensightTelemetry() {
  return createAiTelemetry(agensight);
}
