// Package size: what a worker or a page ships, beside the peers doing the same job.
//
// What a worker or page ships (`apps`): the .wasm plus the JS of a minimal app bundled and
// minified with esbuild (ESM, es2022) for the browser (conditions `browser`, the page and web
// worker entry) and for workerd (conditions `workerd`, `worker`, `browser`, as wrangler
// resolves): `init()` + a trace with a child span + `flush()` (APP), and the same with an
// OpenAI client wrapped (APP_OPENAI; the `openai` SDK itself is left external everywhere: it is
// the app's, not the tracer's). gzip of each file apart (the .wasm and the JS are two
// downloads). The .wasm is left external (the browser entry fetches it, workerd imports it as
// a module) and counted once.
//
// Peers, the same two apps bundled the same way for the browser: Langfuse's edge stack
// (`@langfuse/tracing` + `@langfuse/otel` + `@langfuse/openai` on OpenTelemetry's
// sdk-trace-base, its span processor exporting over OTLP/HTTP) and LangSmith (`traceable` +
// `langsmith/wrappers/openai`), pinned in scripts/bench/peers.json (installed by peers.mjs).
// Also, as before: OpenTelemetry JS (api + sdk-trace-base + OTLP/HTTP exporter, browser and
// Node builds), LangSmith `traceable` + Client for Node, and the JS the Node entry loads.
// Raw, gzip (level 9) and brotli (quality 11) bytes via node:zlib.
//
//   node scripts/bench/size.mjs [--pkg=DIR]     (default: the installed tarball's package)
// Prints one JSON object (stdout).

import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { build } from "esbuild";
import { OUT, ROOT } from "./lib.mjs";
import { ensurePeers, PEER_VERSIONS } from "./peers.mjs";
import { APP as INSTALLED_APP, installPackage, PACKAGE } from "../../tests/support/package.mjs";

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, "").split("="); return [k, v.length ? v.join("=") : "true"]; }));

function sizes(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length,
  };
}
const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

/** The conditions each target resolves the package with (esbuild adds `import`, `default`). */
export const TARGETS = {
  browser: { platform: "browser", conditions: ["browser"] },
  workerd: { platform: "browser", conditions: ["workerd", "worker", "browser"] },
};

/**
 * Bundles `contents` (an ES module) from `resolveDir`, minified; returns the JS bytes and
 * esbuild's metafile. `.wasm` imports, `node:*` and the `openai` SDK stay external.
 */
export async function bundle(contents, { resolveDir, platform = "browser", conditions, external = [] }) {
  const r = await build({
    stdin: { contents, resolveDir, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform,
    conditions,
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    external: ["node:*", "*.wasm", "*.wasm?module", "openai", ...external],
  });
  return { js: Buffer.from(r.outputFiles[0].contents), metafile: r.metafile };
}

/** The minimal app: init, a trace with a child span, flush. */
export const APP = `import { init, trace, span, flush } from "agensight-wasm";
init({ name: "chat-service" });
const llm = span(async (question) => "answer to " + question, { name: "llm" });
export const chat = trace(async (question) => llm(question), { name: "chat" });
export const done = () => flush();
`;
/** The same with an OpenAI client wrapped. */
export const APP_OPENAI = `${APP}import OpenAI from "openai";
import { wrapOpenAI } from "agensight-wasm";
export const client = wrapOpenAI(new OpenAI());
`;

const LANGFUSE = `import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import { setLangfuseTracerProvider, startActiveObservation } from "@langfuse/tracing";
const processor = new LangfuseSpanProcessor({ publicKey: "pk-lf-1", secretKey: "sk-lf-1", baseUrl: "https://langfuse.example" });
setLangfuseTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }));
const llm = (question) => startActiveObservation("llm", async (o) => { o.update({ input: question }); return "answer to " + question; });
export const chat = (question) => startActiveObservation("chat", async () => llm(question));
export const done = () => processor.forceFlush();
`;
const LANGFUSE_OPENAI = `${LANGFUSE}import OpenAI from "openai";
import { observeOpenAI } from "@langfuse/openai";
export const client = observeOpenAI(new OpenAI());
`;
const LANGSMITH = `import { traceable } from "langsmith/traceable";
const llm = traceable(async (question) => "answer to " + question, { name: "llm" });
export const chat = traceable(async (question) => llm(question), { name: "chat" });
`;
const LANGSMITH_OPENAI = `${LANGSMITH}import OpenAI from "openai";
import { wrapOpenAI } from "langsmith/wrappers/openai";
export const client = wrapOpenAI(new OpenAI());
`;

/** A project whose node_modules/agensight-wasm is `pkg` (for --pkg=DIR). */
function projectFor(pkg) {
  const dir = join(OUT, "size-app");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(pkg, join(dir, "node_modules/agensight-wasm"), "dir");
  return dir;
}

async function main() {
  if (!args.pkg) await installPackage();
  const pkg = args.pkg ? resolve(args.pkg) : PACKAGE;
  const app = args.pkg ? projectFor(pkg) : INSTALLED_APP;
  const peers = await ensurePeers();
  const wasm = readFileSync(join(pkg, "wasm/agensight_wasm_bg.wasm"));
  const w = sizes(wasm);

  const apps = {};
  for (const [target, t] of Object.entries(TARGETS)) {
    apps[target] = {};
    for (const [name, src] of [["minimal", APP], ["openai", APP_OPENAI]]) {
      const j = sizes((await bundle(src, { resolveDir: app, ...t })).js);
      apps[target][name] = { js: j, total: add(w, j) };
    }
  }
  const peerApp = async (src) => sizes((await bundle(src, { resolveDir: peers })).js);
  const langfuse = { minimal: await peerApp(LANGFUSE), openai: await peerApp(LANGFUSE_OPENAI) };
  const langsmithApps = { minimal: await peerApp(LANGSMITH), openai: await peerApp(LANGSMITH_OPENAI) };

  // What `import { init, trace, span, flush } from "agensight-wasm"` loads in Node (as before).
  const js = (await bundle(`export { init, trace, span, flush } from "agensight-wasm";`, { resolveDir: app, platform: "node", conditions: ["node"] })).js;
  let shippedFiles = 0;
  let shippedBytes = 0;
  (function walk(dir) {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (/\.(m?js|wasm)$/.test(n)) {
        shippedFiles++;
        shippedBytes += st.size;
      }
    }
  })(pkg);

  const otelEntry = `export { trace, context } from "@opentelemetry/api";
export { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
export { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";`;
  const otelBrowser = (await bundle(otelEntry, { resolveDir: ROOT })).js;
  const otelNode = (await bundle(otelEntry + `\nexport { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";`, { resolveDir: ROOT, platform: "node" })).js;
  const langsmith = (await bundle(`export { traceable } from "langsmith/traceable"; export { Client } from "langsmith";`, { resolveDir: ROOT, platform: "node" })).js;

  const j = sizes(js);
  const result = {
    agensight: { wasm: w, js: j, total: add(w, j), shippedFiles, shippedBytes },
    apps,
    langfuse,
    langsmithApps,
    peerVersions: PEER_VERSIONS,
    otelBrowser: sizes(otelBrowser),
    otelNode: sizes(otelNode),
    langsmith: sizes(langsmith),
  };
  const k = (n) => (n / 1024).toFixed(1);
  process.stderr.write(
    `[size] gzip KB, wasm ${k(w.gzip)}; page (browser) ${k(apps.browser.minimal.total.gzip)} (JS ${k(apps.browser.minimal.js.gzip)}), with OpenAI ${k(apps.browser.openai.total.gzip)}; ` +
      `worker (workerd) ${k(apps.workerd.minimal.total.gzip)} (JS ${k(apps.workerd.minimal.js.gzip)}), with OpenAI ${k(apps.workerd.openai.total.gzip)}; ` +
      `Langfuse ${k(langfuse.minimal.gzip)} / ${k(langfuse.openai.gzip)}; LangSmith ${k(langsmithApps.minimal.gzip)} / ${k(langsmithApps.openai.gzip)}\n`,
  );
  process.stdout.write(JSON.stringify(result) + "\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
