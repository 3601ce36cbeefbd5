import type { ContextManager, TracerProvider } from "@opentelemetry/api";

/** A TracerProvider for `@opentelemetry/api` whose spans are agensight spans. */
export declare const AgensightTracerProvider: new () => TracerProvider;

/** A ContextManager for `@opentelemetry/api` that follows the agensight active span. */
export declare const AgensightContextManager: new () => ContextManager;

/**
 * Registers both as the global tracer provider and context manager of `@opentelemetry/api`;
 * false for each that something else registered first.
 */
export declare function registerOpenTelemetry(): { tracerProvider: boolean; contextManager: boolean };
