// Memory after many spans: the JS heap (after a full GC), the wasm linear memory and the RSS
// at checkpoints up to --spans (default 1,000,000), for
//   - agensight-wasm, init({ storage: false }): local mode, nothing kept
//   - agensight-wasm, export mode with the receiver down: mode "prod" with the Agensight
//     exporter, and with the OTLP exporter; the endpoint is a 127.0.0.1 port that refuses
//     connections, storage: false. The export queue must stay within its bounds (default
//     8 MiB / 10,000 jobs / 100,000 pending spans, 4 MiB of their captures) and count what it
//     drops. The "-4k" cases capture a 4,000-character question (three fields per trace hold
//     it), to see whether the bounds hold in bytes and not only in spans.
//   - "agensight-outbox-4k", "otlp-outbox-4k": the same with the default storage (a file
//     outbox in a temporary directory, as a Node app has by default): the backlog past the
//     resident bound (512 KiB of request bodies) spills to the outbox and only its metadata stays
//     in memory. `resident` is the queue's body bytes in memory (the wasm's stats), `outbox`
//     the bytes on disk, at each checkpoint
//   - OpenTelemetry JS with its batch processor and an exporter that always fails; and
//     "otel-otlp-down-4k": with its official OTLP/protobuf exporter to a refusing 127.0.0.1
//     port and the 4,000-character question (an HTTP client loaded, as in agensight's cases)
//   - "local-await-chain": 200,000 traces written to a file store by code that awaits only
//     settled promises (no timer ever runs between checkpoints): the core asks for a write by
//     size (1 MiB), so memory stays flat and the bytes reach the disk as they go
//   - "sessions": 500,000 traces, each in a session of its own (`trace(fn, { session })`),
//     storage: false: the table of sessions already written is bounded (4,096 ids)
//   - "long-root": one root span that stays open over 200,000 child spans, written to a file
//     store: the ended children are handed on in parts of 1,000, not held until the root ends
// Local mode with storage: "memory" keeps everything by design and is not measured here.
// Bounded = no growth of heap + wasm memory over the last quarter of the run beyond noise (the
// checkpoints show the plateau).
//
//   node --expose-gc scripts/bench/memory.mjs [--spans=1000000] [--case=agensight-none|agensight-down|otlp-down|otel]
//     [--field=N] (a longer captured question) [--init='{"queue":{"maxBytes":1048576}}']
// Prints one JSON object (stdout). Every case runs in a process of its own.

import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { guardNetwork, yieldToLoop } from "./lib.mjs";
import { syncWorkload, SPANS_PER_TRACE, QUESTION } from "./workload.mjs";
import { APP, importPackage, installPackage } from "../../tests/support/package.mjs";

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, "").split("="); return [k, v.length ? v.join("=") : "true"]; }));
const SPANS = Number(args.spans ?? 1_000_000);
const LOOP_CASES = ["local-await-chain", "sessions", "long-root"];
const CASES = ["agensight-none", "agensight-down", "otlp-down", "agensight-down-4k", "otlp-down-4k", "agensight-outbox-4k", "otlp-outbox-4k", "otel", "otel-4k", "otel-otlp-down-4k", ...LOOP_CASES];
/** --init='{"queue":{...}}': extra init() options for the export cases. */
const extra = args.init ? JSON.parse(args.init) : {};

/** A loopback port with nothing listening: connections are refused at once. */
async function refusingPort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** The LOOP_CASES: spans made by the case's own loop, with heap, wasm memory, RSS (and bytes
 * on disk) at the checkpoints. */
async function runLoopCase(name) {
  await installPackage();
  const a = await importPackage();
  const { resolve } = await import(join(APP, "resolve.mjs"));
  const bindings = await import(new URL("./wasm/agensight_wasm.js", resolve("agensight-wasm")).href);
  const exports = bindings.initSync(undefined);
  const { mkdtempSync, readdirSync, statSync, rmSync } = await import("node:fs");
  let samplesDone = async () => {};
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "agensight-bench-mem-"));
  const onDisk = () => readdirSync(dir).filter((f) => f.endsWith(".jsonl")).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const chain = name === "local-await-chain";
  const toDisk = name !== "sessions";
  const total = Math.min(SPANS, name === "sessions" ? 500_000 : 200_000);
  if (toDisk) a.init({ name: "mem", storage: "file", dir, maxStoreBytes: 1 << 30 });
  else a.init({ name: "mem", storage: false });
  const work = a.trace(async (i) => i, "work");
  const child = a.span((i) => i, "child");
  // long-root: the root's body runs the whole loop, and stays open until the last checkpoint.
  let inRoot = (fn) => fn();
  if (name === "long-root") {
    let release;
    const gate = new Promise((r) => (release = r));
    let enter;
    const entered = new Promise((r) => (enter = r));
    const rootDone = a.trace(async () => {
      enter(a.bindContext((fn) => fn()));
      await gate;
    }, "server")();
    inRoot = await entered;
    samplesDone = async () => {
      release();
      await rootDone;
    };
  }
  const samples = [];
  const t0 = performance.now();
  const checkpoints = [0, 0.1, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * total));
  let done = 0;
  for (const target of checkpoints) {
    // No timer runs inside this loop: only settled promises are awaited.
    if (chain) for (; done < target; done++) await work(done);
    else if (name === "long-root") for (; done < target; done++) inRoot(() => child(done));
    else for (; done < target; done++) await a.trace(async (i) => i, { name: "work", session: `s-${done}` })(done);
    globalThis.gc?.();
    const m = process.memoryUsage();
    samples.push({ spans: done, heapUsed: m.heapUsed, wasm: exports.memory.buffer.byteLength, rss: m.rss, onDisk: toDisk ? onDisk() : undefined });
  }
  await samplesDone();
  const flush = await a.flush({ timeoutMs: 0 });
  rmSync(dir, { recursive: true, force: true });
  return { spans: total, samples, flush, seconds: (performance.now() - t0) / 1000 };
}

async function runCase(name) {
  guardNetwork();
  if (LOOP_CASES.includes(name)) return runLoopCase(name);
  // Count warnings instead of printing them (an exporter may warn per failed request).
  const warnings = { count: 0, first: [] };
  console.warn = (...a) => {
    if (warnings.count++ < 3) warnings.first.push(a.map(String).join(" ").slice(0, 200));
  };
  let wasmMemory = () => NaN;
  let resident = () => undefined;
  let outboxBytes = () => undefined;
  let stats = async () => null;
  let wrap;
  if (!name.startsWith("otel")) {
    await installPackage();
    const a = await importPackage();
    // The wasm instance the package loaded: the bindings module is shared, and initSync()
    // hands back its exports once initialized.
    const { resolve } = await import(join(APP, "resolve.mjs"));
    const bindings = await import(new URL("./wasm/agensight_wasm.js", resolve("agensight-wasm")).href);
    const exports = bindings.initSync(undefined);
    wasmMemory = () => exports.memory.buffer.byteLength;
    resident = () => JSON.parse(bindings.stats()).resident;
    if (name === "agensight-none") {
      a.init({ name: "mem", storage: false });
    } else {
      const port = await refusingPort();
      const otlp = name.startsWith("otlp-");
      const endpoint = `http://127.0.0.1:${port}` + (otlp ? "/v1/traces" : "");
      // The outbox cases keep the default storage (files: the export outbox) in a temporary
      // directory, removed at exit.
      let storage = { storage: false };
      if (name.includes("outbox")) {
        const { mkdtempSync, readdirSync, statSync, rmSync } = await import("node:fs");
        const { tmpdir } = await import("node:os");
        const dir = mkdtempSync(join(tmpdir(), "agensight-bench-outbox-"));
        const box = join(dir, "outbox");
        outboxBytes = () => { try { return readdirSync(box).reduce((n, f) => n + statSync(join(box, f)).size, 0); } catch { return 0; } };
        process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
        storage = { dir };
      }
      try {
        a.init({ name: "mem", mode: "prod", token: "bench-token", endpoint, ...storage, ...(otlp ? { exporter: "otlp" } : {}), ...extra });
      } catch (e) {
        return { error: `init(mode "prod") failed: ${e.message}` };
      }
    }
    // Counters without waiting for retries (timeoutMs: 0 where flush takes it).
    stats = async () => Promise.race([a.flush({ timeoutMs: 0 }), new Promise((r) => setTimeout(() => r({ timeout: true }), 2000))]);
    wrap = (fn, n, isRoot) => (isRoot ? a.trace(fn, { name: n }) : a.span(fn, { name: n }));
  } else {
    const api = await import("@opentelemetry/api");
    const { BasicTracerProvider, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
    const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    let failing = { export: (s, done) => done({ code: 1, error: new Error("receiver down") }), shutdown: async () => {} };
    if (name === "otel-otlp-down-4k") {
      // Its official OTLP/protobuf exporter to a refusing port: an HTTP client loaded and
      // failing, as agensight's export cases have (Node's fetch alone is about 2 MB of heap).
      const { importPeer } = await import("./peers.mjs");
      const { OTLPTraceExporter } = await importPeer("@opentelemetry/exporter-trace-otlp-proto");
      failing = new OTLPTraceExporter({ url: `http://127.0.0.1:${await refusingPort()}/v1/traces` });
    }
    api.diag.disable();
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(failing)] });
    const tracer = provider.getTracer("mem");
    wrap = (fn, n) =>
      function (...x) {
        return tracer.startActiveSpan(n, (span) => {
          span.setAttribute("input", JSON.stringify(x));
          const r = fn.apply(this, x);
          span.setAttribute("output", JSON.stringify(r));
          span.end();
          return r;
        });
      };
  }
  // --field=N: the workload's question is N characters long (captured twice per trace), to see
  // whether the bounds hold in bytes as well as in spans.
  // The "-4k" cases: a 4,000-character question.
  const field = name.endsWith("-4k") ? 4000 : Number(args.field ?? 0);
  const question = field ? QUESTION + " " + "x".repeat(field) : QUESTION;
  const main = syncWorkload(wrap);
  // The "-4k" cases stop at 150,000 spans: their bounds (100,000 spans waiting) are reached
  // before, and 4 KB captures are slow to make a million of.
  const spans = field ? Math.min(SPANS, 150_000) : SPANS;
  const checkpoints = [0, 0.1, 0.25, 0.5, 0.75, 1].map((f) => Math.round((f * spans) / SPANS_PER_TRACE));
  const samples = [];
  const t0 = performance.now();
  let done = 0;
  for (const target of checkpoints) {
    for (; done < target; done++) {
      main(question);
      if (done % 100 === 99) await yieldToLoop();
    }
    await yieldToLoop();
    globalThis.gc?.();
    const m = process.memoryUsage();
    samples.push({ spans: done * SPANS_PER_TRACE, heapUsed: m.heapUsed, wasm: wasmMemory(), rss: m.rss, resident: resident(), outbox: outboxBytes(), flush: await stats() });
  }
  return { spans, samples, warnings, seconds: (performance.now() - t0) / 1000 };
}

if (args.case) {
  const r = await runCase(args.case);
  process.stdout.write(JSON.stringify(r) + "\n");
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const result = { spans: SPANS, cases: {} };
for (const c of CASES) {
  try {
    const out = execFileSync(process.execPath, ["--expose-gc", self, `--case=${c}`, `--spans=${SPANS}`, ...process.argv.slice(2).filter((a) => /^--(field|init)=/.test(a))], { maxBuffer: 1 << 24, stdio: ["ignore", "pipe", "inherit"] }).toString();
    const r = JSON.parse(out.trim().split("\n").pop());
    if (r.samples) {
      const s = r.samples;
      const mid = s[s.length - 2];
      const last = s[s.length - 1];
      const first = s[0];
      r.growthLastQuarterBytes = last.heapUsed + (last.wasm || 0) - (mid.heapUsed + (mid.wasm || 0));
      r.totalGrowthBytes = last.heapUsed + (last.wasm || 0) - (first.heapUsed + (first.wasm || 0));
      // Bounded: the last quarter of the run added less than 2 MB or 2% (GC and allocator
      // noise): a plateau.
      r.bounded = r.growthLastQuarterBytes < Math.max(2 * 1048576, 0.02 * (last.heapUsed + (last.wasm || 0)));
    }
    result.cases[c] = r;
  } catch (e) {
    result.cases[c] = { error: String(e.message).split("\n")[0] };
  }
  const r = result.cases[c];
  process.stderr.write(`[memory] ${c}: ${r.error ?? `heap ${(r.samples.at(-1).heapUsed / 1048576).toFixed(1)} MB, wasm ${(r.samples.at(-1).wasm / 1048576).toFixed(1)} MB, growth over the last quarter ${(r.growthLastQuarterBytes / 1048576).toFixed(2)} MB, bounded: ${r.bounded}, ${r.seconds.toFixed(0)} s`}\n`);
}
process.stdout.write(JSON.stringify(result) + "\n");
