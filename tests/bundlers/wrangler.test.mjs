// Cloudflare Workers with wrangler 4, with and without `nodejs_compat`: `wrangler deploy
// --dry-run --outdir` builds (the .wasm shipped as a Wasm module beside the bundle) and
// `wrangler dev` on 127.0.0.1, where a real request to an instrumentWorker handler exports its
// spans (from ctx.waitUntil) to an OTLP receiver on 127.0.0.1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { APP_SOURCE, APP_TREE, assertTree, project, run, start } from "./support/project.mjs";
import { toolBin } from "./support/tools.mjs";
import { freePort } from "../runtimes/harness.mjs";
import { ensureNode24 } from "../runtimes/node24.mjs";
import { attrs, otlpReceiver } from "../export/receivers.mjs";

const VARIANTS = { plain: [], nodejs_compat: ["nodejs_compat"] };
const ENV = { WRANGLER_SEND_METRICS: "false" };
let receiver;
const dirs = {};
// wrangler 4 requires Node 22.12+: it runs on the Node 24 the runtime matrix installs.
let node24;
const wrangler = (args) => [join(toolBin("wrangler"), "../../wrangler/bin/wrangler.js"), ...args];

const worker = (service, endpoint) => `import { init, instrumentWorker } from "agensight-wasm";
import { chat } from "./app.mjs";

// At global scope, as the README shows.
init({ name: ${JSON.stringify(service)}, mode: "prod", exporter: "otlp", endpoint: ${JSON.stringify(endpoint)}, storage: "memory" });

export default instrumentWorker({
  async fetch(request, env, ctx) {
    return Response.json(await chat(new URL(request.url).searchParams.get("q")));
  },
});
`;

before(async () => {
  node24 = ensureNode24();
  receiver = await otlpReceiver();
  await Promise.all(
    Object.entries(VARIANTS).map(async ([variant, flags]) => {
      dirs[variant] = await project(`wrangler-${variant}`, {
        "src/app.mjs": APP_SOURCE(),
        "src/index.mjs": worker(`wrangler-${variant}`, receiver.url),
        "wrangler.json": JSON.stringify({ name: `agensight-${variant.replace("_", "-")}`, main: "src/index.mjs", compatibility_date: "2025-09-01", compatibility_flags: flags }, null, 2),
      });
    }),
  );
});

after(() => receiver?.close());

for (const variant of Object.keys(VARIANTS)) {
  test(`wrangler deploy --dry-run (${variant}): the bundle imports the package's .wasm as a module`, async () => {
    const dir = dirs[variant];
    await run("wrangler deploy --dry-run", node24, wrangler(["deploy", "--dry-run", "--outdir", "dist"]), { cwd: dir, env: ENV, timeoutMs: 120000 });
    const out = readdirSync(join(dir, "dist"));
    const wasm = out.filter((f) => f.endsWith(".wasm"));
    assert.equal(wasm.length, 1, `one .wasm module in dist: ${out}`);
    assert.ok(readFileSync(join(dir, "dist", wasm[0])).equals(readFileSync(join(dir, "node_modules/agensight-wasm/wasm/agensight_wasm_bg.wasm"))), "the package's .wasm, unchanged");
    const bundle = readFileSync(join(dir, "dist/index.js"), "utf8");
    assert.match(bundle, new RegExp(`from "\\./${wasm[0].replace(/[.]/g, "\\.")}"`), "the bundle imports it as a module");
    assert.match(bundle, /^\/\/ node_modules\/agensight-wasm\/workerd\.mjs$/m, "the workerd entry");
    assert.doesNotMatch(bundle, /^\/\/ node_modules\/agensight-wasm\/(browser|edge|node)\.mjs$/m, "no other entry");
  });

  test(`wrangler dev (${variant}): a request's spans arrive with the right tree`, async () => {
    const [port, inspector] = [await freePort(), await freePort()];
    const dev = await start("wrangler dev", node24, wrangler(["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--show-interactive-dev-session=false"]), {
      cwd: dirs[variant],
      env: ENV,
      ready: /Ready on http/,
    });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/chat?q=what+is+the+weather`);
      assert.equal(res.status, 200, dev.output());
      assert.deepEqual(await res.json(), { docs: ["doc about what is the weather"], tokens: 4 });
      const service = `wrangler-${variant}`;
      const deadline = Date.now() + 15000;
      while (receiver.spans().filter((s) => attrs(s.resource?.attributes)["service.name"] === service).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assertTree(receiver, service, { "GET /chat": null, ...APP_TREE, chat: "GET /chat" }, { attrs });
      assert.doesNotMatch(dev.output(), /agensight:/, "no warning from the package");
    } finally {
      await dev.stop();
    }
  });
}
