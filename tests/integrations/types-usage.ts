// The integrations' shipped types, used as a TypeScript user would (checked by
// tests/integrations/types.test.mjs with tsc against the installed tarball).
import { registerTelemetry } from "ai";
import { addTraceProcessor } from "@openai/agents";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { trace as otel } from "@opentelemetry/api";
import * as agensight from "agensight-wasm";
import { agensightTelemetry } from "agensight-wasm/ai";
import { wrapGoogleGenAI } from "agensight-wasm/google-genai";
import { agensightTraceProcessor } from "agensight-wasm/openai-agents";
import { AgensightCallbackHandler } from "agensight-wasm/langchain";
import { registerOpenTelemetry, AgensightTracerProvider } from "agensight-wasm/opentelemetry";
import { instrumentModules } from "agensight-wasm/modules";

registerTelemetry(agensightTelemetry());
addTraceProcessor(agensightTraceProcessor());
const ai: GoogleGenAI = wrapGoogleGenAI(new GoogleGenAI({ apiKey: "k" }));
export const models = ai.models;
export const handler = new AgensightCallbackHandler();
export const handlerName: string = handler.name;
const registered: { tracerProvider: boolean; contextManager: boolean } = registerOpenTelemetry();
export { registered };
otel.setGlobalTracerProvider(new AgensightTracerProvider());
export const patched: string[] = instrumentModules({ openai: OpenAI }, agensight);

// @ts-expect-error: a client is an object
wrapGoogleGenAI(42);
// @ts-expect-error: the package's API is required
instrumentModules({ openai: OpenAI });

agensight.init({ storage: "memory", instrumentModules: { openai: OpenAI, googleGenAI: GoogleGenAI } });
// @ts-expect-error: only the SDKs instrumentModules knows
agensight.init({ instrumentModules: { mistral: OpenAI } });
