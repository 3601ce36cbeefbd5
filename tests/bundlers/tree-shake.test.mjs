// What a bundle leaves out (HACKING.md, "What a bundle leaves out"): the app
// scripts/bench/size.mjs measures (init, a trace with a child span, flush) bundled with the
// pinned esbuild for every condition of the exports map, and with the pinned Rollup for the
// browser, against the installed tarball: its inputs (the bundler's own account: esbuild's
// metafile, Rollup's module list) hold none of the provider wrappers (providers.js,
// stream-end.js) and no integration. An app that imports `wrapOpenAI` gets providers.js and
// still no integration; `agensight-wasm/modules` brings instrumentModules and the Gemini
// wrapper. Then the wrappers work when bundled: the OpenAI app and the instrumentModules app,
// bundled for Node with the real `openai` SDK inside, run against the local OpenAI double and
// record the span tree. And each entry keeps only the wasm-bindgen loader it calls.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { APP, APP_OPENAI } from "../../scripts/bench/size.mjs";
import { fixture, startServer } from "../llm/server.mjs";
import { importTool } from "./support/tools.mjs";
import { project, run } from "./support/project.mjs";

const APP_WORKER = `${APP}import { instrumentWorker } from "agensight-wasm";
export default instrumentWorker({ fetch: async () => new Response(await chat("hi")) });
`;
// Called at the top level: webpack keeps no export of an entry without \`output.library\`.
const APP_READBACK = `${APP}import { readLocal } from "agensight-wasm";
globalThis.records = readLocal();
`;
const APP_MODULES = `${APP}import OpenAI from "openai";
import "agensight-wasm/modules";
init({ name: "chat-service", storage: "memory", instrumentModules: { openai: OpenAI } });
export const client = new OpenAI();
`;

/** Every condition set a user's bundler resolves the package with (the exports map's order). */
const CONDITIONS = {
  workerd: { platform: "browser", conditions: ["workerd", "worker", "browser"] },
  "edge-light": { platform: "browser", conditions: ["edge-light", "worker", "browser"] },
  worker: { platform: "browser", conditions: ["worker", "browser"] },
  deno: { platform: "neutral", conditions: ["deno"] },
  node: { platform: "node", conditions: ["node"] },
  browser: { platform: "browser", conditions: ["browser"] },
};

const dir = await project("tree-shake", { "minimal.mjs": APP, "openai.mjs": APP_OPENAI, "worker.mjs": APP_WORKER, "readback.mjs": APP_READBACK, "modules.mjs": APP_MODULES });
const esbuild = await importTool("esbuild");

/** esbuild's minified ESM bundle of `entry` for one condition set, with its metafile. */
function esbuildBundle(entry, { platform, conditions }, external = ["openai"]) {
  return esbuild.build({
    entryPoints: [join(dir, entry)],
    bundle: true,
    minify: true,
    format: "esm",
    platform,
    conditions,
    write: false,
    metafile: true,
    logLevel: "silent",
    external: ["node:*", "*.wasm", "*.wasm?module", ...external],
  });
}

/** The package files (paths inside agensight-wasm/) esbuild put in the bundle of `entry`. */
async function esbuildInputs(entry, c, external) {
  const r = await esbuildBundle(entry, c, external);
  // The output's inputs with bytes in it (metafile.inputs also lists what was read and dropped).
  const [out] = Object.values(r.metafile.outputs);
  return packageFiles(Object.entries(out.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([p]) => p));
}

const packageFiles = (paths) =>
  paths
    .map((p) => p.replace(/\\/g, "/").match(/node_modules\/agensight-wasm\/(.*)$/)?.[1])
    .filter(Boolean)
    .sort();
/** The files of the parts only some apps use that are in `files`. */
const PARTS = ["providers.js", "stream-end.js", "propagation.js", "worker.js", "readback.js"];
const wrappers = (files) => files.filter((f) => PARTS.includes(f) || f.startsWith("integrations/"));

test("esbuild, every condition: the minimal app's bundle has none of the parts only some apps use; each part comes with its export", async () => {
  for (const [name, c] of Object.entries(CONDITIONS)) {
    const minimal = await esbuildInputs("minimal.mjs", c);
    assert.ok(minimal.includes("core.js") && minimal.includes("spans.js"), `${name}: the inputs are read (${minimal})`);
    assert.deepEqual(wrappers(minimal), [], `${name}: minimal app`);
    assert.deepEqual(wrappers(await esbuildInputs("openai.mjs", c)), ["providers.js", "stream-end.js"], `${name}: with wrapOpenAI`);
    assert.deepEqual(wrappers(await esbuildInputs("worker.mjs", c)), ["propagation.js", "worker.js"], `${name}: with instrumentWorker`);
    assert.deepEqual(wrappers(await esbuildInputs("readback.mjs", c)), ["readback.js"], `${name}: with readLocal`);
    assert.deepEqual(wrappers(await esbuildInputs("modules.mjs", c)), ["integrations/chat-shape.js", "integrations/google-genai/shapes.js", "integrations/google-genai/streaming.js", "integrations/google-genai/wrap.js", "integrations/modules.js", "providers.js", "stream-end.js"], `${name}: with agensight-wasm/modules`);
  }
});

// wasm-bindgen's two loaders, by text each keeps when minified: the async one's fetch of the
// .wasm (instantiateStreaming) and initSync's warning about its old signature.
const ASYNC_LOADER = /instantiateStreaming/;
const SYNC_LOADER = /deprecated parameters for `initSync\(\)`/;

test("esbuild, every condition: the minimal app's bundle keeps only the wasm loader its entry calls, and the log of spans made while loading only where it loads asynchronously", async () => {
  const seen = new Set();
  for (const [name, c] of Object.entries(CONDITIONS)) {
    const r = await esbuildBundle("minimal.mjs", c);
    const js = r.outputFiles[0].text;
    const files = packageFiles(Object.entries(Object.values(r.metafile.outputs)[0].inputs).filter(([, i]) => i.bytesInOutput > 0).map(([p]) => p));
    if (["edge-entry.js", "node.mjs", "deno.mjs"].some((f) => files.includes(f))) {
      seen.add(name);
      assert.ok(!ASYNC_LOADER.test(js), `${name}: the entry instantiates synchronously, without the async loader`);
      assert.ok(SYNC_LOADER.test(js), `${name}: initSync is there`);
      assert.ok(!files.includes("pending.js"), `${name}: no pending.js (${files})`);
    } else if (files.includes("browser.mjs")) {
      seen.add(name);
      assert.ok(!SYNC_LOADER.test(js), `${name}: the browser entry loads asynchronously, without initSync`);
      assert.ok(ASYNC_LOADER.test(js), `${name}: the async loader is there`);
      assert.ok(files.includes("pending.js"), `${name}: pending.js (${files})`);
    }
  }
  assert.deepEqual([...seen].sort(), Object.keys(CONDITIONS).sort(), "every condition's entry was checked");
});

/** Each browser bundler's account of the package files in a bundle of `entry`. */
const BROWSER_BUNDLERS = {
  async rollup(entry) {
    const { rollup } = await importTool("rollup");
    const { nodeResolve } = await importTool("@rollup/plugin-node-resolve");
    const b = await rollup({
      input: join(dir, entry),
      external: (id) => id === "openai" || id.endsWith(".wasm"),
      plugins: [nodeResolve({ browser: true, exportConditions: ["browser"] })],
      onwarn: () => {},
    });
    const { output } = await b.generate({ format: "es" });
    await b.close();
    // Modules Rollup included with code left in the chunk.
    return packageFiles(Object.entries(output[0].modules).filter(([, m]) => m.renderedLength > 0).map(([id]) => id));
  },
  async webpack(entry) {
    const { default: webpack } = await importTool("webpack");
    const config = { mode: "production", context: dir, entry: `./${entry}`, output: { path: join(dir, "webpack", entry) }, externals: { openai: "openai" }, devtool: false };
    const stats = await new Promise((resolve, reject) => webpack(config, (e, s) => (e ? reject(e) : resolve(s))));
    if (stats.hasErrors()) throw new Error(`webpack: ${stats.toString("errors-only")}`);
    // The modules in the output (a concatenated module's parts included); orphans are the
    // originals of concatenated modules, or modules nothing uses.
    const names = [];
    const walk = (modules) => {
      for (const m of modules ?? []) {
        if (m.orphan) continue;
        names.push(m.name);
        walk(m.modules);
      }
    };
    walk(stats.toJson({ modules: true, nestedModules: true, orphanModules: true }).modules);
    return packageFiles(names);
  },
};

for (const [tool, modules] of Object.entries(BROWSER_BUNDLERS)) {
  test(`${tool}, browser: the same (its own account of the bundle's modules)`, async () => {
    const minimal = await modules("minimal.mjs");
    assert.ok(minimal.includes("core.js") && minimal.includes("spans.js"), `the module list is read (${minimal})`);
    assert.deepEqual(wrappers(minimal), []);
    assert.deepEqual(wrappers(await modules("openai.mjs")), ["providers.js", "stream-end.js"]);
    assert.deepEqual(wrappers(await modules("worker.mjs")), ["propagation.js", "worker.js"]);
    assert.deepEqual(wrappers(await modules("readback.mjs")), ["readback.js"]);
  });
}

test("bundled for Node with the openai SDK inside, wrapOpenAI and init({ instrumentModules }) trace the calls", async () => {
  const srv = await startServer();
  after(() => srv.close());
  const f = fixture("openai-chat-tools");
  const runner = (entry) => `import { chat, client, done } from "./${entry}";
import { init, readLocal, trace } from "agensight-wasm";
${entry === "openai.mjs" ? 'init({ name: "chat-service", storage: "memory" });' : ""}
const openai = client.withOptions({ apiKey: "sk-test", baseURL: process.env.BASE_URL, maxRetries: 0 });
const answer = await trace(async () => { await chat("hi"); return openai.chat.completions.create(${JSON.stringify(f.request)}); }, "main")();
await done();
const { traces } = await readLocal();
console.log(JSON.stringify({ id: answer.id, spans: traces.flatMap((t) => t.spans.map((s) => [s.name, s.kind, s.status, s.attributes["gen_ai.system"] ?? null])) }));
`;
  for (const entry of ["openai.mjs", "modules.mjs"]) {
    const file = `run-${entry}`;
    writeFileSync(join(dir, file), runner(entry));
    const out = join(dir, "dist", file);
    // `openai` bundled in from the root devDependencies (Node's lookup walks up to them).
    await esbuild.build({ entryPoints: [join(dir, file)], bundle: true, format: "esm", platform: "node", outfile: out, logLevel: "silent", external: ["*.wasm"] });
    srv.reply({ json: f.response });
    const { stdout } = await run(`node ${file}`, process.execPath, [out], { cwd: dir, env: { BASE_URL: `${srv.url}/v1`, OPENAI_API_KEY: "sk-test" } });
    const got = JSON.parse(stdout.trim().split("\n").pop());
    assert.equal(got.id, f.response.id, entry);
    assert.deepEqual(got.spans, [
      ["main", "trace", "ok", null],
      ["chat", "trace", "ok", null],
      ["llm", "span", "ok", null],
      ["openai.chat.completions.create", "llm", "ok", "openai"],
    ], entry);
  }
});
