// Export to the Agensight cloud API: a real receiver on 127.0.0.1 gets the token validated
// once, then every record in order, with the project id, and the exact contents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importPackage } from "../support/package.mjs";
import { agensightReceiver } from "./receivers.mjs";

const { init, trace, span, flush, readLocal } = await importPackage();

const completion = (id, toolCall) => ({
  id,
  object: "chat.completion",
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: toolCall ? null : "Sunny.", ...(toolCall ? { tool_calls: [toolCall] } : {}) }, finish_reason: toolCall ? "tool_calls" : "stop" }],
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
});

function docsExample() {
  let n = 0;
  const llm = span(async (messages) => (n++ === 0 ? completion("c-1", { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }) : completion("c-2")), "llm");
  return trace(
    async (q) => {
      await llm([{ role: "user", content: q }]);
      return (await llm([{ role: "user", content: q }])).choices[0].message.content;
    },
    { name: "multi_agent_chat", session: { id: "xyz123", name: "multi agent chat", user_id: "123" }, metadata: { plan: "pro" } },
  );
}

test("prod: validate once, then session, trace, spans parents-first, prompts, completions, tools", async () => {
  const rx = await agensightReceiver();
  const dir = mkdtempSync(join(tmpdir(), "agensight-export-"));
  try {
    init({ name: "chat-service", mode: "prod", token: "tok-test-12345", endpoint: rx.url, dir, queue: { batchDelayMs: 0 } });
    assert.equal(await docsExample()("Weather?"), "Sunny.");
    assert.deepEqual(await flush(), { exported: 3, failed: 0, pending: 0, dropped: 0 });

    assert.equal(rx.calls[0].path, "/api/auth/validate");
    assert.deepEqual(JSON.parse(rx.calls[0].body), { token: "tok-test-12345" });
    assert.equal(rx.calls.filter((c) => c.path === "/api/auth/validate").length, 1, "validated once");
    for (const c of rx.calls.slice(1)) {
      assert.equal(c.headers.authorization, "Bearer proj-1");
      assert.equal(c.headers["content-type"], "application/json");
      assert.ok(!c.body.includes("tok-test-12345"), "the token goes only to /auth/validate");
    }
    // As the reference client: spans by depth, each with its records; the root span last.
    assert.deepEqual(rx.records.map((r) => r.type), ["session", "trace", "span", "prompt", "completion", "tool", "span", "prompt", "completion", "span", "trace_update"]);
    const [session, tr, a, , c1, tool, b, , , root] = rx.records.map((r) => r.data);
    assert.deepEqual(session, { id: "xyz123", project_id: "proj-1", started_at: session.started_at, session_name: "multi agent chat", user_id: "123", metadata: "{}", mode: "prod" });
    assert.deepEqual(Object.keys(tr), ["id", "project_id", "name", "started_at", "ended_at", "session_id", "metadata", "mode"]);
    assert.deepEqual([tr.project_id, tr.name, tr.session_id, tr.metadata, tr.mode], ["proj-1", "multi_agent_chat", "xyz123", '{"plan":"pro"}', "prod"]);
    assert.deepEqual(Object.keys(root), ["id", "project_id", "trace_id", "parent_id", "name", "started_at", "ended_at", "duration", "kind", "status", "attributes", "mode"]);
    assert.deepEqual([root.parent_id, root.trace_id, root.kind, a.parent_id, b.parent_id, a.kind], [null, tr.id, "SpanKind.SERVER", root.id, root.id, "SpanKind.CLIENT"]);
    assert.deepEqual([root.status, JSON.parse(root.attributes)["agensight.span.kind"], JSON.parse(a.attributes)["agensight.span.kind"]], ["StatusCode.OK", "trace", "llm"]);
    for (const s of [root, a, b]) assert.match(s.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(JSON.parse(a.attributes)["gen_ai.usage.total_tokens"], 15);
    assert.deepEqual(c1, { span_id: a.id, role: "assistant", content: "", finish_reason: "tool_calls", total_tokens: 15, prompt_tokens: 10, completion_tokens: 5 });
    assert.deepEqual(tool, { span_id: a.id, name: "get_weather", arguments: '{"city":"Paris"}' });
    assert.deepEqual(rx.records.at(-1).data, { id: tr.id, total_tokens: 30 });
    assert.ok(!existsSync(join(dir, "traces.jsonl")), "prod keeps no local store");
    assert.deepEqual(readdirSync(join(dir, "outbox")), [], "the outbox is empty once everything was accepted");
  } finally {
    await rx.close();
  }
});

test("dev: exports and keeps the local store", async () => {
  const rx = await agensightReceiver();
  const dir = mkdtempSync(join(tmpdir(), "agensight-export-"));
  try {
    init({ mode: "dev", token: "tok-test-12345", endpoint: rx.url, dir, queue: { batchDelayMs: 0 } });
    trace(() => 1, "dev-trace")();
    assert.deepEqual(await flush(), { exported: 1, failed: 0, pending: 0, dropped: 0 });
    assert.deepEqual(rx.records.map((r) => [r.type, r.data.name]), [["trace", "dev-trace"], ["span", "dev-trace"]]);
    assert.deepEqual(readLocal({ dir }).traces.map((t) => t.name), ["dev-trace"]);
  } finally {
    await rx.close();
  }
});

test("a refused token: nothing is exported, the spans count as failed, one clear warning", async (t) => {
  const warnings = [];
  t.mock.method(console, "warn", (...a) => warnings.push(a.join(" ")));
  const rx = await agensightReceiver({ token: "the-right-one" });
  try {
    init({ mode: "prod", token: "a-wrong-token", endpoint: rx.url, storage: "memory", queue: { batchDelayMs: 0 } });
    trace(() => 1, "x")();
    trace(() => 2, "y")();
    assert.deepEqual(await flush(), { exported: 0, failed: 2, pending: 0, dropped: 0 });
    assert.equal(rx.records.length, 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /token was not accepted .*answered 401/);
    assert.ok(!warnings[0].includes("a-wrong-token"), "the token never appears in logs");
  } finally {
    await rx.close();
  }
});
