// One cold start, in a fresh process (scripts/bench/cold.mjs runs it): import the library and
// do what `init()` is for it, then print the milliseconds that took and since process start.
//
//   node scripts/bench/cold-child.mjs agensight|otel|langsmith|none [PACKAGE_URL]

import { performance } from "node:perf_hooks";

const which = process.argv[2];
const pkgUrl = process.argv[3];
const t0 = performance.now();
switch (which) {
  case "agensight": {
    const a = await import(pkgUrl);
    a.init({ name: "cold" });
    break;
  }
  case "otel": {
    // The equivalent set-up: provider, batch processor, OTLP/HTTP exporter, context manager.
    const api = await import("@opentelemetry/api");
    const { BasicTracerProvider, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
    const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: "http://127.0.0.1:9/v1/traces" }))] });
    api.trace.setGlobalTracerProvider(provider);
    break;
  }
  case "langsmith": {
    const { Client } = await import("langsmith");
    const { traceable } = await import("langsmith/traceable");
    const client = new Client({ apiUrl: "http://127.0.0.1:9", apiKey: "bench-no-network", fetchImplementation: async () => new Response("{}") });
    traceable(() => 1, { client, tracingEnabled: true });
    break;
  }
  case "none":
    break;
  default:
    throw new Error(`unknown case ${which}`);
}
const t1 = performance.now();
process.stdout.write(JSON.stringify({ importInitMs: t1 - t0, sinceStartMs: t1 }) + "\n");
process.exit(0);
