// The `/ai` route: the same question answered with the Vercel AI SDK (`ai` v7). One line
// traces it: `registerTelemetry(agensightTelemetry())`; the call is a `chain` span in the
// request's trace, each model call an `llm` span, each tool execution a `tool` span.

import { generateText, registerTelemetry, stepCountIs, tool } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { z } from "zod";
import { agensightTelemetry } from "agensight-wasm/ai";

registerTelemetry(agensightTelemetry());

const MODEL = "gpt-4.1-mini";

const tools = {
  get_weather: tool({
    description: "Current weather for a city",
    inputSchema: z.object({ city: z.string(), unit: z.enum(["celsius", "fahrenheit"]).optional() }),
    execute: async ({ city, unit = "celsius" }) => ({ city, unit, temperature: 21, sky: "sunny" }),
  }),
  get_time: tool({
    description: "Local time in a time zone",
    inputSchema: z.object({ timezone: z.string() }),
    execute: async ({ timezone }) => ({ timezone, time: "14:05" }),
  }),
};

/** Answers `question` with tool calls as needed; returns the text. */
export async function answerWithAiSdk(question, env) {
  const openai = createOpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL || undefined });
  const { text } = await generateText({
    model: openai.chat(MODEL),
    system: "You are a helpful travel agent. Be brief.",
    prompt: question,
    tools,
    temperature: 0.2,
    maxRetries: 1,
    stopWhen: stepCountIs(3),
  });
  return text;
}
