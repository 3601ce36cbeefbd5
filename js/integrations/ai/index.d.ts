import type { Telemetry } from "ai";

/**
 * A telemetry integration for the Vercel AI SDK (`ai` v7): `registerTelemetry(agensightTelemetry())`.
 * Each call is a `chain` span, each model call an `llm` span under it, each tool execution a
 * `tool` span named after the tool, nested in the active span.
 */
export declare function agensightTelemetry(): Telemetry;
