// The export loop of one init() (modes dev and prod): it moves the requests of the export
// queue (in Rust, behind the bridge's queue port) to js/transport.js and the answers back,
// keeps the durable outbox in step (a job is put there before its first send and deleted once
// it is finished), restores what an earlier process or page left there before anything new
// goes, spends the page's keepalive budget when the page is left, and reports export failures.
// Everything it remembers (timers, warnings given, outbox writes under way) belongs to this
// init(): core.js makes a new exporter for every init() and stops the old one.
//
// It never throws into the app and never calls the wasm itself: only the queue port.

import { send as transportSend } from "./transport.js";

/** Bytes of request bodies that `keepalive` requests may have in flight (the Fetch spec's
 * limit, per page): what a page being left may send. */
export const KEEPALIVE_BYTES = 64 * 1024;
/** How long an asynchronous outbox (IndexedDB) operation is waited for before the export goes
 * on without it (a database blocked by another tab never stops exporting). */
export const OUTBOX_WAIT_MS = 5000;
/** Export request-body bytes kept in memory when there is an outbox that can read a job
 * back (`get`): the backlog past it waits there, bodies out of memory (the queue keeps each
 * job's id, size, times and span count), and is read back in order as room frees up. */
export const RESIDENT_BYTES = 512 * 1024;

const isPromise = (v) => v !== null && typeof v === "object" && typeof v.then === "function";

/**
 * @typedef {object} QueuePort the export queue (js/bridge.js); never throws
 * @property {(now: number, force: boolean, maxBody?: number) => number} next
 * @property {(id: number) => ({url: string, method: string, headers: [string, string][], body: string|Uint8Array, timeoutMs?: number} | null)} request
 * @property {(id: number) => number} bodyBytes
 * @property {(id: number, status: number, retryAfterMs: number, body: string, error: string, now: number) => boolean} done
 * @property {(id: number) => string} persist
 * @property {(text: string) => boolean} restore
 * @property {(now: number) => number[]} unsaved
 * @property {(now: number) => {dropped: number[], warnings: string[], wake: number, load?: number[]}} poll `load`: spilled jobs to read back
 * @property {() => {exported: number, failed: number, pending: number, dropped: number}} stats
 * @property {(bytes: number) => void} spillAt
 * @property {(now: number) => number[]} spill
 * @property {(id: number) => boolean} evict
 * @property {(id: number, text: string) => boolean} reload
 *
 * @typedef {object} Outbox durable job storage; each method may return a Promise
 * @property {() => ({id: number, text: string}[] | Promise<{id: number, text: string}[]>)} list
 * @property {(id: number, text: string) => (void | Promise<void>)} put
 * @property {(id: number) => (void | Promise<void>)} delete
 * @property {(id: number) => (string | null | Promise<string | null>)} [get] one entry's text
 *   (null: none); without it the backlog is not spilled
 */

/**
 * Starts the export loop of one init(): restores the outbox and arms the first timer.
 * @param {object} p
 * @param {QueuePort} p.queue
 * @param {Outbox|null} [p.outbox] null: the queue lives in memory only
 * @param {"dev"|"prod"} p.mode dev prints every failure (at most one a second), prod the first
 * @param {() => number} p.now
 * @param {(...args: any[]) => void} p.warn
 * @param {Function} [p.fetch] the `fetch` init() option (undefined: the global one)
 * @param {boolean} [p.saveEarly] write finished traces to the outbox as they end (browsers)
 * @param {{inFlight: number}} [p.keepalive] the page's keepalive budget in use, shared by the
 *   exporters of successive init()s (their requests share one page)
 * @param {typeof transportSend} [p.send] the transport (tests pass a fake)
 * @param {{set(fn: () => void, ms: number): any, clear(t: any): void}} [p.timers]
 * @param {number} [p.residentBytes] request-body bytes kept in memory with an outbox
 */
export function createExporter({ queue, outbox = null, mode, now, warn, fetch, saveEarly = false, keepalive = { inFlight: 0 }, send = transportSend, timers = defaultTimers, residentBytes = RESIDENT_BYTES }) {
  let stopped = false;
  let pumping = null;
  let timer = null;
  let exitSent = false;
  let restoring = null;
  let saveScheduled = false;
  const saving = new Map(); // job id -> Promise of its outbox put (true: written), under way
  const loads = new Set(); // reads of spilled jobs under way (an asynchronous outbox)
  const warnings = createWarnings({ mode, now, warn });
  const store = outbox ? createOutboxCalls(outbox, warnings.outboxFailed, timers) : null;
  const spills = store !== null && typeof outbox.get === "function";
  if (spills) queue.spillAt(residentBytes);

  /** What an earlier process or page left goes back into the queue (ids kept, so receivers
   * can dedupe); entries the queue does not take (another exporter's, torn) are deleted. */
  function restoreEntries(entries) {
    if (stopped) return;
    for (const entry of entries ?? []) {
      const text = entry.text; // read here: the file outbox reads each entry when asked
      if (text === null || text === undefined) continue; // unreadable now: left for later
      if (!queue.restore(text)) store.call("delete", entry.id);
      else spill(); // a large outbox is not all brought into memory
    }
  }

  function restore() {
    if (!store) return;
    let listed;
    try {
      listed = outbox.list();
    } catch (e) {
      return warnings.outboxFailed(e);
    }
    if (!isPromise(listed)) return restoreEntries(listed);
    // Asynchronous (IndexedDB): read after init() returns; every pump waits for it, so the
    // restored jobs still go before new ones.
    restoring = store.bounded(Promise.resolve(listed).then(restoreEntries, warnings.outboxFailed)).then(() => {
      restoring = null;
      schedule();
    });
  }

  /** Deletes the outbox copies of dropped jobs, shows the warnings, reads back the spilled
   * jobs the queue has room for; returns the wake time. */
  function absorb(news) {
    if (store) for (const id of news.dropped) store.call("delete", id);
    for (const line of news.warnings) warnings.export(line);
    if (news.load?.length) load(news.load);
    return news.wake;
  }

  /** Writes the jobs past the resident bound to the outbox (those already there as they are
   * are not written again) and drops their bodies from memory once written; a job whose write
   * failed stays in memory (the queue's bounds still hold, the failure was said once). */
  function spill() {
    if (stopped) return;
    // Without an outbox too: the waiting traces due by size become jobs (no ids come back).
    const named = queue.spill(now());
    if (!spills) return;
    for (const id of named) {
      const text = queue.persist(id);
      const written = text ? store.tried("put", id, text) : saving.get(id) ?? true;
      if (written === true) queue.evict(id);
      else if (written) written.then((ok) => ok && !stopped && queue.evict(id));
    }
  }

  /** Reads spilled jobs back (the queue names them oldest first and keeps their order). One
   * whose entry is gone or unreadable is counted failed by the queue and said once; a read
   * that takes longer than OUTBOX_WAIT_MS is not waited for (the job stays pending). */
  function load(ids) {
    for (const id of ids) {
      let got;
      try {
        got = outbox.get(id);
      } catch {
        got = null;
      }
      if (!isPromise(got)) {
        reloaded(id, got);
        continue;
      }
      const read = Promise.resolve(got).then((text) => reloaded(id, text), () => reloaded(id, null));
      const waited = store.bounded(read).then(() => {
        loads.delete(waited);
        schedule();
      });
      loads.add(waited);
    }
  }

  function reloaded(id, text) {
    if (stopped) return;
    if (!queue.reload(id, typeof text === "string" ? text : "")) warnings.outboxLost();
  }

  /** Sends every request that is due; resolves when those are answered. One pump at a time. */
  function pump(force = false) {
    if (pumping) return pumping;
    if (stopped) return Promise.resolve();
    pumping = (async () => {
      // Yield first: `pumping` must be set before this body can finish and clear it.
      await null;
      if (restoring) await restoring;
      try {
        for (;;) {
          // Stopped while its sends were out (a new init()): the queue is another core's now.
          if (stopped) break;
          const sends = [];
          for (let id; (id = queue.next(now(), force)); ) sends.push(sendJob(id));
          spill();
          const news = queue.poll(now());
          absorb(news);
          if (sends.length === 0 && !news.load?.length && loads.size === 0) break;
          await Promise.all([...sends, ...loads]);
        }
      } finally {
        pumping = null;
      }
      schedule();
    })();
    return pumping;
  }

  /** Writes job `id` to the outbox the first time (waiting for an asynchronous outbox), then
   * sends its next request; deletes the outbox copy once the job is finished. */
  function sendJob(id, keepaliveSend = false) {
    // Without an outbox no job is written: its text is never made (a copy of every body).
    const saved = store ? queue.persist(id) : "";
    const stored = saved ? store.call("put", id, saved) : saving.get(id);
    const go = () => exchange(id, keepaliveSend).then((finished) => (finished && store ? store.call("delete", id) : undefined));
    return stored ? stored.then(go) : go();
  }

  /** Sends job `id`'s next request and gives the queue the answer. Resolves to true when the
   * job is finished (its outbox copy can go). The fetch starts synchronously: a page being
   * left (pagehide) gets its keepalive requests out. */
  async function exchange(id, keepaliveSend) {
    const request = queue.request(id);
    if (!request) return true;
    const answer = await send(request, { keepalive: keepaliveSend, fetch });
    // Stopped while the request was out (a new init()): the queue port reaches the new core,
    // which does not know this job (or restored it from the outbox and owns it now). Told
    // this answer it would call the job finished and its outbox copy would be deleted; the
    // copy stays, the new core sends and counts it (same ids: receivers can dedupe).
    if (stopped) return false;
    // done() is false once tracing stopped while the request was out: the job stays in the outbox.
    return queue.done(id, answer.status, answer.retryAfterMs, answer.body, answer.error, now());
  }

  /** Writes what is not in the outbox yet (waiting traces made into jobs now, held until their
   * batch is due), without waiting for the writes. */
  function saveUnsaved() {
    saveScheduled = false;
    if (stopped || !store) return;
    for (const id of queue.unsaved(now())) {
      const saved = queue.persist(id);
      const p = saved ? store.tried("put", id, saved) : undefined;
      if (isPromise(p)) {
        saving.set(id, p);
        p.then(() => saving.delete(id));
      }
    }
    spill();
    schedule();
  }

  /** Sends what is due now instead of at the armed timer. */
  function sendNow() {
    if (stopped || pumping) return;
    if (timer) timers.clear(timer);
    timer = null;
    pump();
  }

  /** Arms a timer for the queue's next due time (batch delay, retry backoff). */
  function schedule() {
    if (stopped || pumping) return;
    const wait = absorb(queue.poll(now()));
    if (wait < 0) return;
    if (timer) timers.clear(timer);
    timer = timers.set(() => {
      timer = null;
      pump();
    }, wait);
    // Background sends never keep a process alive; flush() and the exit hook do the waiting.
    timer?.unref?.();
  }

  /**
   * Leaving (a page hidden or closed, a process exiting), synchronously. `canSend`: one forced
   * round of keepalive requests, only jobs whose next request fits the rest of the budget
   * (written to the outbox too, without waiting: the page is going). Then every job not in the
   * outbox yet is written there, so the next start sends it.
   */
  function exit(canSend) {
    if (stopped) return;
    if (canSend) {
      for (let id; (id = queue.next(now(), true, KEEPALIVE_BYTES - keepalive.inFlight)); ) {
        const bytes = queue.bodyBytes(id);
        keepalive.inFlight += bytes;
        const saved = store ? queue.persist(id) : "";
        if (saved) store.call("put", id, saved);
        exchange(id, true).then((finished) => {
          keepalive.inFlight -= bytes;
          if (finished && store) store.call("delete", id);
          // The page may still be there (only hidden): the rest goes the usual way.
          schedule();
        });
      }
    }
    if (store) {
      for (const id of queue.unsaved(now())) {
        const saved = queue.persist(id);
        if (saved) store.call("put", id, saved);
      }
      absorb({ ...queue.poll(now()), wake: -1 });
    }
    if (canSend) schedule();
  }

  restore();
  schedule();

  return {
    /** A trace was handed on: save it early (browsers) and send it when its batch is due.
     * `spillNow`: a batch's worth waits; with an outbox it is written there now (memory stays
     * within the resident bound however long the receiver is down). */
    emitted(spillNow = false) {
      if (stopped) return;
      exitSent = false;
      if (spillNow) {
        spill();
        // The outbox copies of jobs dropped by the bounds go now; a batch full by size goes
        // now too (the timer armed for the batch delay would starve a flood until its bounds
        // drop what waits).
        if (absorb(queue.poll(now())) === 0) sendNow();
      }
      if (saveEarly && store && !saveScheduled) {
        saveScheduled = true;
        // A microtask: the traces ending in one task make one job, and it is written before
        // the page can be left (that takes another task).
        queueMicrotask(saveUnsaved);
      }
      if (!timer) schedule();
    },
    exit,
    /** The app is done (Node's beforeExit): one last forced round, once per batch of new
     * traces (the outbox keeps what is not accepted, for the next start). */
    idle() {
      if (exitSent || stopped) return;
      exitSent = true;
      pump(true);
    },
    /**
     * Sends what waits (retrying as the policy says) for at most `timeoutMs`, then reports:
     * `exported` counts only spans the receiver accepted.
     * @returns {Promise<{exported: number, failed: number, pending: number, dropped: number}>}
     */
    async flush(timeoutMs = 30000) {
      const deadline = now() + timeoutMs;
      for (;;) {
        await pump(true);
        if (stopped) break; // a new init(): the queue port reaches its core now
        if (loads.size) await Promise.all(loads);
        const wait = absorb(queue.poll(now()));
        if (wait < 0 || now() >= deadline || stopped) break;
        // A plain (ref'd) timer: the process stays up while flush() waits for a retry.
        await new Promise((resolve) => timers.set(resolve, Math.min(wait, deadline - now())));
      }
      return queue.stats();
    },
    /** No more timers or sends from this exporter (shutdown, or a new init()). */
    stop() {
      stopped = true;
      if (timer) timers.clear(timer);
      timer = null;
    },
  };
}

/** Global timers, read at each call (so fake timers installed later apply). */
const defaultTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (t) => clearTimeout(t),
};

/**
 * Export warnings of one init(). dev prints each failure, but at most one a second (a receiver
 * down for minutes would flood the console with retries) and says how many it held back; prod
 * prints the first only. The outbox's own failure is told once.
 */
function createWarnings({ mode, now, warn }) {
  let lastDev = -Infinity;
  let suppressed = 0;
  let prodWarned = false;
  let outboxWarned = false;
  let lostWarned = false;
  return {
    export(line) {
      if (mode === "dev") {
        if (now() - lastDev < 1000) return void suppressed++;
        lastDev = now();
        warn(`agensight: ${line}${suppressed ? ` (${suppressed} more export warnings in the last seconds not shown)` : ""}`);
        suppressed = 0;
      } else if (!prodWarned) {
        prodWarned = true;
        warn(`agensight: export failing: ${line} (later export warnings are silent in prod; mode "dev" shows them all)`);
      }
    },
    outboxFailed(e) {
      if (outboxWarned) return;
      outboxWarned = true;
      warn("agensight: the export outbox failed; traces not yet exported may not survive a restart:", e);
    },
    outboxLost() {
      if (lostWarned) return;
      lostWarned = true;
      warn("agensight: an export job spilled to the outbox could not be read back (its entry was removed or is corrupt); its spans are counted as failed in flush()");
    },
  };
}

/** Outbox calls that never throw: `call` returns undefined when the method finished
 * synchronously, else a Promise that resolves (never rejects) when it settles or after
 * OUTBOX_WAIT_MS. */
function createOutboxCalls(outbox, failed, timers) {
  function bounded(promise) {
    let t;
    const late = new Promise((resolve) => (t = timers.set(resolve, OUTBOX_WAIT_MS)));
    return Promise.race([promise, late]).finally(() => timers.clear(t));
  }
  return {
    bounded,
    call(method, ...args) {
      let r;
      try {
        r = outbox[method](...args);
      } catch (e) {
        return void failed(e);
      }
      return isPromise(r) ? bounded(Promise.resolve(r).catch(failed)) : undefined;
    },
    /** As `call`, saying whether it worked: a boolean, or a Promise of one (false also when
     * it took longer than OUTBOX_WAIT_MS). */
    tried(method, ...args) {
      let r;
      try {
        r = outbox[method](...args);
      } catch (e) {
        failed(e);
        return false;
      }
      if (!isPromise(r)) return true;
      const settled = Promise.resolve(r).then(
        () => true,
        (e) => {
          failed(e);
          return false;
        },
      );
      return bounded(settled).then((ok) => ok === true);
    },
  };
}
