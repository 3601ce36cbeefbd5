// A client wrapped before init() works untraced until init() is called (own file: the SDK is a
// per-process singleton).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { importPackage } from "../support/package.mjs";
import { startServer, fixture, events } from "./server.mjs";

const { init, flush, readLocal, wrapOpenAI } = await importPackage();
const srv = await startServer();
after(() => srv.close());

test("wrapped before init(): calls and streams work untraced; after init() they are traced", async () => {
  const openai = wrapOpenAI(new OpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, maxRetries: 0 }));
  const f = fixture("openai-chat-tools");
  const fs = fixture("openai-chat-stream-text");
  srv.reply({ json: f.response }, { sse: fs.sse }, { json: f.response });
  assert.deepEqual(await openai.chat.completions.create(f.request), f.response);
  const got = [];
  for await (const c of await openai.chat.completions.create(fs.request)) got.push(c);
  assert.deepEqual(got, events(fs));
  init({ storage: "memory" });
  await openai.chat.completions.create(f.request);
  await flush();
  const { traces } = readLocal();
  assert.deepEqual(traces.map((t) => [t.name, t.total_tokens]), [["openai.chat.completions.create", 1163]]);
});
