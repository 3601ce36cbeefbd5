// Run by abandoned.test.mjs with --expose-gc: a stream dropped after one chunk, neither read to
// the end nor closed, ends its span when it is garbage-collected. Prints the spans as JSON.
import OpenAI from "openai";
import { importPackage } from "../support/package.mjs";
import { startServer, fixture } from "./server.mjs";

const { init, flush, readLocal, wrapOpenAI } = await importPackage();
init({ storage: "memory" });
const srv = await startServer();
const f = fixture("openai-chat-stream-text");
srv.reply({ sse: f.sse, pauseMs: 100 });
const openai = wrapOpenAI(new OpenAI({ apiKey: "sk-test", baseURL: `${srv.url}/v1`, maxRetries: 0 }));
await (async () => {
  const stream = await openai.chat.completions.create(f.request);
  const it = stream[Symbol.asyncIterator]();
  await it.next();
  await it.next();
})();
for (let i = 0; i < 50 && readLocal().traces.length === 0; i++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 50));
  await flush();
}
console.log(JSON.stringify(readLocal().traces.map((t) => t.spans.map((s) => [s.name, s.status, s.completions.map((c) => c.content)]))));
await srv.close();
process.exit(0);
