// js/transport.js: the export transport (fetch) the wasm queue's requests go through. What it
// sends, what it reports back, and that nothing a fetch does (throw, reject, hang, resolve to
// junk) escapes as a throw or a rejection, or is logged. The real network paths (refused, reset,
// hung receivers, Retry-After, keepalive in Chromium) are in tests/export/ and tests/runtimes/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { retryAfterMs, send } from "../../js/transport.js";

const request = (over = {}) => ({
  url: "http://127.0.0.1:9/v1/traces",
  headers: [["content-type", "application/json"], ["authorization", "Bearer proj-secret-1"]],
  body: '{"token":"agsk_secret_token_123"}',
  timeoutMs: 2000,
  ...over,
});

/** Fails the test if the transport writes anything to the console. */
function silentConsole(t) {
  for (const m of ["log", "info", "warn", "error", "debug"]) t.mock.method(console, m, (...a) => assert.fail(`console.${m}: ${a.join(" ")}`));
}

test("POSTs the queue's request: url, headers in order, body, a timeout signal; keepalive when asked", async (t) => {
  silentConsole(t);
  const seen = [];
  const fetch = async (req, init) => {
    seen.push({ req, init, body: await req.text() });
    return new Response("ok", { status: 202 });
  };
  assert.deepEqual(await send(request(), { fetch }), { status: 202, retryAfterMs: -1, body: "ok", error: "" });
  assert.deepEqual(await send(request(), { fetch, keepalive: true }), { status: 202, retryAfterMs: -1, body: "ok", error: "" });
  const [plain, keep] = seen;
  assert.ok(plain.req instanceof Request);
  assert.equal(plain.req.method, "POST");
  assert.equal(plain.req.url, "http://127.0.0.1:9/v1/traces");
  assert.deepEqual([...plain.req.headers], [["authorization", "Bearer proj-secret-1"], ["content-type", "application/json"]]);
  assert.equal(plain.body, '{"token":"agsk_secret_token_123"}');
  assert.ok(plain.req.signal instanceof AbortSignal && !plain.req.signal.aborted);
  assert.equal(plain.init, undefined, "no second argument without keepalive");
  assert.deepEqual(keep.init, { keepalive: true });
});

test("the global fetch is read at each call, and called on globalThis", async (t) => {
  silentConsole(t);
  const original = globalThis.fetch;
  try {
    let self;
    globalThis.fetch = function () {
      self = this;
      return Promise.resolve(new Response("", { status: 200 }));
    };
    assert.equal((await send(request())).status, 200);
    assert.equal(self, globalThis);
    globalThis.fetch = async () => new Response("", { status: 503 });
    assert.equal((await send(request())).status, 503);
    delete globalThis.fetch;
    assert.deepEqual(await send(request()), { status: 0, retryAfterMs: -1, body: "", error: "no fetch in this runtime" });
  } finally {
    globalThis.fetch = original;
  }
});

test("never throws or rejects: whatever the fetch does is a network failure (status 0) with its reason", async (t) => {
  silentConsole(t);
  const cases = [
    ["throws synchronously", () => {
      throw new TypeError("boom");
    }, /^boom$/],
    ["rejects", () => Promise.reject(new Error("refused")), /^refused$/],
    ["rejects with a non-Error", () => Promise.reject("just text"), /^just text$/],
    ["rejects with undefined", () => Promise.reject(undefined), /^fetch failed$/],
    ["rejects with an error whose message getter throws", () => Promise.reject({ get message() { throw new Error("no"); } }), /^fetch failed$/],
    ["rejects with a cause (as Node's fetch does)", () => Promise.reject(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") })), /^fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:9\)$/],
    ["resolves to undefined", () => undefined, /not a Response/],
    ["resolves to a string", async () => "200 OK", /not a Response/],
    ["resolves to a plain object", async () => ({ status: 200 }), /not a Response/],
    ["resolves to an opaque response", async () => Response.error(), /status/],
    ["resolves to a status out of range", async () => ({ status: 1000, text: async () => "" }), /status \(1000\)/],
    ["an invalid url", async (req) => fetch(req), /Invalid URL|invalid/i, { url: "not a url" }],
  ];
  for (const [what, fetch, reason, over] of cases) {
    const answer = await send(request(over), { fetch });
    assert.equal(answer.status, 0, what);
    assert.equal(answer.retryAfterMs, -1, what);
    assert.equal(answer.body, "", what);
    assert.match(answer.error, reason, what);
  }
});

test("an answer that fails to read keeps its status; a response-like object (a polyfill's) is taken", async (t) => {
  silentConsole(t);
  const broken = { status: 500, headers: { get: () => { throw new Error("x"); } }, text: () => Promise.reject(new Error("reset")) };
  assert.deepEqual(await send(request(), { fetch: async () => broken }), { status: 500, retryAfterMs: -1, body: "", error: "" });
  const polyfill = { status: 429, headers: { get: (k) => (k === "retry-after" ? "3" : null) }, text: async () => "slow down" };
  assert.deepEqual(await send(request(), { fetch: async () => polyfill }), { status: 429, retryAfterMs: 3000, body: "slow down", error: "" });
});

test("Retry-After: delay-seconds or an HTTP date, in ms; -1 when absent or unreadable", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterMs("120", now), 120000);
  assert.equal(retryAfterMs(" 1.5 ", now), 1500);
  assert.equal(retryAfterMs("0", now), 0);
  assert.equal(retryAfterMs("-1", now), -1);
  assert.equal(retryAfterMs("Thu, 01 Jan 2026 00:00:30 GMT", now), 30000);
  assert.equal(retryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", now), 0, "a date in the past: now");
  assert.equal(retryAfterMs("soon", now), -1);
  assert.equal(retryAfterMs("", now), -1);
  assert.equal(retryAfterMs(undefined, now), -1);
  assert.equal(retryAfterMs(null, now), -1);
});

test("a real receiver: status, body and Retry-After come back; a hung one times out", async (t) => {
  silentConsole(t);
  const got = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ method: req.method, auth: req.headers.authorization, body });
      if (req.url === "/hang") return;
      res.writeHead(503, { "retry-after": "7" }).end("busy");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    assert.deepEqual(await send(request({ url: `${base}/v1/traces` })), { status: 503, retryAfterMs: 7000, body: "busy", error: "" });
    assert.deepEqual(got[0], { method: "POST", auth: "Bearer proj-secret-1", body: '{"token":"agsk_secret_token_123"}' });
    const started = Date.now();
    const hung = await send(request({ url: `${base}/hang`, timeoutMs: 300 }));
    assert.equal(hung.status, 0);
    assert.match(hung.error, /TimeoutError/);
    assert.ok(Date.now() - started >= 290 && Date.now() - started < 1500, `timed out after ${Date.now() - started} ms`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test("without AbortSignal.timeout: a controller and a timer do the same", async (t) => {
  silentConsole(t);
  const original = AbortSignal.timeout;
  try {
    AbortSignal.timeout = undefined;
    let signal;
    const fetch = (req) => {
      signal = req.signal;
      return new Promise((_, reject) => req.signal.addEventListener("abort", () => reject(req.signal.reason)));
    };
    const started = Date.now();
    const answer = await send(request({ timeoutMs: 200 }), { fetch });
    assert.equal(answer.status, 0);
    assert.match(answer.error, /^TimeoutError: /);
    assert.ok(signal.aborted);
    assert.ok(Date.now() - started >= 190);
  } finally {
    AbortSignal.timeout = original;
  }
});

test("a fetch that ignores its signal and never settles is given up shortly after the time limit", async (t) => {
  silentConsole(t);
  const started = Date.now();
  const answer = await send(request({ timeoutMs: 100 }), { fetch: () => new Promise(() => {}) });
  assert.equal(answer.status, 0);
  assert.match(answer.error, /no answer within 100 ms/);
  const took = Date.now() - started;
  assert.ok(took >= 1000 && took < 3000, `${took} ms`);
});

/** A server on 127.0.0.1 answering with `handler`; records each request. */
async function server(handler) {
  const got = [];
  const srv = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res);
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const close = async () => {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  };
  return { got, url: `http://127.0.0.1:${srv.address().port}`, close };
}

test("a redirect is never followed: nothing reaches the target, the answer is a 3xx that says where and what to do", async (t) => {
  silentConsole(t);
  const other = await server((req, res) => res.writeHead(200).end("took it"));
  let status = 0;
  const first = await server((req, res) => res.writeHead(status, { location: `${other.url}/v1/traces?sig=abc` }).end("moved"));
  try {
    for (status of [301, 302, 303, 307, 308]) {
      const answer = await send(request({ url: `${first.url}/v1/traces`, headers: [["x-api-key", "k-123456789"]] }));
      assert.deepEqual(answer, {
        status,
        retryAfterMs: -1,
        body: `the receiver answered a redirect to ${other.url}/v1/traces; set endpoint to the final URL`,
        error: "",
      }, `${status}`);
    }
    assert.equal(first.got.length, 5);
    assert.deepEqual(other.got, [], "the redirect target received nothing");
  } finally {
    await first.close();
    await other.close();
  }
});

test("the Request says redirect: manual; a browser's opaque redirect and a fetch that followed anyway are failures too", async (t) => {
  silentConsole(t);
  let seen;
  await send(request(), { fetch: async (req) => ((seen = req), new Response("", { status: 202 })) });
  assert.equal(seen.redirect, "manual");
  // What a browser gives for a manual redirect: no status, no location.
  const opaque = { type: "opaqueredirect", status: 0, url: "", redirected: false, headers: new Headers(), body: null, text: async () => "" };
  assert.deepEqual(await send(request(), { fetch: async () => opaque }), {
    status: 300,
    retryAfterMs: -1,
    body: "the receiver answered a redirect; set endpoint to the final URL",
    error: "",
  });
  // A fetch wrapper that ignored the mode and followed: not counted as delivered.
  const followed = { type: "basic", status: 200, url: "https://u:p@elsewhere.example/in?token=x", redirected: true, headers: new Headers(), body: null, text: async () => "" };
  assert.deepEqual(await send(request(), { fetch: async () => followed }), {
    status: 300,
    retryAfterMs: -1,
    body: 'the fetch followed a redirect to https://elsewhere.example/in (it ignored redirect: "manual"); set endpoint to the final URL',
    error: "",
  });
});

test("an answer's body is read up to MAX_ANSWER_BYTES, then the stream is cancelled (a huge answer is never read whole)", async (t) => {
  silentConsole(t);
  const { MAX_ANSWER_BYTES } = await import("../../js/transport.js");
  const TOTAL = 512 * 1024 * 1024; // what the receiver would send if it were read to the end
  const CHUNK = Buffer.alloc(64 * 1024, "a");
  let sent = 0;
  let cancelled;
  const closed = new Promise((r) => (cancelled = r));
  const rx = await server((req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": String(TOTAL) });
    // A bounded generator that respects backpressure and stops on its own.
    const pump = () => {
      while (sent < TOTAL && !res.destroyed) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return res.once("drain", pump);
      }
      if (sent >= TOTAL) res.end();
    };
    res.on("close", () => cancelled({ sent, finished: res.writableFinished }));
    pump();
  });
  try {
    const answer = await send(request({ url: `${rx.url}/v1/traces`, timeoutMs: 60000 }));
    assert.equal(answer.status, 200);
    assert.equal(answer.body, "a".repeat(MAX_ANSWER_BYTES));
    const end = await closed;
    assert.equal(end.finished, false, "the client went away before the body was sent whole");
    assert.ok(end.sent < TOTAL / 8, `the receiver got to send ${end.sent} of ${TOTAL} bytes`);
  } finally {
    await rx.close();
  }
});

test("a short answer is read whole, multi-byte characters intact; an answer cut at the bound keeps only whole characters", async (t) => {
  silentConsole(t);
  const { MAX_ANSWER_BYTES } = await import("../../js/transport.js");
  const json = JSON.stringify({ project_id: "proj-ü-😀" });
  assert.equal((await send(request(), { fetch: async () => new Response(json, { status: 200 }) })).body, json);
  const long = "é".repeat(MAX_ANSWER_BYTES); // 2 bytes each: the cut falls on a boundary
  const cut = (await send(request(), { fetch: async () => new Response("x" + long, { status: 500 }) })).body;
  assert.equal(cut, "x" + "é".repeat(MAX_ANSWER_BYTES / 2 - 1));
});
