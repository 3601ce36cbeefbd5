// Vercel's `edge-runtime` package (the runtime `vercel dev` runs Edge Functions in): the
// function is bundled as Vercel's builder does it (esbuild, the `edge-light` condition first,
// a CommonJS bundle evaluated as a script, `.wasm?module` imports bound to globals holding
// modules compiled outside the function), then served by the runtime with code generation
// from strings AND from WebAssembly bytes forbidden, as on Vercel Edge. A real request's spans
// arrive at an OTLP receiver on 127.0.0.1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { APP_SOURCE, APP_TREE, assertTree, project } from "./support/project.mjs";
import { importTool } from "./support/tools.mjs";
import { freePort } from "../runtimes/harness.mjs";
import { attrs, otlpReceiver } from "../export/receivers.mjs";

let receiver;
let dir;

before(async () => {
  receiver = await otlpReceiver();
  dir = await project("edge-runtime", {
    "app.mjs": APP_SOURCE(),
    "api/chat.js": `import { traced } from "../app.mjs";
export const config = { runtime: "edge" };
export default async function handler(request) {
  const url = new URL(request.url);
  return Response.json(await traced("vercel-edge-runtime", url.searchParams.get("otlp"), "what is the weather"));
}
`,
  });
});

after(() => receiver?.close());

/**
 * Vercel's way with `.wasm?module` (its edge-functions bridge): each such import becomes a
 * global named after the file's hash, which the platform fills with a compiled module.
 */
function wasmModulePlugin(bindings) {
  return {
    name: "vercel-edge-wasm",
    setup(b) {
      b.onResolve({ filter: /\.wasm\?module$/ }, async (args) => {
        const file = await b.resolve(args.path.replace(/\?module$/, ""), { importer: args.importer, resolveDir: args.resolveDir, kind: args.kind });
        if (file.errors.length) return { errors: file.errors };
        const name = `wasm_${createHash("sha1").update(readFileSync(file.path)).digest("hex")}`;
        bindings.set(name, file.path);
        return { path: name, namespace: "vercel-edge-wasm" };
      });
      b.onLoad({ filter: /.*/, namespace: "vercel-edge-wasm" }, (args) => ({ contents: `export default globalThis[${JSON.stringify(args.path)}];`, loader: "js" }));
    },
  };
}

test("edge-runtime: an Edge Function bundled with edge-light exports its spans, with no runtime compilation", async () => {
  const esbuild = await importTool("esbuild");
  const { EdgeRuntime, runServer } = await importTool("edge-runtime");
  const bindings = new Map();
  const built = await esbuild.build({
    entryPoints: [join(dir, "api/chat.js")],
    bundle: true,
    write: false,
    format: "cjs",
    platform: "neutral",
    target: "es2022",
    conditions: ["edge-light", "worker", "browser", "module", "import", "require"],
    mainFields: ["browser", "module", "main"],
    plugins: [wasmModulePlugin(bindings)],
    logLevel: "silent",
    metafile: true,
  });
  const inputs = Object.keys(built.metafile.inputs).map((p) => p.replace(/^.*node_modules\/agensight-wasm\//, ""));
  assert.ok(inputs.includes("edge.mjs"), `the edge-light entry: ${inputs}`);
  assert.equal(bindings.size, 1, "one Wasm module binding");
  const code = `const module = { exports: {} };
(function (module, exports) {
${built.outputFiles[0].text}
})(module, module.exports);
addEventListener("fetch", (event) => event.respondWith(module.exports.default(event.request)));
`;
  const modules = {};
  for (const [name, path] of bindings) modules[name] = await WebAssembly.compile(readFileSync(path));
  const runtime = new EdgeRuntime({
    initialCode: code,
    codeGeneration: { strings: false, wasm: false },
    extend: (context) => Object.assign(context, modules),
  });
  const port = await freePort();
  const server = await runServer({ runtime, port, host: "127.0.0.1" });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/chat?otlp=${encodeURIComponent(receiver.url)}`);
    const body = await res.text();
    assert.equal(res.status, 200, body);
    const { result, flushed } = JSON.parse(body);
    assert.deepEqual(result, { docs: ["doc about what is the weather"], tokens: 4 });
    assert.deepEqual(flushed, { exported: 4, failed: 0, pending: 0, dropped: 0 });
    assertTree(receiver, "vercel-edge-runtime", APP_TREE, { attrs });
  } finally {
    await server.close();
  }
});
