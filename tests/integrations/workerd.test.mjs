// The Vercel AI SDK route in workerd (its real binary, the `workerd` npm package): a worker
// bundled the way wrangler bundles it (conditions workerd/worker/browser, the .wasm as a
// module of its own) from the packed agensight-wasm (`agensight-wasm/ai` included), `ai` and
// `@ai-sdk/openai`, with `nodejs_als`; generateText with a tool round against the local
// stand-in for the OpenAI API. The request is one trace: the route, the AI SDK call, both
// model calls, the tools, and inside a tool an OpenTelemetry span (agensight-wasm/opentelemetry)
// with a span() inside it: nested both ways in workerd's AsyncLocalStorage.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../support/package.mjs";
import { serveWorker } from "../support/workerd.mjs";
import { startServer, fixture } from "../llm/server.mjs";
import { chatJson } from "./doubles.mjs";

const DIR = join(ROOT, "tests/.scratch/integrations-workerd");

const srv = await startServer();
after(() => srv.close());

const worker = `
import { init, trace, span, flush, readLocal } from "agensight-wasm";
import { agensightTelemetry } from "agensight-wasm/ai";
import { registerOpenTelemetry } from "agensight-wasm/opentelemetry";
import { trace as otel } from "@opentelemetry/api";
import { generateText, tool, registerTelemetry, stepCountIs } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { z } from "zod";

registerTelemetry(agensightTelemetry());
registerOpenTelemetry();
let ready = false;
const lookup = span(async (city) => ({ city, celsius: 21, sky: "sunny" }), "lookup");
// As an OTel-instrumented library would: an active OTel span around the lookup.
const weatherClient = (city) => otel.getTracer("weather-client").startActiveSpan("weather.fetch", async (s) => {
  await new Promise((r) => setTimeout(r, 1));
  const r = await lookup(city);
  s.setAttribute("weather.city", city);
  s.end();
  return r;
});

export default {
  async fetch(request, env) {
    if (!ready) {
      init({ name: "edge-ai", storage: "memory" });
      ready = true;
    }
    if (new URL(request.url).pathname === "/__records") {
      await flush();
      return Response.json(readLocal());
    }
    const openai = createOpenAI({ apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL });
    const result = await trace(() => generateText({
      model: openai.chat("gpt-4.1"),
      system: "You are a helpful travel agent.",
      prompt: "What's the weather and the local time in Paris?",
      tools: {
        get_weather: tool({ description: "Current weather", inputSchema: z.object({ city: z.string(), unit: z.string() }), execute: async ({ city }) => weatherClient(city) }),
        get_time: tool({ description: "Local time", inputSchema: z.object({ timezone: z.string() }), execute: async ({ timezone }) => "12:00 in " + timezone }),
      },
      stopWhen: stepCountIs(3),
    }), "GET /ai")();
    return new Response(result.text);
  },
};
`;

test("the AI SDK and an OTel span in workerd: the route's trace holds the call, both model calls, the tools, the OTel span in a tool and a span in it", async () => {
  const f = fixture("openai-chat-tools");
  srv.reply({ json: f.response }, { json: chatJson({ id: "chatcmpl-edge", model: "gpt-4.1-2025-04-14", content: "21°C and sunny; it is noon.", usage: { prompt_tokens: 1250, completion_tokens: 12, total_tokens: 1262 } }) });
  const w = await serveWorker({
    dir: DIR,
    source: worker,
    fromRoot: /^(ai|zod|@ai-sdk\/openai|@opentelemetry\/api)(\/.*)?$/,
    bindings: { OPENAI_BASE_URL: `${srv.url}/v1`, OPENAI_API_KEY: "sk-edge-test" },
    probe: "/__records",
  });
  try {
    const res = await fetch(`${w.url}/ai`);
    assert.equal(res.status, 200, w.output());
    assert.equal(await res.text(), "21°C and sunny; it is noon.");
    assert.equal(srv.requests.at(-1).headers.authorization, "Bearer sk-edge-test");
    const store = await (await fetch(`${w.url}/__records`)).json();
    assert.equal(store.traces.length, 1, JSON.stringify(store).slice(0, 2000));
    const t = store.traces[0];
    assert.deepEqual(
      t.spans.map((s) => [s.name, s.kind, s.status, s.parent_id && t.spans.findIndex((p) => p.id === s.parent_id)]),
      [
        ["GET /ai", "trace", "ok", null],
        ["ai.generateText", "chain", "ok", 0],
        ["ai.generateText.doGenerate", "llm", "ok", 1],
        ["get_weather", "tool", "ok", 1],
        ["get_time", "tool", "ok", 1],
        ["weather.fetch", "span", "ok", 3],
        ["lookup", "span", "ok", 5],
        ["ai.generateText.doGenerate", "llm", "ok", 1],
      ],
    );
    assert.equal(t.total_tokens, 1163 + 1262);
    assert.equal(t.spans[0].attributes["service.name"], "edge-ai");
    assert.deepEqual(t.spans[2].tools.map((x) => x.name), ["get_weather", "get_time"]);
    assert.deepEqual(t.spans[5].attributes.output.attributes, { "weather.city": "Paris" });
    assert.deepEqual(t.spans[7].completions.map((c) => [c.content, c.total_tokens]), [["21°C and sunny; it is noon.", 1262]]);
  } finally {
    w.stop();
  }
});

test("examples/edge-worker's /ai route in workerd: one trace per request with the AI SDK call, model calls and tools", async () => {
  const example = join(ROOT, "examples/edge-worker/src/index.mjs");
  const harness = `
import app from ${JSON.stringify(example)};
import { flush, readLocal } from "agensight-wasm";
export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__records") {
      await flush();
      return Response.json(readLocal());
    }
    return app.fetch(request, env, ctx);
  },
};
`;
  const f = fixture("openai-chat-tools");
  srv.reply({ json: f.response }, { json: chatJson({ id: "chatcmpl-example", model: "gpt-4.1-mini-2025-04-14", content: "21°C and sunny.", usage: { prompt_tokens: 900, completion_tokens: 6, total_tokens: 906 } }) });
  const w = await serveWorker({
    dir: join(ROOT, "tests/.scratch/integrations-edge-example"),
    source: harness,
    fromRoot: /^(ai|zod|openai|@ai-sdk\/openai)(\/.*)?$/,
    bindings: { OPENAI_BASE_URL: `${srv.url}/v1`, OPENAI_API_KEY: "sk-edge-test" },
    probe: "/__records",
  });
  try {
    const res = await fetch(`${w.url}/ai?q=${encodeURIComponent("What's the weather in Paris?")}`);
    assert.equal(res.status, 200, w.output());
    assert.equal(await res.text(), "21°C and sunny.");
    let store;
    for (let i = 0; i < 50; i++) {
      store = await (await fetch(`${w.url}/__records`)).json();
      if (store.traces[0]?.spans.length === 6) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const t = store.traces[0];
    assert.equal(store.traces.length, 1, JSON.stringify(store).slice(0, 2000));
    assert.deepEqual(
      t.spans.map((s) => [s.name, s.kind, s.status, s.parent_id && t.spans.findIndex((p) => p.id === s.parent_id)]),
      [
        ["GET /ai", "fetch", "ok", null],
        ["ai.generateText", "chain", "ok", 0],
        ["ai.generateText.doGenerate", "llm", "ok", 1],
        ["get_weather", "tool", "ok", 1],
        ["get_time", "tool", "ok", 1],
        ["ai.generateText.doGenerate", "llm", "ok", 1],
      ],
    );
    assert.equal(t.total_tokens, 1163 + 906);
    assert.equal(t.spans[0].attributes["service.name"], "edge-chat");
    assert.deepEqual(t.spans[3].attributes.output, { city: "Paris", unit: "celsius", temperature: 21, sky: "sunny" });
    assert.deepEqual([t.spans[2].attributes["gen_ai.request.model"], t.spans[2].attributes["gen_ai.request.temperature"]], ["gpt-4.1-mini", 0.2]);
  } finally {
    w.stop();
  }
});
