// The outbox is durable: a process killed mid-export is started again and delivers what was in
// its outbox; a process that ends without flush() sends on its way out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installPackage } from "../support/package.mjs";
import { otlpReceiver } from "./receivers.mjs";
import { runScript, until } from "./processes.mjs";

const CHILD = fileURLToPath(new URL("./child.mjs", import.meta.url));
await installPackage();

const run = (args) => runScript(CHILD, args);

test("killed mid-export, started again: the outbox is delivered", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-crash-"));
  const hung = await otlpReceiver({ fault: () => "hang" });
  const first = run(["record", hung.url, dir]);
  await until(() => hung.calls.length > 0);
  await new Promise((r) => setTimeout(r, 200)); // let every trace's request start
  assert.ok(readdirSync(join(dir, "outbox")).length >= 1, "persisted before its first send");
  first.child.kill("SIGKILL");
  assert.equal((await first.done).signal, "SIGKILL");
  await hung.close();

  const rx = await otlpReceiver();
  try {
    const second = run(["resend", rx.url, dir]);
    const { code, out } = await second.done;
    assert.equal(code, 0, out);
    assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)), { exported: 3, failed: 0, pending: 0, dropped: 0 });
    assert.deepEqual(rx.spans().map((s) => s.name).sort(), ["record-0", "record-1", "record-2"]);
    const resent = new Set(rx.calls.map((c) => c.body));
    assert.ok(hung.calls.every((c) => resent.has(c.body)), "the same requests, ids and all: a receiver can dedupe");
    assert.deepEqual(readdirSync(join(dir, "outbox")), []);
  } finally {
    await rx.close();
  }
});

test("ending without flush(): the exit hook sends", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-exit-"));
  const rx = await otlpReceiver();
  try {
    const { code, out } = await run(["exit", rx.url, dir]).done;
    assert.equal(code, 0, out);
    assert.deepEqual(rx.spans().map((s) => s.name).sort(), ["exit-0", "exit-1", "exit-2"]);
  } finally {
    await rx.close();
  }
});

test("process.exit() before the batch went: the exit hook writes it to the outbox, the next start sends it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-exitnow-"));
  const rx = await otlpReceiver();
  try {
    const { code, out } = await run(["exitnow", rx.url, dir]).done;
    assert.equal(code, 0, out);
    assert.equal(rx.calls.length, 0, "nothing could be sent");
    assert.equal(readdirSync(join(dir, "outbox")).filter((n) => n.endsWith(".json")).length, 1, "the waiting traces, as one job");
    const second = await run(["resend", rx.url, dir]).done;
    assert.equal(second.code, 0, second.out);
    assert.deepEqual(JSON.parse(second.out.trim().split("\n").at(-1)), { exported: 3, failed: 0, pending: 0, dropped: 0 });
    assert.deepEqual(rx.spans().map((s) => s.name).sort(), ["exitnow-0", "exitnow-1", "exitnow-2"]);
    assert.deepEqual(readdirSync(join(dir, "outbox")), []);
  } finally {
    await rx.close();
  }
});
