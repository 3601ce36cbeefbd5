// Encoding throughput, in Node: spans per second into
//   - Agensight records (the crate's encoder, wasm32, as shipped)
//   - OTLP/HTTP JSON (the crate's src/otlp.rs encoder, wasm32), when it exists
//   - OTLP/HTTP protobuf (the crate's src/encode/otlp_proto.rs, wasm32)
//   - OTLP/HTTP JSON and protobuf by OpenTelemetry JS's own serializers
//     (@opentelemetry/otlp-transformer JsonTraceSerializer, ProtobufTraceSerializer) from real
//     ReadableSpans of the same workload
// One export batch is 171 traces = 513 spans (about OpenTelemetry's default batch of 512).
// Each timed call produces the request body as bytes in JS memory (the wasm output is copied
// out of linear memory, as a fetch body would be), so both sides end at the same place.
//
//   scripts/bench/build-encode && node scripts/bench/encode.mjs [--rounds=7] [--ms=250]
//   node --cpu-prof --cpu-prof-dir=target/bench/prof scripts/bench/encode.mjs --names --only=otlp
//   node scripts/bench/encode.mjs --wasm=FILE      (another build of the module, for experiments)
// Prints one JSON object (stdout).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { median, OUT, ROOT } from "./lib.mjs";
import { syncWorkload, QUESTION } from "./workload.mjs";

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, "").split("="); return [k, v.length ? v.join("=") : "true"]; }));
const ROUNDS = Number(args.rounds ?? 7);
const BLOCK_MS = Number(args.ms ?? 250);
const TRACES = 171;

function loadWasm() {
  const file = args.wasm ?? join(OUT, args.names ? "encode-names.wasm" : "encode.wasm");
  if (!existsSync(file)) return { error: "target/bench/encode.wasm is not built (scripts/bench/build-encode failed or was not run)" };
  const module = new WebAssembly.Module(readFileSync(file));
  // The crate's wasm-bindgen glue comes along in the module; it is never called here, so
  // every import is a stub that throws.
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== "function") throw new Error(`encode.wasm imports a ${imp.kind}: ${imp.module}.${imp.name}`);
    (imports[imp.module] ??= {})[imp.name] = () => {
      throw new Error(`stub import called: ${imp.module}.${imp.name}`);
    };
  }
  const ex = new WebAssembly.Instance(module, imports).exports;
  const spans = ex.setup(TRACES);
  const run = (fn, ptr = ex.out_ptr) => () => {
    const n = fn();
    return new Uint8Array(ex.memory.buffer, ptr(), n).slice();
  };
  return { spans, agensight: run(ex.encode_agensight), otlp: run(ex.encode_otlp), proto: run(ex.encode_otlp_proto, ex.bytes_ptr) };
}

async function otelSpans() {
  const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = await import("@opentelemetry/sdk-trace-base");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ "service.name": "bench" }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer("bench");
  // The overhead benchmark's OpenTelemetry wrapper, synchronous part (no context manager is
  // needed: the spans are made one trace at a time and parented explicitly via startActiveSpan).
  const api = await import("@opentelemetry/api");
  const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const wrap = (fn, name) =>
    function (...a) {
      return tracer.startActiveSpan(name, (span) => {
        span.setAttribute("input", JSON.stringify(a));
        const r = fn.apply(this, a);
        span.setAttribute("output", JSON.stringify(r));
        span.end();
        return r;
      });
    };
  const main = syncWorkload(wrap);
  for (let i = 0; i < TRACES; i++) main(QUESTION);
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}

function measure(fn) {
  // About BLOCK_MS of calls; returns CPU ms per call (user + system of this process: time spent
  // waiting for a core on a busy machine does not count).
  let n = 1;
  for (;;) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    if (ms >= BLOCK_MS) return ms / n;
    n = ms < 5 ? n * 4 : Math.ceil((n * BLOCK_MS) / ms);
  }
}

const wasm = loadWasm();
const { JsonTraceSerializer, ProtobufTraceSerializer } = await import("@opentelemetry/otlp-transformer");
const spans = await otelSpans();
const cases = [
  { key: "otel", label: "OpenTelemetry JS JsonTraceSerializer (OTLP JSON)", spans: spans.length, fn: () => JsonTraceSerializer.serializeRequest(spans) },
  { key: "otel-proto", label: "OpenTelemetry JS ProtobufTraceSerializer (OTLP protobuf)", spans: spans.length, fn: () => ProtobufTraceSerializer.serializeRequest(spans) },
];
if (wasm.error) {
  cases.push({ key: "agensight", label: "agensight-wasm Agensight records", error: wasm.error });
} else {
  cases.push({ key: "agensight", label: "agensight-wasm Agensight records (wasm)", spans: wasm.spans, fn: wasm.agensight });
  cases.push({ key: "otlp", label: "agensight-wasm OTLP JSON (wasm)", spans: wasm.spans, fn: wasm.otlp });
  cases.push({ key: "proto", label: "agensight-wasm OTLP protobuf (wasm)", spans: wasm.spans, fn: wasm.proto });
}

/** Spans in an ExportTraceServiceRequest (resource_spans = 1 > scope_spans = 2 > spans = 2),
 * read with a minimal protobuf walk: enough to check the body holds every span. */
function protoSpans(bytes) {
  const fields = (buf, each) => {
    for (let i = 0; i < buf.length; ) {
      let key = 0, shift = 0, b;
      do ((b = buf[i++]), (key += (b & 0x7f) * 2 ** shift), (shift += 7)); while (b & 0x80);
      const wire = key % 8;
      if (wire !== 2) throw new Error(`unexpected wire type ${wire} at ${i}`);
      let len = 0;
      shift = 0;
      do ((b = buf[i++]), (len += (b & 0x7f) * 2 ** shift), (shift += 7)); while (b & 0x80);
      each(Math.floor(key / 8), buf.subarray(i, i + len));
      i += len;
    }
  };
  let n = 0;
  fields(bytes, (f, rs) => f === 1 && fields(rs, (g, ss) => g === 2 && fields(ss, (h) => h === 2 && n++)));
  return n;
}

// Sanity: every output is JSON with all the spans, and its size per span.
for (const c of cases.filter((c) => c.fn)) {
  const bytes = c.fn();
  const text = new TextDecoder().decode(bytes);
  let count;
  if (c.key === "agensight") count = text.trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.type === "span").length;
  else if (c.key === "proto" || c.key === "otel-proto") count = protoSpans(bytes);
  else count = JSON.parse(text).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).length;
  if (count !== c.spans) throw new Error(`${c.label}: ${count} spans in the output, expected ${c.spans}`);
  c.bytesPerSpan = bytes.length / c.spans;
}

const live = cases.filter((c) => c.fn && (!args.only || args.only.split(",").includes(c.key)));
for (const c of live) (c.fn(), c.fn(), measure(c.fn)); // warm up
for (let r = 0; r < ROUNDS; r++) for (const c of live) (c.msPerCall ??= []).push(measure(c.fn));
const result = {
  spansPerBatch: TRACES * 3,
  rounds: ROUNDS,
  cases: cases.map((c) => ({
    key: c.key,
    label: c.label,
    error: c.error,
    bytesPerSpan: c.bytesPerSpan,
    spansPerSec: c.msPerCall ? c.spans / (median(c.msPerCall) / 1000) : undefined,
  })),
};
for (const c of result.cases.filter((c) => c.error || c.spansPerSec)) process.stderr.write(`[encode] ${c.label}: ${c.error ?? Math.round(c.spansPerSec).toLocaleString("en-US") + " spans/s, " + c.bytesPerSpan.toFixed(0) + " B/span"}\n`);
process.stdout.write(JSON.stringify(result) + "\n");
