// Cold start: import + init() in Node (a fresh process per run, scripts/bench/cold-child.mjs),
// and in workerd: the time from starting `workerd serve` to the first response of a worker
// that calls init() and one traced function at its first request, beside an empty worker.
// Workers are bundled from the installed tarball with esbuild the way wrangler does it
// (conditions workerd/worker/browser, the .wasm kept as its own module), like
// tests/runtimes/workerd.test.mjs. Runs are interleaved across libraries; medians.
//
//   node scripts/bench/cold.mjs [--runs=9] [--workerd-runs=7] [--workerd-steps] [--base=APP] [--cpu]
// --workerd-steps adds workers that stop after each step of agensight's (AsyncLocalStorage
// alone, the .wasm imported, instantiated, the entry imported, init(), the traced call), for
// the breakdown in HACKING.md "Cold start". --base=APP adds "agensight@base" in Node and
// workerd, the same cases with the package installed in another scratch project (a copy of
// tests/.scratch/app made before a change), interleaved with the rest: an A/B in one run.
// --cpu adds each worker's CPU time to its first response (workerd's threads, from
// /proc/PID/task/*/schedstat, Linux only): it moves far less than wall time when other work
// shares the cores, so it shows changes of a few tenths of a millisecond.
// Prints one JSON object (stdout).

import { spawn, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { build } from "esbuild";
import { BENCH, OUT, ROOT, median } from "./lib.mjs";
import { APP, PACKAGE, installPackage } from "../../tests/support/package.mjs";

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, "").split("="); return [k, v.length ? v.join("=") : "true"]; }));
const RUNS = Number(args.runs ?? 9);
const WORKERD_RUNS = Number(args["workerd-runs"] ?? 7);

await installPackage();
const { resolve } = await import(join(APP, "resolve.mjs"));
const pkgUrl = resolve("agensight-wasm");
const BASE = args.base ? join(process.cwd(), args.base) : null;
const basePkgUrl = BASE ? (await import(join(BASE, "resolve.mjs"))).resolve("agensight-wasm") : null;

// ---- Node ----------------------------------------------------------------------------------

function nodeOnce(name) {
  const [which, url] = name === "agensight@base" ? ["agensight", basePkgUrl] : [name, pkgUrl];
  const t0 = performance.now();
  const out = execFileSync(process.execPath, [join(BENCH, "cold-child.mjs"), which, url], { cwd: ROOT, env: { ...process.env, LANGSMITH_TRACING: "true" } }).toString();
  const wall = performance.now() - t0;
  return { ...JSON.parse(out.trim().split("\n").pop()), wallMs: wall };
}

const nodeCases = ["none", "agensight", ...(BASE ? ["agensight@base"] : []), "otel", "langsmith"];
const nodeRuns = Object.fromEntries(nodeCases.map((c) => [c, []]));
for (const c of nodeCases) nodeOnce(c); // warm the file cache
for (let i = 0; i < RUNS; i++) for (const c of nodeCases) nodeRuns[c].push(nodeOnce(c));
const node = Object.fromEntries(
  nodeCases.map((c) => [c, { importInitMs: median(nodeRuns[c].map((r) => r.importInitMs)), sinceStartMs: median(nodeRuns[c].map((r) => r.sinceStartMs)), wallMs: median(nodeRuns[c].map((r) => r.wallMs)) }]),
);
process.stderr.write(`[cold] node import+init: ${nodeCases.map((c) => `${c} ${node[c].importInitMs.toFixed(1)} ms`).join(", ")}\n`);

// ---- workerd -------------------------------------------------------------------------------

const WORKERD = join(ROOT, "node_modules/.bin/workerd");
const DIR = join(OUT, "workerd");

const sources = {
  empty: `export default { async fetch() { return new Response("ok"); } };`,
  agensight: `import { init, trace, span, flush } from "agensight-wasm";
let main;
export default {
  async fetch(request, env, ctx) {
    if (!main) {
      init({ name: "cold" });
      const step = span(async (q) => ({ q }), "step");
      main = trace(async (q) => (await step(q)).q, "main");
    }
    const r = await main("hi");
    ctx.waitUntil(flush());
    return new Response(r);
  },
};`,
  otel: `import { trace as api, context } from "@opentelemetry/api";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
let tracer;
export default {
  async fetch() {
    if (!tracer) {
      const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: "http://127.0.0.1:9/v1/traces" }))] });
      api.setGlobalTracerProvider(provider);
      tracer = provider.getTracer("cold");
    }
    const r = tracer.startActiveSpan("main", (s) => tracer.startActiveSpan("step", (c) => (c.end(), s.end(), "hi")));
    return new Response(r);
  },
};`,
  langsmith: `import { traceable } from "langsmith/traceable";
import { Client } from "langsmith";
let main;
export default {
  async fetch() {
    if (!main) {
      const client = new Client({ apiUrl: "http://127.0.0.1:9", apiKey: "bench-no-network", fetchImplementation: async () => new Response("{}") });
      const step = traceable(async (q) => ({ q }), { name: "step", client, tracingEnabled: true });
      main = traceable(async (q) => (await step(q)).q, { name: "main", client, tracingEnabled: true });
    }
    return new Response(await main("hi"));
  },
};`,
};

// One worker per step of the agensight worker's cold start (--workerd-steps).
const WASM = `${PACKAGE}/wasm/agensight_wasm_bg.wasm`;
const idle = `export default { async fetch() { return new Response("ok"); } };`;
const steps = {
  "step:als": `globalThis.__als = process.getBuiltinModule("node:async_hooks").AsyncLocalStorage;\n${idle}`,
  "step:wasm": `import m from "${WASM}";\nglobalThis.__m = m;\n${idle}`,
  "step:instantiate": `import m from "${WASM}";\nimport { initSync } from "${PACKAGE}/wasm/agensight_wasm.js";\ninitSync({ module: m });\n${idle}`,
  "step:import": `import { init } from "agensight-wasm";\nglobalThis.__init = init;\n${idle}`,
  "step:init": `import { init } from "agensight-wasm";
export default { async fetch() { init({ name: "cold" }); return new Response("ok"); } };`,
  "step:call": `import { init, trace, span } from "agensight-wasm";
export default {
  async fetch() {
    init({ name: "cold" });
    const step = span(async (q) => ({ q }), "step");
    const main = trace(async (q) => (await step(q)).q, "main");
    return new Response(await main("hi"));
  },
};`,
};
if (args["workerd-steps"]) Object.assign(sources, steps);
if (BASE) sources["agensight@base"] = sources.agensight;

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function prepare(name) {
  const dir = join(DIR, name.replace(/[:@]/g, "-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "src.mjs"), sources[name]);
  const wasmFiles = [];
  await build({
    entryPoints: [join(dir, "src.mjs")],
    outfile: join(dir, "worker.js"),
    bundle: true,
    minify: true,
    format: "esm",
    // "browser": honours package.json `browser` maps (OpenTelemetry's and LangSmith's
    // platform files), as bundlers for workers do.
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    nodePaths: [join(name === "agensight@base" ? BASE : APP, "node_modules"), join(ROOT, "node_modules")],
    external: ["node:*"],
    logLevel: "silent",
    plugins: [
      {
        name: "wasm-module",
        setup(b) {
          b.onResolve({ filter: /\.wasm$/ }, (a) => {
            const path = a.path.startsWith("/") ? a.path : join(a.resolveDir, a.path);
            wasmFiles.push(path);
            return { path: "./" + path.split("/").pop(), external: true };
          });
        },
      },
    ],
  });
  for (const w of wasmFiles) copyFileSync(w, join(dir, w.split("/").pop()));
  const port = await freePort();
  const modules = [`(name = "worker.js", esModule = embed "worker.js")`, ...wasmFiles.map((w) => `(name = "${w.split("/").pop()}", wasm = embed "${w.split("/").pop()}")`)];
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ ${modules.join(", ")} ],
  compatibilityDate = "2025-01-01",
  compatibilityFlags = ["nodejs_compat"],
);
`,
  );
  return { dir, port, bytes: readFileSync(join(dir, "worker.js")).length };
}

/** CPU ms process `pid` ran so far, all its threads (--cpu). */
function cpuMs(pid) {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
  return ns / 1e6;
}

/** ms from spawning workerd to the first 200 response (and workerd's CPU ms until then, with
 * --cpu); throws with workerd's output on failure. */
async function workerdOnce({ dir, port }) {
  const t0 = performance.now();
  const child = spawn(WORKERD, ["serve", join(dir, "config.capnp")], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  let exited = null;
  child.once("exit", (code, sig) => (exited = `exited with ${sig ?? code}`));
  child.once("error", (e) => (exited = e.message));
  try {
    for (;;) {
      if (exited) throw new Error(`workerd ${exited}: ${output.slice(-1500)}`);
      if (performance.now() - t0 > 20000) throw new Error(`workerd: no response after 20 s: ${output.slice(-1500)}`);
      let res;
      try {
        res = await fetch(`http://127.0.0.1:${port}/`);
      } catch {
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      const body = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`workerd answered ${res.status}: ${body.slice(0, 500)} ${output.slice(-1500)}`);
      return { ms, cpuMs: args.cpu ? cpuMs(child.pid) : undefined };
    }
  } finally {
    if (!exited) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  }
}

const workerd = { available: existsSync(WORKERD), cases: {} };
if (workerd.available) {
  const hasEntry = JSON.stringify(JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")).exports ?? {}).includes('"workerd"');
  const prepared = {};
  for (const name of Object.keys(sources)) {
    if ((name.startsWith("agensight") || name.startsWith("step:")) && !hasEntry) {
      workerd.cases[name] = { error: "the installed package has no workerd entry" };
      continue;
    }
    try {
      prepared[name] = await prepare(name);
      await workerdOnce(prepared[name]); // warm-up, and check that it works at all
      workerd.cases[name] = { runs: [], ...(args.cpu ? { cpuRuns: [] } : {}), bundleBytes: prepared[name].bytes };
    } catch (e) {
      workerd.cases[name] = { error: String(e.message).split("\n").slice(0, 3).join(" ").slice(0, 300) };
      delete prepared[name];
    }
  }
  for (let i = 0; i < WORKERD_RUNS; i++) {
    for (const name of Object.keys(prepared)) {
      const { ms, cpuMs } = await workerdOnce(prepared[name]);
      workerd.cases[name].runs.push(ms);
      workerd.cases[name].cpuRuns?.push(cpuMs);
    }
  }
  for (const c of Object.values(workerd.cases)) {
    if (c.runs) c.firstResponseMs = median(c.runs);
    if (c.cpuRuns) c.cpuMs = median(c.cpuRuns);
  }
  const cpu = (c) => (c.cpuMs === undefined ? "" : ` (CPU ${c.cpuMs.toFixed(1)})`);
  process.stderr.write(`[cold] workerd first response: ${Object.entries(workerd.cases).map(([k, c]) => `${k} ${c.error ? "error: " + c.error : c.firstResponseMs.toFixed(1) + " ms" + cpu(c)}`).join(", ")}\n`);
}

process.stdout.write(JSON.stringify({ runs: RUNS, node, workerd }) + "\n");
