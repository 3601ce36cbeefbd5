// A user `redact` function is applied to every captured field: input, output, metadata (span
// and trace), the error's name, message and stack, the session (a trace's own and init()'s:
// id, name, user_id) and span names (trace(), span(), and the package's own wrappers). What it
// returns is recorded; when it throws, a note is recorded, never the value. And the export
// warnings of one init() do not silence those of the next.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { importPackage } from "../support/package.mjs";

const { init, trace, span, flush, readLocal, continueTrace, wrapOpenAI } = await importPackage();

const mask = (v) => JSON.parse(JSON.stringify(v).replaceAll("SECRET", "***"));

test("a redact function sees every captured field, and its result is recorded", async () => {
  const seen = [];
  init({ storage: "memory", session: { id: "init-SECRET", name: "init name SECRET", user_id: "init-user-SECRET" }, redact: (v) => (seen.push(v), mask(v)) });
  class SecretError extends Error {}
  SecretError.prototype.name = "SECRETError";
  const child = span(
    function childSECRET() {
      throw new SecretError("bad SECRET");
    },
    { metadata: { k: "SECRET" } },
  );
  const main = trace(
    async (a) => {
      try {
        child();
      } catch {}
      return `out ${a}`;
    },
    { name: "mainSECRET", session: { id: "sid-SECRET", name: "SECRET name", user_id: "u-SECRET" }, metadata: { m: "SECRET" } },
  );
  await main("SECRET");
  // A wrapper built on the package's own begin(): its name goes through the function too.
  continueTrace(undefined, () => "done", { name: "GET /SECRET" });
  const withInitSession = trace(() => 1, "plainSECRET");
  withInitSession();
  assert.deepEqual(await flush(), { exported: 0, failed: 0, pending: 0, dropped: 0 });

  const { sessions, traces } = readLocal();
  assert.doesNotMatch(JSON.stringify({ sessions, traces }), /SECRET/);
  assert.deepEqual(
    sessions.map((s) => [s.id, s.session_name, s.user_id]).sort(),
    [["init-***", "init name ***", "init-user-***"], ["sid-***", "*** name", "u-***"]],
  );
  const [t1, t2, t3] = traces;
  assert.deepEqual([t1.name, t1.session_id, t1.metadata], ["main***", "sid-***", { m: "***" }]);
  assert.deepEqual([t2.name, t3.name, t3.session_id], ["GET /***", "plain***", "init-***"]);
  const [root, c] = t1.spans;
  assert.deepEqual([root.attributes.input, root.attributes.output], [["***"], "out ***"]);
  assert.equal(c.name, "child***");
  assert.deepEqual(c.attributes.metadata, { k: "***" });
  assert.equal(c.attributes["error.type"], "***Error");
  assert.equal(c.attributes["error.message"], "bad ***");
  assert.match(c.attributes["error.stack"], /^\*\*\*Error: bad \*\*\*\n/);
  // The function got JSON copies (plain data) and texts, not the app's objects.
  assert.ok(seen.includes("bad SECRET") && seen.includes("mainSECRET") && seen.some((v) => v?.m === "SECRET"));
});

test("a redact function that throws: a note is recorded in each field, never the value", async () => {
  init({
    storage: "memory",
    redact: () => {
      throw new Error("nope");
    },
  });
  const f = trace(
    () => {
      throw new RangeError("SECRET");
    },
    { name: "SECRET", metadata: { SECRET: 1 } },
  );
  assert.throws(f, RangeError);
  await flush();
  const text = JSON.stringify(readLocal());
  assert.doesNotMatch(text, /SECRET/);
  const s = readLocal().traces[0].spans[0];
  assert.equal(s.name, "[redact function threw: nope]");
  assert.equal(s.attributes["error.message"], "[redact function threw: nope]");
  assert.deepEqual(s.attributes.input, "[redact function threw: nope]");
});

test("a provider call's declaration is not captured data: the redact function does not see it, and the model is recorded", async () => {
  const seen = [];
  init({ storage: "memory", redact: (v) => (seen.push(JSON.stringify(v)), v) });
  const client = wrapOpenAI({
    chat: {
      completions: {
        create: async (params) => ({ id: "c1", object: "chat.completion", model: params.model, choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
      },
    },
  });
  await client.chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "hello" }] });
  await flush();
  assert.deepEqual(seen.filter((v) => v.includes("$llm")), []);
  const s = readLocal().traces[0].spans[0];
  assert.deepEqual([s.name, s.kind, s.completions.map((c) => c.content)], ["openai.chat.completions.create", "llm", ["hi"]]);
  assert.equal(s.attributes["gen_ai.request.model"], "gpt-test");
});

test("export warnings of a new init() are shown again (prod: the first of each init())", async () => {
  // A port nothing listens on.
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const warnings = [];
  const original = console.warn;
  console.warn = (...a) => warnings.push(a.join(" "));
  try {
    for (let round = 1; round <= 2; round++) {
      init({ mode: "prod", exporter: "otlp", endpoint: `http://127.0.0.1:${port}/v1/traces`, storage: "memory" });
      trace(() => round, "work")();
      const r = await flush({ timeoutMs: 300 });
      assert.equal(r.pending, 1);
      assert.equal(warnings.filter((w) => w.startsWith("agensight: export failing:")).length, round, `round ${round}: ${warnings.join(" | ")}`);
    }
  } finally {
    console.warn = original;
  }
});
