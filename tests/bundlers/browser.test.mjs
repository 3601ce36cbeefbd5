// Browser bundles built by the real tools and run in headless Chromium (Debian's, driven by
// playwright-core): Vite 8 (default config), webpack 5, esbuild and Rollup, each with a page, a
// module web worker and a module service worker. Each site is served by a tiny static server
// of its own on 127.0.0.1 (its own origin); a real traced call exports its spans to an OTLP
// receiver on 127.0.0.1 (another origin, CORS), and the test checks the tree.
// esbuild and Rollup ship no .wasm assets: they use `agensight-wasm/inline` (the README's one
// step for them). Vite and webpack use the plain package (`new URL(..., import.meta.url)`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { APP_SOURCE, APP_TREE, assertTree, project, staticServer } from "./support/project.mjs";
import { importTool } from "./support/tools.mjs";
import { attrs, otlpReceiver } from "../export/receivers.mjs";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
const MODES = ["page", "worker", "sw"];
const TOOLS = ["vite", "webpack", "esbuild", "rollup"];
const QUESTION = "what is the weather";

/** The page: runs the traced call itself, in a module worker, or in a module service worker. */
const MAIN = (mode, { swUrl, swType }) => `import { traced } from "../app.mjs";
const params = new URLSearchParams(location.search);
const otlp = params.get("otlp");
const service = params.get("service");
async function run() {
  ${
    mode === "page"
      ? `return traced(service, otlp, ${JSON.stringify(QUESTION)});`
      : mode === "worker"
        ? `const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  const answer = new Promise((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => reject(new Error("worker: " + (e.message || "failed to load")));
  });
  worker.postMessage({ otlp, service }); // right away, as apps do
  return answer;`
        : `const registration = await navigator.serviceWorker.register(${swUrl}, { type: ${JSON.stringify(swType)} });
  const sw = registration.installing ?? registration.waiting ?? registration.active;
  const answer = new Promise((resolve) => navigator.serviceWorker.addEventListener("message", (e) => resolve(e.data)));
  sw.postMessage({ otlp, service });
  return answer;`
  }
}
run().then((r) => (window.__done = r), (e) => (window.__done = { error: String((e && e.stack) || e) }));
`;

const WORKER = `import { traced } from "../app.mjs";
self.onmessage = async (e) => {
  self.postMessage(await traced(e.data.service, e.data.otlp, ${JSON.stringify(QUESTION)}));
};
`;

const SW = `import { traced } from "../app.mjs";
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("message", (e) => {
  e.waitUntil(traced(e.data.service, e.data.otlp, ${JSON.stringify(QUESTION)}).then((r) => e.source.postMessage(r)));
});
`;

const HTML = (script) => `<!doctype html>\n<meta charset="utf-8">\n<title>agensight bundler test</title>\n${script}\n`;

/**
 * Where each tool's service worker URL comes from. webpack's default output is classic scripts
 * (chunks loaded with importScripts, which module workers do not have): its service worker is
 * registered as a classic one; the others build ES modules.
 */
const SW_TYPE = { vite: "module", webpack: "classic", esbuild: "module", rollup: "module" };
const SW_URL = {
  vite: `swUrl`,
  webpack: `new URL("./sw.js", import.meta.url)`,
  esbuild: `new URL("./sw.js", import.meta.url)`,
  rollup: `new URL("./sw.js", import.meta.url)`,
};

function sources(tool, mode) {
  const specifier = tool === "esbuild" || tool === "rollup" ? "agensight-wasm/inline" : "agensight-wasm";
  const main = (tool === "vite" && mode === "sw" ? `import swUrl from "./sw.js?worker&url";\n` : "") + MAIN(mode, { swUrl: SW_URL[tool], swType: SW_TYPE[tool] });
  return {
    "app.mjs": APP_SOURCE(specifier),
    [`${mode}/main.js`]: main,
    ...(mode === "worker" ? { [`${mode}/worker.js`]: WORKER } : {}),
    ...(mode === "sw" ? { [`${mode}/sw.js`]: SW } : {}),
    ...(tool === "vite" ? { [`${mode}/index.html`]: HTML(`<script type="module" src="./main.js"></script>`) } : {}),
  };
}

/** Builds one tool's site for one mode into <dir>/<mode>/dist; returns the dist directory. */
const BUILD = {
  async vite(dir, mode) {
    const { build } = await importTool("vite");
    await build({ root: join(dir, mode), logLevel: "warn", configFile: false });
    return join(dir, mode, "dist");
  },
  async webpack(dir, mode) {
    const { default: webpack } = await importTool("webpack");
    const out = join(dir, mode, "dist");
    const stats = await new Promise((resolve, reject) =>
      webpack({ mode: "production", context: join(dir, mode), entry: "./main.js", output: { path: out }, devtool: false }, (e, s) => (e ? reject(e) : resolve(s))),
    );
    if (stats.hasErrors()) throw new Error(`webpack: ${stats.toString("errors-only")}`);
    writeFileSync(join(out, "index.html"), HTML(`<script src="./main.js"></script>`));
    return out;
  },
  async esbuild(dir, mode) {
    const esbuild = await importTool("esbuild");
    const out = join(dir, mode, "dist");
    const entryPoints = ["main.js", "worker.js", "sw.js"].map((f) => join(dir, mode, f)).filter((f) => existsSync(f));
    await esbuild.build({ entryPoints, bundle: true, format: "esm", outdir: out, logLevel: "warning" });
    writeFileSync(join(out, "index.html"), HTML(`<script type="module" src="./main.js"></script>`));
    return out;
  },
  async rollup(dir, mode) {
    const { rollup } = await importTool("rollup");
    const { default: resolve } = await importTool("@rollup/plugin-node-resolve");
    const out = join(dir, mode, "dist");
    const input = Object.fromEntries(["main", "worker", "sw"].filter((f) => existsSync(join(dir, mode, `${f}.js`))).map((f) => [f, join(dir, mode, `${f}.js`)]));
    const bundle = await rollup({ input, plugins: [resolve({ browser: true })], onwarn: (w, next) => (w.code === "CIRCULAR_DEPENDENCY" ? null : next(w)) });
    await bundle.write({ dir: out, format: "es", entryFileNames: "[name].js" });
    await bundle.close();
    writeFileSync(join(out, "index.html"), HTML(`<script type="module" src="./main.js"></script>`));
    return out;
  },
};

let receiver;
let browser;
const sites = {}; // `${tool}-${mode}` -> dist directory, or the build's error
const servers = [];

before(async () => {
  receiver = await otlpReceiver({ cors: true });
  // Projects are installed in parallel; the builds run one tool at a time (each uses the CPU).
  const dirs = Object.fromEntries(await Promise.all(TOOLS.map(async (tool) => [tool, await project(`browser-${tool}`, Object.assign({}, ...MODES.map((m) => sources(tool, m))))])));
  for (const tool of TOOLS) {
    for (const mode of MODES) {
      try {
        sites[`${tool}-${mode}`] = await BUILD[tool](dirs[tool], mode);
      } catch (e) {
        sites[`${tool}-${mode}`] = e;
      }
    }
  }
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium: ${CHROMIUM} is missing. Run scripts/bootstrap --test (it installs Debian's chromium).`);
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30000 });
});

after(async () => {
  await browser?.close();
  for (const s of servers) await s.close();
  await receiver?.close();
});

async function runSite(site) {
  const dist = sites[site];
  if (dist instanceof Error) throw new Error(`the build failed: ${dist.message}`);
  const server = await staticServer(dist);
  servers.push(server);
  const context = await browser.newContext();
  const page = await context.newPage();
  const messages = [];
  page.on("console", (m) => messages.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => messages.push(`pageerror: ${e.message}`));
  try {
    const service = `browser-${site}`;
    await page.goto(server.url(`index.html?otlp=${encodeURIComponent(receiver.url)}&service=${service}`));
    const done = await page.waitForFunction(() => window.__done, null, { timeout: 30000 }).then(
      (h) => h.jsonValue(),
      () => ({ error: "no answer in 30 s" }),
    );
    if (done.error) throw new Error(`${done.error}\nconsole:\n${messages.join("\n")}`);
    assert.deepEqual(done.result, { docs: [`doc about ${QUESTION}`], tokens: 4 });
    assert.deepEqual(done.flushed, { exported: 4, failed: 0, pending: 0, dropped: 0 }, messages.join("\n"));
    assertTree(receiver, service, APP_TREE, { attrs });
    assert.deepEqual(messages.filter((m) => /agensight|pageerror|error:/i.test(m)), []);
  } finally {
    await context.close();
  }
}

for (const tool of TOOLS) {
  for (const mode of MODES) {
    test(`${tool}: ${mode === "page" ? "a page" : mode === "worker" ? "a module web worker" : `a ${SW_TYPE[tool]} service worker`}`, () => runSite(`${tool}-${mode}`));
  }
}
