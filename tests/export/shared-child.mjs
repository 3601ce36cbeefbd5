// One process of the shared-outbox test (shared-outbox.test.mjs): prod mode, OTLP to the
// endpoint in argv, the outbox in the dir in argv shared with the other processes. Records
// `count` traces of one span each (0: records nothing), says so, then flushes and prints what
// flush() returned.
import { importPackage } from "../support/package.mjs";

const [, , endpoint, dir, count, name] = process.argv;
const { init, trace, flush } = await importPackage();
init({ name: "shared", mode: "prod", exporter: "otlp", endpoint, dir, queue: { batchDelayMs: 0, maxBatchSpans: 20 } });
process.stdout.write("started\n");
const work = trace(async (i) => i, name);
for (let i = 0; i < Number(count); i++) await work(i);
process.stdout.write("recorded\n");
const r = await flush({ timeoutMs: 30000 });
process.stdout.write(`${JSON.stringify(r)}\n`);
