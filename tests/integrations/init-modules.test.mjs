// init({ instrumentModules }) with the real `openai`, `@anthropic-ai/sdk` and `@google/genai`
// classes against the local double: every client made after init() is traced with no
// wrapping; a bad value is init()'s invalid_option error, and a misspelt option still is one.
// The option needs `import "agensight-wasm/modules"` (the core leaves the wrappers out).
// (Its own file: the classes are patched for the whole process.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { importPackage } from "../support/package.mjs";
import { startServer, fixture } from "../llm/server.mjs";
import { tree } from "./records.mjs";
import { geminiJson } from "./doubles.mjs";

const { init, trace, flush, readLocal, AgensightError } = await importPackage();

const srv = await startServer();
after(() => srv.close());

test("without the agensight-wasm/modules import, init({ instrumentModules }) says what to import and patches nothing", async () => {
  assert.throws(
    () => init({ storage: "memory", instrumentModules: { openai: OpenAI } }),
    (e) => e instanceof AgensightError && e.code === "invalid_option" && e.message.startsWith('init(): instrumentModules needs `import "agensight-wasm/modules";`'),
  );
  assert.equal(Object.getOwnPropertyDescriptor(OpenAI.prototype, "chat"), undefined, "OpenAI's prototype is untouched");
  await importPackage("agensight-wasm/modules");
});

test("init({ instrumentModules }) rejects what instrumentModules rejects, as an invalid option, and typos stay errors", () => {
  const invalid = (options, message) =>
    assert.throws(() => init(options), (e) => e instanceof AgensightError && e.code === "invalid_option" && message.test(e.message));
  invalid({ storage: "memory", instrumentModules: { mistral: class {} } }, /^init\(\): instrumentModules: unknown module "mistral"/);
  invalid({ storage: "memory", instrumentModules: { openai: 42 } }, /"openai" is not the SDK's class or module/);
  invalid({ storage: "memory", instrumentModules: "openai" }, /expected an object/);
  invalid({ storage: "memory", instrumentModule: { openai: OpenAI } }, /unknown option `instrumentModule`/);
});

test("every client made after init({ instrumentModules }) is traced, with the options the core got", async () => {
  init({ storage: "memory", name: "modules-app", instrumentModules: { openai: OpenAI, anthropic: Anthropic, googleGenAI: GoogleGenAI } });
  const fo = fixture("openai-chat-tools");
  const fa = fixture("anthropic-message-tools");
  const answer = geminiJson({ parts: [{ text: "Bonjour !" }], usage: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 }, modelVersion: "gemini-2.5-flash", responseId: "resp-1" });
  const parsedReply = { ...fo.response, id: "chatcmpl-parsed", choices: [{ index: 0, message: { role: "assistant", content: '{"city":"Paris"}', refusal: null }, finish_reason: "stop" }] };
  srv.reply({ json: fo.response }, { json: fa.response }, { json: answer }, { json: parsedReply });
  const openai = new OpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, maxRetries: 0 });
  const anthropic = new Anthropic({ apiKey: "sk-ant-test", baseURL: srv.url, maxRetries: 0 });
  const ai = new GoogleGenAI({ apiKey: "gemini-test-key", httpOptions: { baseUrl: srv.url } });
  await trace(async () => {
    assert.deepEqual(await openai.chat.completions.create(fo.request), fo.response);
    await anthropic.messages.create(fa.request);
    const g = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "Salut" });
    assert.equal(g.text, "Bonjour !");
    // A helper that goes through the client (this._client.chat.completions.create): one span.
    const p = await openai.chat.completions.parse({ ...fo.request, tools: undefined, response_format: { type: "json_schema", json_schema: { name: "c", schema: { type: "object" } } } });
    assert.deepEqual(p.choices[0].message.parsed, { city: "Paris" });
  }, "main")();
  await flush();
  const { traces } = await readLocal();
  assert.equal(traces.length, 1);
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["main", "trace", "ok", null],
    ["openai.chat.completions.create", "llm", "ok", 0],
    ["anthropic.messages.create", "llm", "ok", 0],
    ["google_genai.models.generateContent", "llm", "ok", 0],
    ["openai.chat.completions.parse", "llm", "ok", 0],
  ]);
  assert.deepEqual(t.spans.map((s) => s.attributes["service.name"]), Array(5).fill("modules-app"));
  assert.deepEqual(t.spans.slice(1).map((s) => s.attributes["gen_ai.system"]), ["openai", "anthropic", "gcp.gemini", "openai"]);
  assert.equal(t.spans[4].attributes["gen_ai.response.id"], "chatcmpl-parsed");
  const total = 2 * fo.response.usage.total_tokens + fa.response.usage.input_tokens + (fa.response.usage.cache_read_input_tokens ?? 0) + fa.response.usage.output_tokens + 8;
  assert.equal(t.total_tokens, total);
});
