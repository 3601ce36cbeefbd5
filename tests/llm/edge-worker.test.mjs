// examples/edge-worker in workerd (its real binary, from the `workerd` npm package): the
// example is bundled the way wrangler bundles it (conditions workerd/worker/browser, the .wasm
// as a module of its own) with the packed agensight-wasm and the real `openai` client, served
// by a config this test writes, and pointed at the local stand-in for the OpenAI API. The
// request is one trace: the fetch span, the LLM call with tool calls, the tool spans, the
// streamed answer.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../support/package.mjs";
import { serveWorker } from "../support/workerd.mjs";
import { startServer, fixture, events } from "./server.mjs";

const DIR = join(ROOT, "tests/.scratch/llm-edge-worker");
const EXAMPLE = join(ROOT, "examples/edge-worker/src/index.mjs");

const srv = await startServer();
after(() => srv.close());

/** The example's worker, plus a route for the test to read the in-memory trace store. */
const harness = `
import app from ${JSON.stringify(EXAMPLE)};
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

/** The harness bundled as wrangler would, with the real `openai` client, served by workerd (a
 * missing binary fails the test with what to install). */
function startWorker() {
  return serveWorker({
    dir: DIR,
    source: harness,
    fromRoot: /^openai(\/.*)?$/,
    bindings: { OPENAI_BASE_URL: `${srv.url}/v1`, OPENAI_API_KEY: "sk-edge-test" },
    flags: ["nodejs_als"],
    probe: "/__records",
  });
}

test("examples/edge-worker in workerd: one trace with the LLM calls, the tools and the streamed answer", async () => {
  const fTools = fixture("openai-chat-tools");
  const fText = fixture("openai-chat-stream-text");
  srv.reply({ json: fTools.response }, { sse: fText.sse });
  const w = await startWorker();
  try {
    const res = await fetch(`${w.url}/chat?q=${encodeURIComponent("What's the weather and the local time in Paris?")}`);
    assert.equal(res.status, 200, w.output());
    assert.equal(await res.text(), "It is 21°C and sunny in Paris.", "the streamed answer, as the server sent it");

    // The worker's two requests to the LLM API.
    const [first, second] = srv.requests.slice(-2);
    assert.equal(first.headers.authorization, "Bearer sk-edge-test");
    assert.deepEqual(first.body.messages.map((m) => m.role), ["system", "user"]);
    assert.deepEqual(second.body.messages.map((m) => m.role), ["system", "user", "assistant", "tool", "tool"]);
    assert.equal(second.body.stream, true);

    let store;
    for (let i = 0; i < 50; i++) {
      store = await (await fetch(`${w.url}/__records`)).json();
      if (store.traces[0]?.spans.length === 5) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(store.traces.length, 1, JSON.stringify(store));
    const t = store.traces[0];
    assert.equal(t.total_tokens, 1163 + 307);
    const [root, a, weather, time, b] = t.spans;
    assert.deepEqual(t.spans.map((s) => [s.name, s.kind, s.status, s.parent_id]), [
      ["GET /chat", "fetch", "ok", null],
      ["openai.chat.completions.create", "llm", "ok", root.id],
      ["get_weather", "tool", "ok", root.id],
      ["get_time", "tool", "ok", root.id],
      ["openai.chat.completions.create", "llm", "ok", root.id],
    ]);
    assert.equal(root.attributes["service.name"], "edge-chat");
    assert.deepEqual([a.attributes["gen_ai.request.model"], a.attributes["gen_ai.response.model"], a.attributes["gen_ai.usage.total_tokens"], a.attributes["gen_ai.usage.cache_read_input_tokens"]], ["gpt-4.1-mini", "gpt-4.1-2025-04-14", 1163, 1024]);
    assert.deepEqual(a.tools.map((x) => [x.name, x.arguments]), [
      ["get_weather", '{"city":"Paris","unit":"celsius"}'],
      ["get_time", '{"timezone":"Europe/Paris"}'],
    ]);
    assert.deepEqual(weather.attributes.output, { city: "Paris", unit: "celsius", temperature: 21, sky: "sunny" });
    assert.deepEqual(time.attributes.input, [{ timezone: "Europe/Paris" }]);
    assert.deepEqual(b.completions.map((c) => [c.content, c.finish_reason, c.total_tokens]), [["It is 21°C and sunny in Paris.", "stop", 307]]);
    assert.deepEqual(b.prompts.map((p) => p.role), ["system", "user", "assistant", "tool", "tool"]);
    assert.deepEqual(b.attributes.output.usage, events(fText).at(-1).usage);
  } finally {
    w.stop();
  }
});
