// `agensight-wasm/opentelemetry`: any OpenTelemetry-instrumented library traced into
// agensight traces. One line, at start-up, after init():
//
//   registerOpenTelemetry();
//
// `@opentelemetry/api` is an optional peer dependency, imported only from here.

import { context, trace } from "@opentelemetry/api";
import * as agensight from "agensight-wasm";
import { createBridge } from "./bridge.js";

const bridge = createBridge(agensight);

/**
 * A TracerProvider for `@opentelemetry/api` whose spans are agensight spans: an OTel span
 * started inside trace()/span() is its child; its attributes, events, links and status are
 * its output; a GenAI span (`gen_ai.*` attributes) is an `llm` span with model and usage.
 */
export const AgensightTracerProvider = bridge.TracerProvider;

/**
 * A ContextManager for `@opentelemetry/api` that follows the agensight active span, so that
 * span() inside an OTel span made current (`startActiveSpan`, `context.with`) is its child.
 */
export const AgensightContextManager = bridge.ContextManager;

/**
 * Registers both as the global tracer provider and context manager of `@opentelemetry/api`.
 * Returns false for each that was already registered by something else (the API keeps the
 * first; call `trace.disable()` / `context.disable()` before to replace it).
 * @returns {{ tracerProvider: boolean, contextManager: boolean }}
 */
export function registerOpenTelemetry() {
  const contextManager = context.setGlobalContextManager(new AgensightContextManager());
  const tracerProvider = trace.setGlobalTracerProvider(new AgensightTracerProvider());
  return { tracerProvider, contextManager };
}
