// js/exporter.js alone: the export loop of one init() against a fake queue port (the shape
// js/bridge.js gives it), a fake transport, fake outboxes and an injected clock and timers, so
// every step of the state machine is reached without wasm, network or waiting: batch wake
// timers, retry waits, outbox put before the first send and delete after acceptance, restore
// before new jobs, the keepalive budget, warnings (dev throttled per second, prod once, per
// exporter), what flush() reports, and spilling past the resident bound (bodies out to the
// outbox, read back in order; a lost entry counted and warned once).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createExporter, KEEPALIVE_BYTES, OUTBOX_WAIT_MS, RESIDENT_BYTES } from "../../js/exporter.js";

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A clock and timers that move only when the test says so. */
function fakeClock(start = 1_000_000) {
  let t = start;
  const timers = new Set();
  return {
    now: () => t,
    timers: {
      set(fn, ms) {
        const timer = { at: t + Math.max(0, ms), fn };
        timers.add(timer);
        return timer;
      },
      clear: (timer) => timers.delete(timer),
    },
    /** Milliseconds until each armed timer, soonest first. */
    armed: () => [...timers].map((x) => x.at - t).sort((a, b) => a - b),
    /** Moves time forward by `ms`, firing every timer that comes due, in order. */
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        await settle();
        const due = [...timers].filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers.delete(due);
        t = due.at;
        due.fn();
      }
      t = end;
      await settle();
    },
  };
}

/**
 * A queue port with the bridge's shape and a small policy of its own: a job is due at `due`
 * (forced sends take it at once, unless it waits for a retry), a 200 finishes it, a 503 retries after Retry-After (or
 * 500 ms), a 400 fails it. Restored jobs go first. Every call is logged in `events`.
 * Spilling as src/export/queue/spill.rs does it: past `spillAt` bytes of bodies, the newest
 * jobs (not in flight, never the oldest) are named, evicted once written, read back oldest
 * first while they fit.
 */
function fakeQueue(clock, events) {
  let order = [];
  const jobs = new Map();
  let nextId = 1;
  let dropped = [];
  let warnings = [];
  const counts = { exported: 0, failed: 0, dropped: 0 };
  const open = (j) => !j.inflight && !j.spilled;
  let bound = null;
  const resident = () => [...jobs.values()].filter((j) => !j.spilled).reduce((n, j) => n + j.bytes, 0);
  const q = {
    add({ spans = 1, bytes = 10, delay = 1000, saved = false } = {}) {
      const id = nextId++;
      jobs.set(id, { id, spans, bytes, body: "x".repeat(bytes), due: clock.now() + delay, saved, inflight: false });
      order.push(id);
      return id;
    },
    drop(id) {
      jobs.delete(id);
      order = order.filter((x) => x !== id);
      dropped.push(id);
      counts.dropped++;
    },
    warn: (line) => warnings.push(line),
    next(now, force, maxBody) {
      // As the Rust queue: with a resident bound, bodies in flight count against it (one job
      // always may go).
      const busy = [...jobs.values()].filter((j) => j.inflight).reduce((n, j) => n + j.bytes, 0);
      const room = bound !== null && maxBody === undefined && busy > 0 ? bound - busy : Infinity;
      for (const id of order) {
        const j = jobs.get(id);
        // Forcing skips a batch's delay, never a retry's wait.
        if (open(j) && j.bytes <= room && ((force && !j.retry) || j.due <= now) && (maxBody === undefined || j.body.length <= maxBody)) {
          j.inflight = true;
          events.push(["next", id]);
          return id;
        }
      }
      return 0;
    },
    request: (id) => (jobs.has(id) ? { url: `http://receiver.test/${id}`, method: "POST", headers: [["content-type", "application/json"]], body: jobs.get(id).body, timeoutMs: 1000 } : null),
    bodyBytes: (id) => jobs.get(id)?.body.length ?? 0,
    done(id, status, retryAfterMs, body, error, now) {
      events.push(["done", id, status]);
      const j = jobs.get(id);
      j.inflight = false;
      if (status === 503) {
        j.due = now + (retryAfterMs >= 0 ? retryAfterMs : 500);
        j.retry = true;
        warnings.push(`job ${id}: 503, retrying`);
        return false;
      }
      jobs.delete(id);
      order = order.filter((x) => x !== id);
      if (status === 200) counts.exported += j.spans;
      else counts.failed += j.spans;
      return true;
    },
    persist(id) {
      const j = jobs.get(id);
      if (!j || j.saved) return "";
      j.saved = true;
      return JSON.stringify({ ours: true, spans: j.spans, body: j.body });
    },
    restore(text) {
      events.push(["restore", text]);
      const o = JSON.parse(text);
      if (!o.ours) return false;
      const id = nextId++;
      jobs.set(id, { id, spans: o.spans, bytes: o.body.length, body: o.body, due: clock.now(), saved: true, inflight: false });
      order.unshift(id);
      return true;
    },
    unsaved: () => order.filter((id) => !jobs.get(id).saved),
    poll(now) {
      const news = { dropped, warnings, wake: -1, load: [] };
      if (bound !== null) {
        let room = resident();
        let any = [...jobs.values()].some((j) => !j.spilled);
        for (const id of order) {
          const j = jobs.get(id);
          if (!j.spilled) continue;
          if (!j.loading) {
            if (any && room + j.bytes > bound) break;
            j.loading = true;
            news.load.push(id);
          }
          room += j.bytes;
          any = true;
        }
      }
      dropped = [];
      warnings = [];
      for (const j of jobs.values()) if (open(j)) news.wake = news.wake < 0 ? Math.max(0, j.due - now) : Math.min(news.wake, Math.max(0, j.due - now));
      if (news.load.length) news.wake = 0;
      return news;
    },
    spillAt(bytes) {
      events.push(["spillAt", bytes]);
      bound = bytes;
    },
    spill() {
      if (bound === null) return [];
      let room = resident();
      const first = order.find((id) => !jobs.get(id).spilled);
      const named = [];
      for (const id of [...order].reverse()) {
        if (room <= bound) break;
        const j = jobs.get(id);
        if (j.spilled || j.inflight || id === first) continue;
        room -= j.bytes;
        if (!j.spilling) {
          j.spilling = true;
          named.push(id);
        }
      }
      return named;
    },
    evict(id) {
      const j = jobs.get(id);
      const ok = Boolean(j?.spilling && j.saved && !j.inflight);
      if (j) j.spilling = false;
      if (ok) {
        j.spilled = true;
        j.body = null;
        events.push(["evict", id]);
      }
      return ok;
    },
    reload(id, text) {
      events.push(["reload", id]);
      const j = jobs.get(id);
      if (!j?.spilled) return true;
      let o = null;
      try {
        o = JSON.parse(text);
      } catch {}
      if (!o?.ours || o.spans !== j.spans) {
        jobs.delete(id);
        order = order.filter((x) => x !== id);
        dropped.push(id);
        counts.failed += j.spans;
        return false;
      }
      Object.assign(j, { body: o.body, spilled: false, loading: false });
      return true;
    },
    resident,
    stats() {
      let pending = 0;
      for (const j of jobs.values()) pending += j.spans;
      return { ...counts, pending };
    },
  };
  return q;
}

/** A transport whose answers the test gives: `answer(id)` (default 200), or held (`hold`). */
function fakeSend(events, answer = () => 200) {
  const held = [];
  const send = (request, options) => {
    const id = Number(request.url.split("/").pop());
    events.push(["send", id, options.keepalive]);
    const status = answer(id);
    if (status === "hold") return new Promise((resolve) => held.push((s, retry = -1) => resolve({ status: s, retryAfterMs: retry, body: "", error: "" })));
    const [code, retry] = Array.isArray(status) ? status : [status, -1];
    return Promise.resolve({ status: code, retryAfterMs: retry, body: "", error: "" });
  };
  return { send, held };
}

/** An outbox that logs; `async`: each call returns a Promise the test settles (`release`). */
function fakeOutbox(events, { entries = [], async = false } = {}) {
  const waiting = [];
  const later = (value) => (async ? new Promise((resolve) => waiting.push(() => resolve(value))) : value);
  return {
    entries: new Map(entries.map((e) => [e.id, e.text])),
    list() {
      events.push(["list"]);
      return later([...this.entries].map(([id, text]) => ({ id, text })));
    },
    put(id, text) {
      events.push(["put", id]);
      this.entries.set(id, text);
      return later(undefined);
    },
    delete(id) {
      events.push(["delete", id]);
      this.entries.delete(id);
      return later(undefined);
    },
    get(id) {
      events.push(["get", id]);
      return later(this.entries.get(id) ?? null);
    },
    release() {
      for (const f of waiting.splice(0)) f();
    },
  };
}

function setup({ mode = "prod", answer, outbox = null, outboxOptions, jobs = [], saveEarly = false, keepalive, residentBytes } = {}) {
  const clock = fakeClock();
  const events = [];
  const warned = [];
  const queue = fakeQueue(clock, events);
  const ids = jobs.map((j) => queue.add(j));
  const transport = fakeSend(events, answer);
  const box = outbox ?? (outboxOptions ? fakeOutbox(events, outboxOptions) : null);
  const exporter = createExporter({ queue, outbox: box, mode, now: clock.now, warn: (...a) => warned.push(a.join(" ")), send: transport.send, timers: clock.timers, saveEarly, keepalive, residentBytes });
  return { clock, events, warned, queue, ids, transport, outbox: box, exporter };
}

const sends = (events) => events.filter((e) => e[0] === "send").map((e) => e[1]);

test("a batch is sent when its wake time comes, not before; emitted() arms the timer", async () => {
  const { clock, events, queue, exporter } = setup({ jobs: [{ delay: 1000 }] });
  assert.deepEqual(clock.armed(), [1000], "a timer for the batch's due time");
  await clock.advance(999);
  assert.deepEqual(sends(events), []);
  await clock.advance(1);
  assert.deepEqual(sends(events), [1]);
  assert.deepEqual(clock.armed(), [], "nothing left: no timer");

  // A new trace after the queue went quiet: emitted() arms the timer again.
  queue.add({ delay: 250 });
  exporter.emitted();
  assert.deepEqual(clock.armed(), [250]);
  await clock.advance(250);
  assert.deepEqual(sends(events), [1, 2]);
  assert.deepEqual(queue.stats(), { exported: 2, failed: 0, dropped: 0, pending: 0 });
});

test("a retried request waits for Retry-After, then goes again; 200 finishes it", async () => {
  let tries = 0;
  const { clock, events, warned, exporter } = setup({ jobs: [{ delay: 0 }], answer: () => (++tries === 1 ? [503, 2000] : 200) });
  await clock.advance(0);
  assert.deepEqual(sends(events), [1]);
  assert.deepEqual(clock.armed(), [2000], "the retry's wait");
  await clock.advance(1999);
  assert.deepEqual(sends(events), [1]);
  await clock.advance(1);
  assert.deepEqual(sends(events), [1, 1]);
  assert.deepEqual(events.filter((e) => e[0] === "done").map((e) => e[2]), [503, 200]);
  assert.equal(warned.length, 1);
  exporter.stop();
});

test("outbox: a job is put before its first send and deleted only once accepted", async () => {
  const { clock, events, outbox } = setup({ jobs: [{ delay: 0 }, { delay: 0 }], outboxOptions: {}, answer: (id) => (id === 1 ? 200 : [503, 5000]) });
  await clock.advance(0);
  const of = (id) => events.filter((e) => e[1] === id && e[0] !== "next").map((e) => e.slice(0, e[0] === "done" ? 3 : 2).join(" "));
  assert.deepEqual(of(1), ["put 1", "send 1", "done 1 200", "delete 1"]);
  assert.deepEqual(of(2), ["put 2", "send 2", "done 2 503"], "a job to retry stays in the outbox");
  assert.deepEqual([...outbox.entries.keys()], [2]);
  // The retry does not write it again.
  await clock.advance(5000);
  assert.deepEqual(of(2).filter((e) => e === "put 2"), ["put 2"]);
});

test("outbox (asynchronous): the send waits for the job's put to settle", async () => {
  const { clock, events, outbox } = setup({ jobs: [{ delay: 0 }], outboxOptions: { async: true } });
  outbox.release(); // the list() of the restore
  await clock.advance(0);
  assert.deepEqual(events.filter((e) => e[0] !== "list" && e[0] !== "spillAt").map((e) => e[0]), ["next", "put"], "no send before the put is written");
  outbox.release();
  await settle();
  assert.deepEqual(events.filter((e) => e[0] !== "list" && e[0] !== "spillAt").map((e) => e[0]), ["next", "put", "send", "done", "delete"]);
});

test("restore: an asynchronous outbox is read into the queue before any new job is taken; entries the queue refuses are deleted", async () => {
  const saved = JSON.stringify({ ours: true, spans: 3, body: "old" });
  const foreign = JSON.stringify({ ours: false });
  const { clock, events, outbox, exporter } = setup({ jobs: [{ delay: 0 }], outboxOptions: { async: true, entries: [{ id: 41, text: saved }, { id: 42, text: foreign }] } });
  const flushed = exporter.flush(10_000);
  await clock.advance(0);
  assert.equal(events.some((e) => e[0] === "next"), false, "nothing is sent while the outbox is being read");
  outbox.release();
  await settle();
  outbox.release(); // the delete of the foreign entry, the put of the new job
  await clock.advance(0);
  outbox.release();
  await clock.advance(0);
  outbox.release();
  const result = await flushed;
  const order = events.filter((e) => e[0] === "restore" || e[0] === "next").map((e) => (e[0] === "restore" ? "restore" : `next ${e[1]}`));
  assert.deepEqual(order, ["restore", "restore", "next 2", "next 1"], "both entries restored first, the restored job (id 2) sent first");
  assert.ok(events.some((e) => e[0] === "delete" && e[1] === 42), "the foreign entry is deleted");
  assert.deepEqual(result, { exported: 4, failed: 0, dropped: 0, pending: 0 });
});

test("an outbox that never answers holds nothing up longer than OUTBOX_WAIT_MS", async () => {
  const { clock, events, exporter } = setup({ jobs: [{ delay: 0 }], outboxOptions: { async: true } });
  const flushed = exporter.flush(60_000);
  await clock.advance(OUTBOX_WAIT_MS - 1);
  assert.deepEqual(sends(events), []);
  await clock.advance(OUTBOX_WAIT_MS + 1); // the list, then the put
  assert.deepEqual(sends(events), [1]);
  // The delete after acceptance is waited for as long, no longer.
  let result;
  flushed.then((r) => (result = r));
  await clock.advance(OUTBOX_WAIT_MS - 1);
  assert.equal(result, undefined);
  await clock.advance(1);
  assert.deepEqual(result, { exported: 1, failed: 0, dropped: 0, pending: 0 });
});

test("keepalive at exit: only bodies that fit the 64 KiB budget in flight go; the rest is written to the outbox", async () => {
  const kb = 1024;
  const keepalive = { inFlight: 0 };
  const { clock, events, exporter, transport, outbox } = setup({
    jobs: [{ bytes: 40 * kb }, { bytes: 30 * kb }, { bytes: 20 * kb }, { bytes: 4 * kb + 1 }],
    outboxOptions: {},
    answer: () => "hold",
    keepalive,
  });
  exporter.exit(true);
  assert.deepEqual(events.filter((e) => e[0] === "send"), [["send", 1, true], ["send", 3, true]], "40 KiB, then 20 KiB: 30 KiB and 4 KiB + 1 do not fit the 64 KiB");
  assert.equal(keepalive.inFlight, 60 * kb);
  assert.equal(KEEPALIVE_BYTES, 64 * kb);
  assert.deepEqual([...outbox.entries.keys()].sort(), [1, 2, 3, 4], "sent or not, every job is in the outbox");
  // An answer gives its bytes back; the (only hidden) page sends the rest the usual way.
  transport.held[0](200);
  await clock.advance(0);
  assert.equal(keepalive.inFlight, 20 * kb);
  assert.equal(outbox.entries.has(1), false);
  await clock.advance(1000); // their batch's due time
  assert.deepEqual(events.filter((e) => e[0] === "send").slice(2).map((e) => e[2]), [false, false], "the rest without keepalive");
});

test("exit without sending (a process exiting): every job goes to the outbox, nothing is sent", () => {
  const { events, exporter, outbox } = setup({ jobs: [{}, {}], outboxOptions: {} });
  exporter.exit(false);
  assert.deepEqual(sends(events), []);
  assert.deepEqual([...outbox.entries.keys()], [1, 2]);
});

test("dev: export warnings at most one a second, saying how many were held back", async () => {
  const { clock, queue, warned, exporter } = setup({ mode: "dev" });
  for (const w of ["a", "b", "c"]) queue.warn(w);
  exporter.emitted();
  assert.deepEqual(warned, ["agensight: a"]);
  await clock.advance(999);
  queue.warn("d");
  exporter.emitted();
  assert.deepEqual(warned, ["agensight: a"]);
  await clock.advance(1);
  queue.warn("e");
  exporter.emitted();
  assert.deepEqual(warned, ["agensight: a", "agensight: e (3 more export warnings in the last seconds not shown)"]);
});

test("prod: the first export warning only, once per exporter (a new init() warns again)", async () => {
  const { clock, queue, warned, exporter } = setup({ mode: "prod" });
  queue.warn("down");
  exporter.emitted();
  await clock.advance(60_000);
  queue.warn("still down");
  exporter.emitted();
  assert.equal(warned.length, 1);
  assert.match(warned[0], /^agensight: export failing: down \(later export warnings are silent in prod/);
  exporter.stop();
  // The next init()'s exporter: its own first warning is shown.
  const again = setup({ mode: "prod" });
  again.queue.warn("down again");
  again.exporter.emitted();
  assert.equal(again.warned.length, 1);
});

test("an outbox that throws is told once, and export goes on", async () => {
  const events = [];
  const broken = { list: () => [], put: () => { events.push(["put"]); throw new Error("disk full"); }, delete: () => {} };
  const { clock, warned, exporter } = setup({ jobs: [{ delay: 0 }, { delay: 0 }], outbox: broken });
  await clock.advance(0);
  assert.equal(events.length, 2);
  assert.equal(warned.length, 1);
  assert.match(warned[0], /outbox failed.*disk full/);
  assert.deepEqual(await exporter.flush(), { exported: 2, failed: 0, dropped: 0, pending: 0 });
});

test("dropped jobs lose their outbox copy", async () => {
  const { clock, queue, exporter, outbox, events } = setup({ jobs: [{ delay: 5000 }], outboxOptions: {} });
  exporter.exit(false); // written to the outbox
  queue.drop(1);
  exporter.emitted();
  await clock.advance(5000); // the next round

  assert.deepEqual(events.filter((e) => e[0] === "delete"), [["delete", 1]]);
  assert.equal(outbox.entries.size, 0);
});

test("flush(): retries until accepted within the deadline, or reports what is still pending at it", async () => {
  let tries = 0;
  const ok = setup({ jobs: [{ spans: 2, delay: 1000 }], answer: () => (++tries < 3 ? [503, 1000] : 200) });
  const flushed = ok.exporter.flush(30_000);
  await ok.clock.advance(2000);
  assert.deepEqual(await flushed, { exported: 2, failed: 0, dropped: 0, pending: 0 });
  assert.deepEqual(sends(ok.events), [1, 1, 1], "forced at once, then each retry");

  const down = setup({ jobs: [{ spans: 5 }, { spans: 1 }], answer: (id) => (id === 1 ? [503, 1000] : 400) });
  let result;
  down.exporter.flush(3500).then((r) => (result = r));
  await down.clock.advance(3499);
  assert.equal(result, undefined, "still waiting for the retry");
  await down.clock.advance(1);
  assert.deepEqual(result, { exported: 0, failed: 1, dropped: 0, pending: 5 });
  assert.deepEqual(down.clock.armed(), [500], "flush left no timer of its own: only the background one for the retry at 4 s");
});

test("saveEarly: traces ending in one task are written to the outbox in a microtask, before their batch is due", async () => {
  const { queue, exporter, events } = setup({ saveEarly: true, outboxOptions: {} });
  queue.add({ delay: 1000 });
  exporter.emitted();
  queue.add({ delay: 1000 });
  exporter.emitted();
  assert.deepEqual(events.filter((e) => e[0] === "put"), []);
  await Promise.resolve();
  assert.deepEqual(events.filter((e) => e[0] === "put"), [["put", 1], ["put", 2]]);
  assert.deepEqual(sends(events), []);
});

test("after stop(): no timer, no send", async () => {
  const { clock, events, exporter } = setup({ jobs: [{ delay: 100 }] });
  exporter.stop();
  await clock.advance(1000);
  assert.deepEqual(sends(events), []);
  assert.deepEqual(clock.armed(), []);
});

test("spill: past the resident bound jobs go to the outbox and leave memory; read back in order, sent once each", async () => {
  const jobs = Array.from({ length: 6 }, () => ({ bytes: 100, delay: 0 }));
  let down = true;
  const { clock, events, queue, exporter, outbox } = setup({ jobs, outboxOptions: {}, residentBytes: 250, answer: () => (down ? [503, 1000] : 200) });
  assert.deepEqual(events[0], ["spillAt", 250], "an outbox that can read a job back: spilling on");
  exporter.emitted(true); // the core said a batch's worth waits
  assert.deepEqual(events.filter((e) => e[0] === "evict").map((e) => e[1]), [6, 5, 4, 3], "the newest first, until the rest fits");
  assert.deepEqual([...outbox.entries.keys()].sort(), [3, 4, 5, 6], "each written before it left memory");
  assert.equal(queue.resident(), 200);

  // Down: the two in memory are tried and retried; the spilled ones wait in the outbox.
  await clock.advance(0);
  await clock.advance(3000);
  assert.deepEqual([...new Set(sends(events))], [1, 2]);
  assert.ok(queue.resident() <= 250);
  down = false;
  const flushing = exporter.flush(60_000);
  await clock.advance(10_000);
  assert.deepEqual(await flushing, { exported: 6, failed: 0, dropped: 0, pending: 0 });
  const firstSends = [];
  for (const id of sends(events)) if (!firstSends.includes(id)) firstSends.push(id);
  assert.deepEqual(firstSends, [1, 2, 3, 4, 5, 6], "in the order the traces ended");
  const accepted = events.filter((e) => e[0] === "done" && e[2] === 200).map((e) => e[1]);
  assert.deepEqual(accepted.sort(), [1, 2, 3, 4, 5, 6], "each accepted once");
  assert.deepEqual(events.filter((e) => e[0] === "get").map((e) => e[1]), [3, 4, 5, 6], "read back oldest first");
  assert.equal(outbox.entries.size, 0);
});

test("spill (asynchronous outbox): a body leaves memory only once its put is committed; flush() waits for a read back", async () => {
  const jobs = Array.from({ length: 3 }, () => ({ bytes: 100, delay: 0 }));
  const { clock, events, queue, exporter, outbox } = setup({ jobs, outboxOptions: { async: true }, residentBytes: 100 });
  outbox.release(); // the restore's list()
  await settle();
  exporter.emitted(true);
  assert.deepEqual(events.filter((e) => e[0] === "put").map((e) => e[1]), [3, 2]);
  assert.deepEqual(events.filter((e) => e[0] === "evict"), [], "not before the puts are committed");
  outbox.release();
  await settle();
  await settle();
  assert.deepEqual(events.filter((e) => e[0] === "evict").map((e) => e[1]), [3, 2]);
  assert.equal(queue.resident(), 100);
  const flushing = exporter.flush(60_000);
  for (let i = 0; i < 20; i++) {
    outbox.release();
    await clock.advance(0);
  }
  assert.deepEqual(await flushing, { exported: 3, failed: 0, dropped: 0, pending: 0 });
  assert.deepEqual(sends(events), [1, 2, 3]);
});

test("spill: an entry removed or corrupted before it is read back is counted failed, warned once, and the rest goes", async () => {
  const jobs = Array.from({ length: 4 }, () => ({ bytes: 100, delay: 0, spans: 2 }));
  const { clock, events, warned, exporter, outbox } = setup({ jobs, outboxOptions: {}, residentBytes: 100 });
  exporter.emitted(true);
  assert.deepEqual([...outbox.entries.keys()].sort(), [2, 3, 4]);
  outbox.entries.delete(2);
  outbox.entries.set(3, "{torn");
  const flushing = exporter.flush(60_000);
  await clock.advance(1000);
  assert.deepEqual(await flushing, { exported: 4, failed: 4, dropped: 0, pending: 0 }, "two lost jobs of two spans");
  const lost = warned.filter((w) => /could not be read back/.test(w));
  assert.equal(lost.length, 1, `once: ${warned.join(" | ")}`);
  assert.deepEqual(sends(events), [1, 4]);
  assert.equal(outbox.entries.size, 0, "the torn entry is deleted too");
});

test("spill: no outbox, or one that cannot read a job back: nothing spills (the queue's bounds drop and count)", () => {
  const a = setup({ jobs: [{ bytes: 100 }] });
  const b = setup({ jobs: [{ bytes: 100 }], outbox: { list: () => [], put() {}, delete() {} } });
  for (const { events, exporter } of [a, b]) {
    exporter.emitted(true);
    assert.deepEqual(events.filter((e) => e[0] === "spillAt" || e[0] === "evict"), []);
    exporter.stop();
  }
  assert.equal(RESIDENT_BYTES, 512 * 1024);
});

test("a batch full by size goes at once: emitted(true) does not wait for the timer armed for the batch delay", async () => {
  const { clock, events, queue, exporter } = setup({ jobs: [{ delay: 1000 }] });
  assert.deepEqual(clock.armed(), [1000]);
  queue.add({ delay: 0 }); // the core made a full batch into a job, due now
  exporter.emitted(true);
  await settle();
  assert.deepEqual(sends(events), [2], "sent before the timer fired");
  await clock.advance(1000);
  assert.deepEqual(sends(events), [2, 1]);
});

test("stopped while a request is out (a new init()): its answer is not given to the queue and its outbox copy stays", async () => {
  const { events, transport, exporter, outbox } = setup({ jobs: [{ delay: 0 }], outboxOptions: {}, answer: () => "hold" });
  const flushing = exporter.flush(1000);
  await settle();
  assert.deepEqual(sends(events), [1]);
  assert.ok(outbox.entries.has(1), "written before its send");
  exporter.stop();
  transport.held[0](200);
  await flushing;
  await settle();
  assert.deepEqual(events.filter((e) => e[0] === "done" || e[0] === "delete" || e[0] === "next").map((e) => e[0]), ["next"], "no answer given, no delete, nothing else sent");
  assert.ok(outbox.entries.has(1));
});
