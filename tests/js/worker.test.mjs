// Unit tests for js/worker.js (instrumentWorker) and js/propagation.js (W3C trace context),
// against a fake tracer, so the order of events is exact: the flush is handed to
// ctx.waitUntil only after the handler's own waitUntil promises settled. The same code over the
// real package runs in workerd in tests/runtimes/workerd.test.mjs. Nothing built is needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createInstrumentWorker } from "../../js/worker.js";
import { createPropagation, parseTraceparent } from "../../js/propagation.js";
import { stackContext } from "../../js/context.js";

const NOOP = 0xffffffff;

/** A stand-in for createAgensight(): records what happens, in order. */
function fakeApi() {
  const events = [];
  const context = stackContext();
  let next = 1;
  const begin = (name, { kind, args, remote } = {}) => {
    const h = next++;
    const parent = context.active();
    events.push(["begin", name, kind, JSON.stringify(args), remote ? `${remote.traceId}/${remote.spanId}` : null, parent]);
    return {
      handle: h,
      run: (fn) => context.run(h, fn),
      call: (fn, self, a) => context.run(h, () => fn.apply(self, a)),
      end: (v) => events.push(["end", name, JSON.stringify(v)]),
      fail: (e) => events.push(["fail", name, e.name, e.message]),
      traceparent: () => `00-${"a".repeat(32)}-${h.toString(16).padStart(16, "0")}-01`,
    };
  };
  const api = { internal: { begin, context, currentTraceparent: () => (context.active() && context.active() !== NOOP ? `00-${"a".repeat(32)}-${context.active().toString(16).padStart(16, "0")}-01` : undefined) } };
  const flush = async () => {
    events.push(["flush"]);
    return { exported: 0, failed: 0, pending: 0, dropped: 0 };
  };
  const { extract } = createPropagation(api);
  return { api, events, flush, extract, context };
}

/** A fake ExecutionContext; `settled()` waits for everything handed to waitUntil. */
function fakeCtx(events) {
  const promises = [];
  const ctx = {
    waitUntil(p) {
      if (this !== ctx) throw new TypeError("Illegal invocation");
      promises.push(p);
    },
    passThroughOnException() {
      if (this !== ctx) throw new TypeError("Illegal invocation");
      events.push(["passThroughOnException"]);
    },
  };
  return { ctx, promises, settled: async () => { for (let i = 0; i < promises.length; i++) await promises[i]; } };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("fetch: one span per request, continuing traceparent; flush after the handler's waitUntil work", async () => {
  const { api, events, flush, extract } = fakeApi();
  const instrumentWorker = createInstrumentWorker({ api, flush, extract });
  const handler = {
    greeting: "hi",
    async fetch(request, env, ctx) {
      ctx.passThroughOnException();
      ctx.waitUntil(sleep(20).then(() => events.push(["background done"])));
      await sleep(1);
      return new Response(`${this.greeting} ${env.NAME}`, { status: 201 });
    },
    tail() {},
  };
  const worker = instrumentWorker(handler);
  assert.equal(worker.tail, handler.tail, "other handlers are kept");
  assert.equal(worker.greeting, "hi");
  const { ctx, settled } = fakeCtx(events);
  const req = new Request("https://example.com/chat?x=1", { method: "POST", headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } });
  const res = await worker.fetch(req, { NAME: "env" }, ctx);
  assert.equal(await res.text(), "hi env");
  events.push(["response"]);
  await settled();
  assert.deepEqual(events, [
    ["begin", "POST /chat", "fetch", JSON.stringify([{ method: "POST", url: "https://example.com/chat?x=1" }]), "4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7", 0],
    ["passThroughOnException"],
    ["end", "POST /chat", '{"status":201}'],
    ["response"],
    ["background done"],
    ["flush"],
  ]);
});

test("fetch: waitUntil called again while waiting is awaited too; 5xx and throws are errors", async () => {
  const { api, events, flush, extract } = fakeApi();
  const worker = createInstrumentWorker({ api, flush, extract })({
    async fetch(request, env, ctx) {
      if (request.url.endsWith("/throw")) throw new RangeError("boom");
      ctx.waitUntil(
        sleep(5).then(() => {
          ctx.waitUntil(sleep(10).then(() => events.push(["second done"])));
          events.push(["first done"]);
        }),
      );
      return new Response("no", { status: 503, statusText: "Service Unavailable" });
    },
  });
  const a = fakeCtx(events);
  assert.equal((await worker.fetch(new Request("https://x.test/"), {}, a.ctx)).status, 503);
  await a.settled();
  assert.deepEqual(events.slice(1), [["fail", "GET /", "HTTPError", "503 Service Unavailable"], ["first done"], ["second done"], ["flush"]]);

  events.length = 0;
  const b = fakeCtx(events);
  await assert.rejects(worker.fetch(new Request("https://x.test/throw"), {}, b.ctx), RangeError);
  await b.settled();
  assert.deepEqual(events.slice(1), [["fail", "GET /throw", "RangeError", "boom"], ["flush"]]);
});

test("scheduled and queue handlers; an unsampled caller is respected; no ctx means waiting inline", async () => {
  const { api, events, flush, extract, context } = fakeApi();
  const worker = createInstrumentWorker({ api, flush, extract })(
    {
      scheduled: async (controller) => controller.cron,
      queue: async (batch) => batch.messages.length,
      fetch: () => context.active(),
    },
    { kind: "worker" },
  );
  const c = fakeCtx(events);
  await worker.scheduled({ cron: "*/5 * * * *", scheduledTime: 1700000000000 }, {}, c.ctx);
  await worker.queue({ queue: "jobs", messages: [{}, {}] }, {}, c.ctx);
  await c.settled();
  assert.deepEqual(events, [
    ["begin", "scheduled", "worker", JSON.stringify([{ cron: "*/5 * * * *", scheduledTime: 1700000000000 }]), null, 0],
    ["end", "scheduled", '"*/5 * * * *"'],
    ["flush"],
    ["begin", "queue jobs", "worker", JSON.stringify([{ queue: "jobs", messages: 2 }]), null, 0],
    ["end", "queue jobs", "2"],
    ["flush"],
  ]);
  events.length = 0;
  const unsampled = await worker.fetch(new Request("https://x.test/", { headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" } }), {}, c.ctx);
  assert.equal(unsampled, NOOP, "the handler runs with tracing off inside");
  assert.deepEqual(events, []);
  // Called directly, without a ctx: the flush is awaited before the result comes back.
  const r = await worker.scheduled({ cron: "x", scheduledTime: 0 }, {});
  assert.equal(r, "x");
  assert.deepEqual(events.map((e) => e[0]), ["begin", "end", "flush"]);
  assert.throws(() => createInstrumentWorker({ api, flush, extract })(null), /handler object/);
});

test("parseTraceparent follows the W3C rules", () => {
  const ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  assert.deepEqual(parseTraceparent(ok), { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: true, traceparent: ok });
  assert.equal(parseTraceparent(` ${ok} `)?.traceId, "4bf92f3577b34da6a3ce929d0e0e4736", "surrounding whitespace is ignored");
  assert.equal(parseTraceparent(ok.replace(/-01$/, "-00")).sampled, false);
  assert.equal(parseTraceparent(ok.replace(/-01$/, "-03")).sampled, true, "other flag bits do not matter");
  assert.equal(parseTraceparent(`01-${ok.slice(3)}-extra`)?.traceId, "4bf92f3577b34da6a3ce929d0e0e4736", "a later version may add fields");
  for (const bad of [
    undefined,
    "",
    `${ok}-extra`, // version 00 has exactly four fields
    ok.replace(/^00/, "ff"),
    ok.toUpperCase(),
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
  ]) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
});

test("inject and extract work on Headers, plain objects (any case), pairs and requests", () => {
  const { api, context } = fakeApi();
  const { inject, extract, bindContext } = createPropagation(api);
  assert.deepEqual(inject({ a: "1" }), { a: "1" }, "outside a span: unchanged");
  context.run(0x2a, () => {
    const tp = `00-${"a".repeat(32)}-000000000000002a-01`;
    assert.deepEqual(inject({ a: "1", TraceParent: "old" }), { a: "1", traceparent: tp });
    assert.equal(inject(new Headers({ traceparent: "old" })).get("traceparent"), tp);
    assert.deepEqual(inject([["Traceparent", "old"], ["x", "y"]]), [["x", "y"], ["traceparent", tp]]);
    const h = inject({});
    assert.equal(extract(h).spanId, "000000000000002a");
    assert.equal(extract(new Headers(h)).spanId, "000000000000002a");
    assert.equal(extract(new Request("https://x.test", { headers: h })).spanId, "000000000000002a");
    assert.equal(extract({ TRACEPARENT: [h.traceparent, "x"] }).spanId, "000000000000002a");
    assert.equal(extract(Object.entries(h)).spanId, "000000000000002a");
  });
  assert.equal(extract({}), undefined);
  assert.equal(extract(null), undefined);
  // bindContext carries the span active when it was called.
  const bound = context.run(7, () => bindContext(() => context.active()));
  assert.equal(context.active(), 0);
  assert.equal(bound(), 7);
});
