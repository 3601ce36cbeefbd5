// A user's app for the crash test, run as its own process: prod mode, OTLP to the endpoint in
// argv, outbox in the dir in argv. "record" traces and flushes (the receiver hangs, so this
// never returns and the test kills it); "resend" only starts, which sends the outbox; "exit"
// records and ends without flush() (the exit hook sends); "exitnow" records and calls
// process.exit() at once (no beforeExit: the exit hook can only write the outbox).
import { importPackage } from "../support/package.mjs";

const [, , what, endpoint, dir] = process.argv;
const { init, trace, flush } = await importPackage();
init({ name: "crashy", mode: "prod", exporter: "otlp", endpoint, dir, queue: { batchDelayMs: 0, timeoutMs: 60000 } });
if (what === "record" || what === "exit" || what === "exitnow") {
  for (let i = 0; i < 3; i++) await trace(async () => i, `${what}-${i}`)();
}
if (what === "exitnow") {
  process.exit(0);
} else if (what === "record") {
  process.stdout.write("recorded\n");
  await flush({ timeoutMs: 60000 });
} else if (what === "resend") {
  const r = await flush();
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
