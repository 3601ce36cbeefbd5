// The integrations in Bun and Deno (their real binaries from the root devDependencies), each
// importing the installed tarball's subpaths by name from a project of its own: the real
// `ai` (its MockLanguageModelV4 from `ai/test`, no network) with agensightTelemetry, and
// `@opentelemetry/api` with registerOpenTelemetry; the report's span tree is asserted here.
// This checks the package self-reference (`agensight-wasm/ai` importing `agensight-wasm`)
// gives the one instance of the runtime's entry, and AsyncLocalStorage nesting across await.
import { test } from "node:test";
import assert from "node:assert/strict";
import { REPORT_MARK, devBinary, ownApp, runReport, writeRunner } from "../runtimes/harness.mjs";

const runner = `
import * as agensight from "agensight-wasm";
import { agensightTelemetry } from "agensight-wasm/ai";
import { registerOpenTelemetry } from "agensight-wasm/opentelemetry";
import { generateText, tool, registerTelemetry, stepCountIs } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { trace as otel } from "@opentelemetry/api";
import { z } from "zod";

const { init, trace, span, flush, readLocal } = agensight;
init({ storage: "memory" });
registerTelemetry(agensightTelemetry());
registerOpenTelemetry();

const usage = (input, output) => ({ inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: output, text: output, reasoning: 0 } });
const answers = [
  { content: [{ type: "tool-call", toolCallId: "call_1", toolName: "get_weather", input: JSON.stringify({ city: "Paris" }) }], finishReason: { unified: "tool-calls", raw: "tool_calls" }, usage: usage(20, 5), warnings: [], response: { id: "resp-1", modelId: "mock-model" } },
  { content: [{ type: "text", text: "21°C in Paris." }], finishReason: { unified: "stop", raw: "stop" }, usage: usage(30, 6), warnings: [], response: { id: "resp-2", modelId: "mock-model" } },
];
const model = new MockLanguageModelV4({ provider: "mock.chat", modelId: "mock-model", doGenerate: async () => answers.shift() });
const lookup = span(async (city) => ({ city, celsius: 21 }), "lookup");
const tracer = otel.getTracer("weather-client");

const result = await trace(() => generateText({
  model,
  prompt: "Weather in Paris?",
  tools: {
    get_weather: tool({
      inputSchema: z.object({ city: z.string() }),
      execute: ({ city }) => tracer.startActiveSpan("weather.fetch", async (s) => {
        await new Promise((r) => setTimeout(r, 1));
        const r = await lookup(city);
        s.end();
        return r;
      }),
    }),
  },
  stopWhen: stepCountIs(3),
}), "main")();
await flush();
const t = readLocal().traces[0];
console.log(${JSON.stringify(REPORT_MARK)} + JSON.stringify({
  text: result.text,
  total: t.total_tokens,
  tree: t.spans.map((s) => [s.name, s.kind, s.status, s.parent_id && t.spans.findIndex((p) => p.id === s.parent_id)]),
  usage: t.spans.filter((s) => s.kind === "llm").map((s) => s.attributes["gen_ai.usage.total_tokens"]),
}));
`;

const EXPECTED = {
  text: "21°C in Paris.",
  total: 25 + 36,
  tree: [
    ["main", "trace", "ok", null],
    ["ai.generateText", "chain", "ok", 0],
    ["ai.generateText.doGenerate", "llm", "ok", 1],
    ["get_weather", "tool", "ok", 1],
    ["weather.fetch", "span", "ok", 3],
    ["lookup", "span", "ok", 4],
    ["ai.generateText.doGenerate", "llm", "ok", 1],
  ],
  usage: [25, 36],
};

for (const [runtime, args] of [
  ["bun", (file) => [file]],
  // --allow-sys=hostname: the AI SDK (@vercel/oidc, through its gateway) reads the host name.
  ["deno", (file) => ["run", "--allow-read", "--allow-env", "--allow-sys=hostname", file]],
]) {
  test(`${runtime}: the AI SDK integration and the OpenTelemetry bridge, nested across await`, async () => {
    const app = await ownApp(`integrations-${runtime}`);
    const file = writeRunner(app, "integrations.mjs", runner);
    const { report } = await runReport(runtime, devBinary(runtime), args(file), { cwd: app });
    assert.deepEqual(report, EXPECTED);
  });
}

test("node: the same runner", async () => {
  const app = await ownApp("integrations-node");
  const file = writeRunner(app, "integrations.mjs", runner);
  const { report } = await runReport("node", process.execPath, [file], { cwd: app });
  assert.deepEqual(report, EXPECTED);
});
