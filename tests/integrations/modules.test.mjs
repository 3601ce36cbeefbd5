// instrumentModules (agensight-wasm/modules) with the real `openai`, `@anthropic-ai/sdk` and
// `@google/genai` classes: every client made after the call is traced with no wrapping, SDK
// code that goes through the client (Gemini chats) included; clients made before are not;
// a second call patches nothing.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI, { AzureOpenAI } from "openai";
import Anthropic from "@anthropic-ai/sdk";
import * as genai from "@google/genai";
import { importPackage } from "../support/package.mjs";
import { startServer, fixture } from "../llm/server.mjs";
import { fresh, tree } from "./records.mjs";
import { geminiJson } from "./doubles.mjs";

const agensight = await importPackage();
const { instrumentModules } = await importPackage("agensight-wasm/modules");
const { trace } = agensight;

const srv = await startServer();
after(() => srv.close());

const before = new OpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, maxRetries: 0 });

test("every client made after instrumentModules is traced; one made before is not; a second call patches nothing", async () => {
  assert.deepEqual(instrumentModules({ openai: OpenAI, anthropic: Anthropic, googleGenAI: genai }, agensight), ["openai", "anthropic", "googleGenAI"]);
  assert.deepEqual(instrumentModules({ openai: OpenAI }, agensight), []);
  assert.throws(() => instrumentModules({ mistral: class {} }, agensight), /unknown module "mistral"/);

  const read = fresh();
  const fo = fixture("openai-chat-tools");
  const fa = fixture("anthropic-message-tools");
  const answer = geminiJson({ parts: [{ text: "Bonjour !" }], usage: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 }, modelVersion: "gemini-2.5-flash", responseId: "resp-chat" });
  srv.reply({ json: fo.response }, { json: fo.response }, { json: fa.response }, { json: answer }, { json: fo.response });
  const openai = new OpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, maxRetries: 0 });
  const anthropic = new Anthropic({ apiKey: "sk-ant-test", baseURL: srv.url, maxRetries: 0 });
  const ai = new genai.GoogleGenAI({ apiKey: "gemini-test-key", httpOptions: { baseUrl: srv.url } });
  const azure = new AzureOpenAI({ apiKey: "az-test", endpoint: srv.url, apiVersion: "2025-01-01-preview", deployment: "gpt-4.1", maxRetries: 0 });
  let chatReply;
  await trace(async () => {
    const r = await openai.chat.completions.create(fo.request);
    assert.deepEqual(r, fo.response);
    await azure.chat.completions.create(fo.request);
    await anthropic.messages.create(fa.request);
    chatReply = await ai.chats.create({ model: "gemini-2.5-flash" }).sendMessage({ message: "Salut" });
    await before.chat.completions.create(fo.request);
  }, "main")();
  assert.equal(chatReply.text, "Bonjour !");
  assert.ok(openai instanceof OpenAI);

  const { traces } = await read();
  const t = traces[0];
  assert.deepEqual(tree(t), [
    ["main", "trace", "ok", null],
    ["openai.chat.completions.create", "llm", "ok", 0],
    ["openai.chat.completions.create", "llm", "ok", 0],
    ["anthropic.messages.create", "llm", "ok", 0],
    ["google_genai.models.generateContent", "llm", "ok", 0],
  ]);
  assert.equal(t.spans[4].completions[0].content, "Bonjour !");
  assert.deepEqual(t.spans[4].prompts.map((p) => [p.role, p.content]), [["user", "Salut"]]);
  assert.equal(t.spans[3].attributes["gen_ai.system"], "anthropic");
  assert.equal(srv.requests.length, 5, "the client made before instrumentModules still works, untraced");
});
