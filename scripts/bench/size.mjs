// Package size: what agensight-wasm ships (the .wasm, and the JS a Node app loads, bundled and
// minified with esbuild like the peers) beside the peers bundled and minified with esbuild:
// OpenTelemetry JS (api + sdk-trace-base + OTLP/HTTP exporter) and LangSmith (`traceable`).
// Raw, gzip (level 9) and brotli (quality 11) bytes via node:zlib.
//
//   node scripts/bench/size.mjs [--pkg=DIR]     (default: the installed tarball's package)
// Prints one JSON object (stdout).

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { build } from "esbuild";
import { ROOT } from "./lib.mjs";
import { installPackage, PACKAGE } from "../../tests/support/package.mjs";

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, "").split("="); return [k, v.length ? v.join("=") : "true"]; }));

function sizes(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length,
  };
}
const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

async function bundle(contents, platform, resolveDir = ROOT) {
  const r = await build({
    stdin: { contents, resolveDir, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform,
    target: "es2022",
    write: false,
    logLevel: "silent",
    external: ["node:*"],
  });
  return Buffer.from(r.outputFiles[0].contents);
}

if (!args.pkg) await installPackage();
const pkg = args.pkg ? resolve(args.pkg) : PACKAGE;
const wasm = readFileSync(join(pkg, "wasm/agensight_wasm_bg.wasm"));
// What `import { init, trace, span, flush } from "agensight-wasm"` loads in Node.
const js = await bundle(`export { init, trace, span, flush } from ${JSON.stringify(join(pkg, "node.mjs"))};`, "node");
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
const otelBrowser = await bundle(otelEntry, "browser");
const otelNode = await bundle(otelEntry + `\nexport { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";`, "node");
const langsmith = await bundle(`export { traceable } from "langsmith/traceable"; export { Client } from "langsmith";`, "node");

const w = sizes(wasm);
const j = sizes(js);
const result = {
  agensight: { wasm: w, js: j, total: add(w, j), shippedFiles, shippedBytes },
  otelBrowser: sizes(otelBrowser),
  otelNode: sizes(otelNode),
  langsmith: sizes(langsmith),
};
process.stderr.write(`[size] agensight wasm+js gzip ${result.agensight.total.gzip} B, OpenTelemetry (browser) gzip ${result.otelBrowser.gzip} B, (node) ${result.otelNode.gzip} B, LangSmith gzip ${result.langsmith.gzip} B\n`);
process.stdout.write(JSON.stringify(result) + "\n");
