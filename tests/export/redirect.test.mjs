// Redirects are never followed by the exporter: with the package as installed, a receiver that
// answers 301/302/303/307/308 pointing at a second real receiver. The second one must receive
// nothing (no body, no token, no x-api-key header), the spans count as failed (not exported,
// not retried), and the warning says where the redirect pointed and what to do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "../support/package.mjs";
import { agensightReceiver, otlpReceiver } from "./receivers.mjs";

const { init, trace, flush } = await importPackage();

const TOKEN = "tok-test-12345";

/** dev mode prints at most one export warning a second (js/core.js): the tests that read the
 * warning wait that long first. The exact reason for every status is in tests/js/transport. */
const WARNED = new Set([307, 302]);
const quiet = () => new Promise((r) => setTimeout(r, 1100));

async function traces(n, prefix) {
  for (let i = 0; i < n; i++) await trace(async () => i, `${prefix}-${i}`)();
}

for (const status of [301, 302, 303, 307, 308]) {
  test(`OTLP: a ${status} is a failed delivery, nothing follows it`, async (t) => {
    const warnings = [];
    t.mock.method(console, "warn", (...a) => warnings.push(a.join(" ")));
    const elsewhere = await otlpReceiver();
    const rx = await otlpReceiver({ fault: () => ({ status, headers: { location: elsewhere.url }, body: "moved" }) });
    try {
      if (WARNED.has(status)) await quiet();
      init({ mode: "dev", exporter: "otlp", endpoint: rx.url, storage: "memory", headers: { "x-api-key": "k-0123456789abcdef" }, queue: { batchDelayMs: 0 } });
      await traces(3, `r${status}`);
      assert.deepEqual(await flush({ timeoutMs: 5000 }), { exported: 0, failed: 3, pending: 0, dropped: 0 });
      assert.equal(rx.calls.length, 1, "sent once, not retried");
      assert.equal(rx.calls[0].headers["x-api-key"], "k-0123456789abcdef");
      assert.deepEqual(elsewhere.calls, [], "the redirect target received nothing");
      if (WARNED.has(status)) assert.ok(
        warnings.some((w) => w.includes(`${rx.url} answered ${status}: the receiver answered a redirect to ${elsewhere.url}; set endpoint to the final URL`)),
        warnings.join("\n"),
      );
    } finally {
      await rx.close();
      await elsewhere.close();
    }
  });

  test(`Agensight: a ${status} at the token validation: the token goes nowhere else, nothing counts as exported`, async (t) => {
    const warnings = [];
    t.mock.method(console, "warn", (...a) => warnings.push(a.join(" ")));
    const elsewhere = await agensightReceiver({ token: TOKEN });
    const rx = await agensightReceiver({ token: TOKEN, fault: (req) => ({ status, headers: { location: `${elsewhere.url}${req.url.replace(/^\/api/, "")}` } }) });
    try {
      if (WARNED.has(status)) await quiet();
      init({ mode: "dev", token: TOKEN, endpoint: rx.url, storage: "memory", queue: { batchDelayMs: 0 } });
      await traces(2, `a${status}`);
      assert.deepEqual(await flush({ timeoutMs: 5000 }), { exported: 0, failed: 2, pending: 0, dropped: 0 });
      assert.deepEqual(rx.calls.map((c) => c.path), ["/api/auth/validate"]);
      assert.deepEqual(elsewhere.calls, [], "the redirect target received nothing");
      if (WARNED.has(status)) assert.ok(
        warnings.some((w) => w.includes(`the receiver answered a redirect to ${elsewhere.url}/auth/validate; set endpoint to the final URL`)),
        warnings.join("\n"),
      );
    } finally {
      await rx.close();
      await elsewhere.close();
    }
  });
}

test("Agensight: a redirect on a record after a valid token: that record fails, the rest is delivered, the target gets nothing", async (t) => {
  t.mock.method(console, "warn", () => {});
  const elsewhere = await agensightReceiver({ token: TOKEN });
  const rx = await agensightReceiver({ token: TOKEN, fault: (req) => (req.url === "/api/logs/create/span" ? { status: 307, headers: { location: `${elsewhere.url}/logs/create/span` } } : null) });
  try {
    init({ mode: "prod", token: TOKEN, endpoint: rx.url, storage: "memory", queue: { batchDelayMs: 0 } });
    await traces(1, "rec");
    assert.deepEqual(await flush({ timeoutMs: 5000 }), { exported: 0, failed: 1, pending: 0, dropped: 0 });
    assert.deepEqual(elsewhere.calls, []);
    assert.ok(rx.records.some((r) => r.type === "trace"), "the trace record still went to the configured endpoint");
  } finally {
    await rx.close();
    await elsewhere.close();
  }
});
