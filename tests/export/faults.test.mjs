// Fault injection against a real OTLP receiver on 127.0.0.1: every span id arrives (at least
// once, ids stable for dedupe), none is lost, and flush() reports the truth.
import { test } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "../support/package.mjs";
import { closedPort, otlpReceiver } from "./receivers.mjs";

const { init, trace, flush } = await importPackage();

/** Records `n` one-span traces; returns their names. */
async function traces(n, prefix) {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  for (const name of names) await trace(async () => name, name)();
  return names;
}

function setup(rx, extra = {}) {
  init({ mode: "prod", exporter: "otlp", endpoint: rx.url ?? rx, storage: "memory", queue: { batchDelayMs: 0, timeoutMs: 500, ...extra } });
}

const received = (rx) => rx.spans().map((s) => s.name).sort();

for (const [label, answer] of [
  ["500", { status: 500, body: "internal" }],
  ["503", { status: 503 }],
  ["408", { status: 408 }],
  ["a dropped connection", "destroy"],
]) {
  test(`${label} twice, then accepted: retried, delivered once`, async () => {
    const rx = await otlpReceiver({ fault: (req, n) => (n < 2 ? answer : null) });
    try {
      setup(rx);
      const names = await traces(3, label);
      assert.deepEqual(await flush(), { exported: 3, failed: 0, pending: 0, dropped: 0 });
      assert.equal(rx.calls.length, 3, "two failures, then the retry that worked");
      assert.deepEqual(new Set(rx.calls.map((c) => c.body)).size, 1, "the same request each time (ids stable)");
      assert.deepEqual(received(rx), names.sort());
    } finally {
      await rx.close();
    }
  });
}

test("429 with Retry-After is honoured", async () => {
  const rx = await otlpReceiver({ fault: (req, n) => (n === 0 ? { status: 429, headers: { "retry-after": "1" } } : null) });
  try {
    setup(rx);
    await traces(1, "limited");
    assert.deepEqual(await flush(), { exported: 1, failed: 0, pending: 0, dropped: 0 });
    assert.equal(rx.calls.length, 2);
    const waited = rx.calls[1].at - rx.calls[0].at;
    assert.ok(waited >= 950, `waited ${waited} ms for Retry-After: 1`);
  } finally {
    await rx.close();
  }
});

test("400 is not retried: counted failed, with the reason", async (t) => {
  const warnings = [];
  t.mock.method(console, "warn", (...a) => warnings.push(a.join(" ")));
  const rx = await otlpReceiver({ fault: () => ({ status: 400, body: "bad request: no" }) });
  try {
    init({ mode: "dev", exporter: "otlp", endpoint: rx.url, storage: "memory", queue: { batchDelayMs: 0 } });
    await traces(2, "refused");
    assert.deepEqual(await flush(), { exported: 0, failed: 2, pending: 0, dropped: 0 });
    assert.equal(rx.calls.length, 1);
    assert.ok(warnings.some((w) => w.includes("answered 400: bad request: no")), warnings.join("\n"));
  } finally {
    await rx.close();
  }
});

test("a hung connection times out and is retried", async () => {
  const rx = await otlpReceiver({ fault: (req, n) => (n === 0 ? "hang" : null) });
  try {
    setup(rx, { timeoutMs: 300 });
    const names = await traces(2, "hung");
    assert.deepEqual(await flush(), { exported: 2, failed: 0, pending: 0, dropped: 0 });
    assert.equal(rx.calls.length, 2);
    assert.ok(rx.calls[1].at - rx.calls[0].at >= 300);
    assert.deepEqual(received(rx), names.sort());
  } finally {
    await rx.close();
  }
});

test("connection refused: pending, not exported, not failed; flush gives up at its timeout", async () => {
  setup(`http://127.0.0.1:${await closedPort()}/v1/traces`);
  await traces(2, "refused-conn");
  const started = Date.now();
  assert.deepEqual(await flush({ timeoutMs: 1500 }), { exported: 0, failed: 0, pending: 2, dropped: 0 });
  assert.ok(Date.now() - started < 5000);
});

test("a receiver that comes back after 10 s gets every span, once", async () => {
  const port = await closedPort();
  setup(`http://127.0.0.1:${port}/v1/traces`);
  const names = await traces(5, "outage");
  let rx;
  const back = new Promise((resolve) => setTimeout(async () => resolve((rx = await otlpReceiver({ port }))), 10_000));
  try {
    assert.deepEqual(await flush({ timeoutMs: 40_000 }), { exported: 5, failed: 0, pending: 0, dropped: 0 });
    await back;
    assert.deepEqual(received(rx), names.sort());
  } finally {
    await (await back).close();
  }
});
