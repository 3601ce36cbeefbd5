// The export path under load and across init()s, with the installed package and real
// receivers on 127.0.0.1:
// - a flood of synchronous traces that lets the event loop turn every 100 traces (the overhead
//   benchmark's shape) to a receiver that answers 200 at once: every span id arrives exactly
//   once and flush() counts them all exported, none dropped (before, full batches waited for
//   the batch-delay timer and the queue's bounds dropped what piled up meanwhile);
// - a second init() while a request of the first is out: the answer that comes back later
//   (503) is not applied to the new core, so the first init()'s outbox copy of that job stays
//   (before, the new core called the unknown job finished and the copy was deleted: lost), and
//   the next init() with that outbox sends it and counts it once.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importPackage } from "../support/package.mjs";
import { otlpReceiver } from "../export/receivers.mjs";
import { parseOtlpRequest } from "../export/otlp-proto.mjs";

const { init, trace, span, flush, currentSpanId } = await importPackage();

const turn = () => new Promise((r) => setImmediate(r));
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

test("a flood of sync traces, the loop turning every 100, to a receiver answering 200: every span arrives once, none dropped", async (t) => {
  const rx = await otlpReceiver();
  t.after(() => rx.close());
  // 8 MiB of room (the outbox default; without one it is 1 MiB): the claim is that full
  // batches go while the loop runs, not how far a loaded machine lets the sender fall behind
  // (the receiver shares this process). The old exporter dropped over half with this room too.
  init({ name: "flood", mode: "prod", exporter: "otlp", endpoint: rx.url, storage: false, queue: { maxBytes: 8 << 20 } });
  const TRACES = 20_000;
  const ids = [];
  const leaf = span((q) => (ids.push(currentSpanId()), { q, a: "Sunny, 21 °C in Paris" }), "leaf");
  const root = trace((q) => {
    ids.push(currentSpanId());
    leaf(q);
    leaf(q);
    return "ok";
  }, "root");
  for (let i = 0; i < TRACES; i++) {
    root("What's the weather in Paris?");
    if (i % 100 === 99) await turn();
  }
  assert.deepEqual(await flush(), { exported: 3 * TRACES, failed: 0, pending: 0, dropped: 0 });
  const got = rx.spans().map((s) => s.spanId);
  assert.equal(got.length, 3 * TRACES, "each span once");
  assert.deepEqual(got.sort(), ids.sort());
});

/** An OTLP/JSON receiver whose first request is held until `release(status)`; later requests
 * are answered 200 and their spans kept. */
async function heldReceiver() {
  const spans = [];
  let held = null;
  let seen;
  const first = new Promise((r) => (seen = r));
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (n++ === 0) {
        held = res;
        return seen();
      }
      const body = parseOtlpRequest(Buffer.concat(chunks).toString("utf8"));
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1/traces`,
    spans,
    first,
    release: (status) =>
      new Promise((r) => {
        held.on("finish", r);
        held.writeHead(status, { "content-type": "text/plain" });
        held.end("busy");
      }),
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
}

const entries = (dir) => {
  try {
    return readdirSync(join(dir, "outbox")).filter((n) => n.endsWith(".json"));
  } catch (e) {
    if (e.code === "ENOENT") return []; // made at the first write
    throw e;
  }
};

test("a second init() while a request is out: its late answer leaves the first outbox's copy, the next init() with that outbox sends it, counted once", async (t) => {
  const rx = await heldReceiver();
  const dirs = [mkdtempSync(join(tmpdir(), "agensight-reinit-a-")), mkdtempSync(join(tmpdir(), "agensight-reinit-b-"))];
  t.after(async () => {
    await rx.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const options = (dir) => ({ name: "reinit", mode: "prod", exporter: "otlp", protocol: "http/json", endpoint: rx.url, dir, queue: { batchDelayMs: 10 } });

  init(options(dirs[0]));
  let first;
  trace(() => (first = currentSpanId()), "first")();
  const flushing = flush(1000); // sends the job; its request is held
  await rx.first;
  assert.equal(entries(dirs[0]).length, 1, "written to the outbox before its send");

  init(options(dirs[1])); // the first init()'s exporter stops; its request is still out
  await rx.release(503);
  await flushing;
  await pause(50); // the answer reaches the stopped exporter
  assert.equal(entries(dirs[0]).length, 1, "the job's outbox copy stays: it was not accepted");
  assert.deepEqual(await flush(), { exported: 0, failed: 0, pending: 0, dropped: 0 }, "the new core is told nothing of the old job");
  assert.deepEqual(entries(dirs[1]), []);

  init(options(dirs[0])); // takes the job back from the outbox
  assert.deepEqual(await flush(), { exported: 1, failed: 0, pending: 0, dropped: 0 });
  assert.deepEqual(rx.spans.map((s) => [s.name, s.spanId]), [["first", first]]);
  assert.deepEqual(entries(dirs[0]), []);
});
