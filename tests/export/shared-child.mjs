// One process of the shared-outbox test (shared-outbox.test.mjs): prod mode, OTLP to the
// endpoint in argv, the outbox in the dir in argv shared with the other processes. Records
// `count` traces of one span each (0: records nothing; `fill`: characters captured per trace),
// says so with how many of its jobs are spilled to the outbox and its export bytes in memory
// (restored ones included), then flushes and prints what
// flush() returned.
import { join } from "node:path";
import { APP, importPackage } from "../support/package.mjs";

const [, , endpoint, dir, count, name, fill = "0"] = process.argv;
const { init, trace, flush } = await importPackage();
const { resolve } = await import(join(APP, "resolve.mjs"));
const glue = await import(new URL("./wasm/agensight_wasm.js", resolve("agensight-wasm")).href);
init({ name: "shared", mode: "prod", exporter: "otlp", endpoint, dir, queue: { batchDelayMs: 0, maxBatchSpans: 20 } });
process.stdout.write("started\n");
const work = trace(async (i) => i, name);
const filler = "f".repeat(Number(fill));
for (let i = 0; i < Number(count); i++) await work(i, filler);
await new Promise((r) => setImmediate(r));
const stats = JSON.parse(glue.stats());
process.stdout.write(`recorded ${stats.spilled} spilled ${stats.resident} resident\n`);
const r = await flush({ timeoutMs: 30000 });
process.stdout.write(`${JSON.stringify(r)}\n`);
