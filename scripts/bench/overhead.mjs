// Per-span overhead in Node, all libraries side by side in this one process: the docs example
// shape (scripts/bench/workload.mjs), sync and async, wrapped by
//   - bare:       the functions themselves (the baseline)
//   - agensight:  agensight-wasm from the packed tarball, init({ storage: false }) (spans are
//                 built and dropped, like OpenTelemetry's no-op exporter), and
//                 init({ storage: "memory" }) (records encoded and kept in memory: the local
//                 mode without the disk), the file store (records appended to files in a
//                 temporary directory per block), and mode "prod" exporting OTLP (protobuf, the
//                 default) to a receiver on 127.0.0.1 that answers 200 (the export path:
//                 encoding, fetch, the answer judged; storage: false, so no outbox files,
//                 as the peers have none)
//   - otel:       @opentelemetry/sdk-trace-base BasicTracerProvider + AsyncLocalStorage
//                 context manager + BatchSpanProcessor with a no-op exporter; input and output
//                 set as JSON attributes (JSON.stringify); and the same with the official
//                 OTLP/HTTP protobuf exporter to the receiver on 127.0.0.1 (the counterpart
//                 of agensight's "prod" row)
//   - langsmith:  `traceable` with a Client whose fetch answers 200 locally
//   - langfuse:   `observe()` of @langfuse/tracing (input and output captured, its default),
//                 on sdk-trace-base with the AsyncLocalStorage context manager and
//                 @langfuse/otel's LangfuseSpanProcessor (its defaults: batched, media
//                 detection on, as agensight's redaction is on by default) exporting with
//                 its own OTLP/HTTP exporter to the same receiver on 127.0.0.1: the fair
//                 counterpart of agensight's capture-on, export-on "prod" row (an in-memory
//                 exporter would skip the encoding and sending agensight's row pays for)
// The receiver runs in a process of its own (lib.mjs startSink), so its CPU time is not
// counted; what it received is in the result (network.sink).
// Rounds are interleaved (every library once per round, order rotated) so machine noise hits
// all of them alike; each block ends with the library's flush, so deferred work (batch
// processing, serialization, store writes) is counted. Result: CPU ns per span above bare
// (process user + system time, so that waiting for a core on a busy machine does not count;
// wall time is reported beside it), median over rounds.
//
//   node --expose-gc scripts/bench/overhead.mjs [--rounds=7] [--ms=150] [--only=agensight,otel,langsmith,langfuse]
//   node --cpu-prof --cpu-prof-dir=target/bench/prof scripts/bench/overhead.mjs --profile=agensight --variant=sync [--pkg=DIR]
//   node --expose-gc scripts/bench/overhead.mjs --only=agensight --case=0 --pkg=DIR   (one row, for A/B runs of builds)
// Prints one JSON object (stdout).

import { performance } from "node:perf_hooks";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { guardNetwork, langsmithEnv, localFetch, median, spread, startSink, yieldToLoop } from "./lib.mjs";
import { ensurePeers, importPeer } from "./peers.mjs";
import { syncWorkload, asyncWorkload, SPANS_PER_TRACE, QUESTION } from "./workload.mjs";
import { importPackage } from "../../tests/support/package.mjs";

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, "").split("="); return [k, v.length ? v.join("=") : "true"]; }));
const ROUNDS = Number(args.rounds ?? 7);
const BLOCK_MS = Number(args.ms ?? 150);
/** Traces between two turns of the event loop (OpenTelemetry's batch processor drops spans
 * past 2048 queued, and only exports when the loop turns). */
const YIELD_EVERY = 100;
/** --field=N: a question of N more characters (large captures), for experiments. */
const Q = args.field ? QUESTION + " " + "lorem ipsum dolor sit amet ".repeat(Math.ceil(Number(args.field) / 27)).slice(0, Number(args.field)) : QUESTION;
/** Warm-up per library and variant (JIT tiers, lazy initialisation), also sizes the blocks. */
const WARMUP_MS = Number(args.warmup ?? 600);

const refused = guardNetwork();
Object.assign(process.env, langsmithEnv({}));
const fetchLog = [];
const flushed = {}; // agensight variant -> its last flush() result

// ---- the libraries -------------------------------------------------------------------------

async function setupAgensight(sink) {
  // --pkg=DIR: a package directory instead of the installed tarball (profiling builds,
  // experiments on a copy).
  const a = args.pkg ? await import(join(resolve(args.pkg), "node.mjs")) : await importPackage();
  const wrap = (fn, name, isRoot) => (isRoot ? a.trace(fn, { name }) : a.span(fn, { name }));
  // --init='{"redact":false}': extra init() options, for experiments.
  const extraOptions = args.init ? JSON.parse(args.init) : {};
  const variant = (label, options) => ({
    label,
    before: () => a.init({ name: "bench", ...options, ...extraOptions }),
    // The last flush() per variant goes into the result: the export row's spans must come out
    // exported, none failed.
    flush: async () => void (flushed[label] = await a.flush()),
    wrap,
  });
  function fileVariant() {
    let dir = null;
    const drop = () => dir && rmSync(dir, { recursive: true, force: true });
    process.on("exit", drop);
    return {
      ...variant("agensight (file store)", {}),
      before() {
        drop();
        dir = mkdtempSync(join(tmpdir(), "agensight-bench-"));
        a.init({ name: "bench", dir, ...extraOptions });
      },
    };
  }
  return [
    variant("agensight (storage: false)", { storage: false }),
    variant('agensight (storage: "memory")', { storage: "memory" }),
    variant('agensight (mode "prod", OTLP to 127.0.0.1)', { mode: "prod", token: "bench-token", exporter: "otlp", endpoint: `${sink.url}/v1/traces`, storage: false }),
    // The file store, each block in a fresh temporary directory, removed after
    // (records written, not the store's cap: blocks write far faster than an app does).
    fileVariant(),
  ];
}

async function setupOtel(sink) {
  const api = await import("@opentelemetry/api");
  const { BasicTracerProvider, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
  const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
  let exported = 0;
  const noopExporter = {
    export(spans, done) {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(noopExporter)] });
  api.trace.setGlobalTracerProvider(provider);
  const ERROR = api.SpanStatusCode.ERROR;
  // The usual manual instrumentation: an active span around the call, arguments and result
  // as JSON attributes, errors recorded; Promises end the span when they settle.
  const wrapWith = (tracer) => (fn, name) =>
    function (...args) {
      return tracer.startActiveSpan(name, (span) => {
        span.setAttribute("input", JSON.stringify(args));
        const fail = (e) => {
          span.recordException(e);
          span.setStatus({ code: ERROR, message: String(e?.message ?? e) });
          span.end();
        };
        let r;
        try {
          r = fn.apply(this, args);
        } catch (e) {
          fail(e);
          throw e;
        }
        if (r !== null && typeof r === "object" && typeof r.then === "function") {
          return r.then(
            (v) => {
              span.setAttribute("output", JSON.stringify(v) ?? "null");
              span.end();
              return v;
            },
            (e) => {
              fail(e);
              throw e;
            },
          );
        }
        span.setAttribute("output", JSON.stringify(r) ?? "null");
        span.end();
        return r;
      });
    };
  const rows = [{ label: "OpenTelemetry JS", before() {}, flush: () => provider.forceFlush(), wrap: wrapWith(provider.getTracer("bench")), exported: () => exported }];
  if (sink) {
    // The export path's counterpart of agensight's mode "prod" row: the same spans through
    // BatchSpanProcessor and the official OTLP/HTTP protobuf exporter to the same receiver.
    await ensurePeers();
    const { OTLPTraceExporter } = await importPeer("@opentelemetry/exporter-trace-otlp-proto");
    const exporting = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${sink.url}/v1/traces` }))] });
    rows.push({ label: "OpenTelemetry JS (OTLP/protobuf to 127.0.0.1)", before() {}, flush: () => exporting.forceFlush(), wrap: wrapWith(exporting.getTracer("bench")) });
  }
  return rows;
}

async function setupLangsmith() {
  const { Client } = await import("langsmith");
  const { traceable } = await import("langsmith/traceable");
  // Every request of the client goes to this fetch (checked: fetchLog); the global fetch is
  // guarded too (guardNetwork), so a request that bypassed it would be refused and reported.
  const fetch = localFetch(fetchLog);
  const client = new Client({ apiUrl: "http://127.0.0.1:9", apiKey: "bench-no-network", fetchImplementation: fetch, fetch });
  const wrap = (fn, name) => traceable(fn, { name, client, tracingEnabled: true });
  return [{ label: "LangSmith traceable", before() {}, flush: () => client.awaitPendingTraceBatches(), wrap }];
}

async function setupLangfuse(sink) {
  await ensurePeers();
  const { BasicTracerProvider } = await importPeer("@opentelemetry/sdk-trace-base");
  const { AsyncLocalStorageContextManager } = await importPeer("@opentelemetry/context-async-hooks");
  const { context } = await importPeer("@opentelemetry/api");
  const { LangfuseSpanProcessor } = await importPeer("@langfuse/otel");
  const { observe, setLangfuseTracerProvider } = await importPeer("@langfuse/tracing");
  // The OTel API's globals are shared by every copy of @opentelemetry/api 1.x: when the
  // OpenTelemetry row registered its (identical) context manager first, this one is refused.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const processor = new LangfuseSpanProcessor({ publicKey: "pk-lf-bench", secretKey: "sk-lf-bench", baseUrl: sink.url });
  setLangfuseTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }));
  const wrap = (fn, name) => observe(fn, { name });
  return [{ label: "Langfuse observe() (OTLP to 127.0.0.1)", before() {}, flush: () => processor.forceFlush(), wrap }];
}

function setupBare() {
  return [{ label: "bare functions", before() {}, flush: async () => {}, wrap: (fn) => fn }];
}

// ---- timing ----------------------------------------------------------------------------------

/** Runs `n` traces of `main` and the library's flush; returns CPU ms of this process (user +
 * system: on a shared machine, time spent waiting for a core is not the library's), and wall
 * ms in `block.wall`. */
async function block(lib, main, isAsync, n) {
  lib.before();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  if (isAsync) {
    for (let i = 0; i < n; i++) {
      await main(Q);
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
    }
  } else {
    for (let i = 0; i < n; i++) {
      main(Q);
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
    }
  }
  await lib.flush();
  block.wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

async function main() {
  const only = args.only?.split(",") ?? (args.profile ? [args.profile] : null);
  const want = (k) => k === "bare" || !only || only.includes(k);
  const sink = await startSink();
  let libs = [
    ...setupBare(),
    ...(want("agensight") ? await setupAgensight(sink) : []),
    ...(want("otel") ? await setupOtel(sink) : []),
    ...(want("langsmith") ? await setupLangsmith() : []),
    ...(want("langfuse") ? await setupLangfuse(sink) : []),
  ];
  // --profile=LIB: that library only (--case=N picks among its variants, e.g. agensight's
  // storage: false = 0, "memory" = 1), run long for node --cpu-prof.
  if (args.profile) libs = [libs[1 + Number(args.case ?? 0)]];
  // --case=N alone: the bare baseline and that variant only (A/B runs of one row).
  else if (args.case !== undefined) libs = [libs[0], libs[1 + Number(args.case)]];
  const variants = (args.variant ? [args.variant] : ["sync", "async"]).map((v) => ({ name: v, isAsync: v === "async", make: v === "async" ? asyncWorkload : syncWorkload }));
  const result = { spansPerTrace: SPANS_PER_TRACE, rounds: ROUNDS, blockMs: BLOCK_MS, node: process.version, variants: {} };

  for (const v of variants) {
    // Each library wraps its own copy of the workload once, as an app would at start-up.
    const runs = libs.map((lib) => {
      lib.before();
      return { lib, main: v.make(lib.wrap), perTrace: [], wallPerTrace: [], n: 0 };
    });
    // Warm up (JIT, lazy initialisation) and size each block to about BLOCK_MS.
    for (const r of runs) {
      let n = YIELD_EVERY;
      let ms = 0;
      for (let spent = 0; spent < WARMUP_MS; spent += ms) {
        ms = await block(r.lib, r.main, v.isAsync, n);
        if (ms < BLOCK_MS / 4) n *= 2;
      }
      r.n = Math.max(YIELD_EVERY, Math.round((BLOCK_MS / ms) * n / YIELD_EVERY) * YIELD_EVERY);
    }
    if (args.profile) {
      // Profiling: one library only, long, for node --cpu-prof.
      const r = runs[0];
      const ms = await block(r.lib, r.main, v.isAsync, r.n * ROUNDS);
      process.stderr.write(`[profile] ${r.lib.label} ${v.name}: ${((ms * 1e6) / (r.n * ROUNDS * SPANS_PER_TRACE)).toFixed(0)} ns/span (absolute)\n`);
      continue;
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < runs.length; k++) {
        const r = runs[(k + round) % runs.length];
        const ms = await block(r.lib, r.main, v.isAsync, r.n);
        r.perTrace.push((ms * 1e6) / r.n); // CPU ns per trace
        r.wallPerTrace.push((block.wall * 1e6) / r.n);
      }
    }
    const bare = median(runs[0].perTrace); // runs[0] is the bare functions
    const bareWall = median(runs[0].wallPerTrace);
    result.variants[v.name] = runs.map((r) => ({
      label: r.lib.label,
      tracesPerBlock: r.n,
      nsPerTrace: median(r.perTrace),
      // Overhead per span: per-trace time above the bare functions, over the spans per trace.
      nsPerSpan: r === runs[0] ? 0 : (median(r.perTrace) - bare) / SPANS_PER_TRACE,
      spread: spread(r.perTrace),
      wallNsPerSpan: r === runs[0] ? 0 : (median(r.wallPerTrace) - bareWall) / SPANS_PER_TRACE,
    }));
    process.stderr.write(`[overhead] ${v.name}: ` + result.variants[v.name].map((x) => `${x.label} ${x.nsPerSpan.toFixed(0)} ns/span`).join(", ") + "\n");
  }
  result.network = { langsmithRequests: fetchLog.length, sample: fetchLog.slice(0, 3), refused, sink: await sink.stats(), agensightFlush: flushed };
  sink.close();
  if (!args.profile) process.stdout.write(JSON.stringify(result) + "\n");
  // LangSmith's client keeps timers; leave promptly.
  process.exit(0);
}

await main();
