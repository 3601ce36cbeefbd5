// The scenario suite and instrumentWorker in workerd (its real binary, the `workerd` npm
// package). The worker is bundled from the installed tarball with esbuild the way wrangler does
// it (conditions workerd/worker/browser, the .wasm kept as a module of its own, no Node
// built-ins resolvable), and served by a config this test writes: without compatibility flags
// (sync-stack context), with nodejs_als and with nodejs_compat (AsyncLocalStorage).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { checkReport } from "./check.mjs";
import { SCENARIOS_URL, devBinary, freePort, ownApp } from "./harness.mjs";

const APP = await ownApp("workerd");

const WASM = join(APP, "node_modules/agensight-wasm/wasm/agensight_wasm_bg.wasm");
const REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SPAN = "00f067aa0ba902b7";

const workerSource = (runtime) => `
import * as api from "agensight-wasm";
import { runScenarios } from ${JSON.stringify(fileURLToPath(SCENARIOS_URL))};
const { init, instrumentWorker, readLocal, trace, span, inject } = api;

// At global scope, as workers usually do: no randomness or clock here; completed at the first request.
init({ name: "edge", session: "edge-session" });

// A trace run at global scope, before the entry's import("node:async_hooks") has settled:
// across its await it keeps its context where the worker has AsyncLocalStorage.
const early = {};
trace(async () => {
  early.before = api.currentTraceId() ?? null;
  await Promise.resolve();
  early.after = api.currentTraceId() ?? null;
}, "early")();

const background = span(async (what) => {
  await new Promise((r) => setTimeout(r, 30));
  return what;
}, "background");
const downstream = span(async () => inject({}).traceparent ?? null, "downstream");
let waitUntilSettled = false;

const app = instrumentWorker({
  marker: "kept",
  async fetch(request, env, ctx) {
    ctx.waitUntil(background("after the response").then(() => { waitUntilSettled = true; }));
    if (new URL(request.url).pathname === "/fail") throw new Error("handler failed");
    // The ctx proxy keeps the real methods working (not on /fail: it would pass the request on).
    ctx.passThroughOnException();
    const traceparent = await downstream();
    return Response.json({ traceparent, marker: this.marker });
  },
});

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/scenarios") return Response.json(await runScenarios(api, { runtime: ${JSON.stringify(runtime)} }));
    if (pathname === "/records") return Response.json({ waitUntilSettled, early, local: await readLocal() });
    if (pathname === "/dev-init") {
      init({ name: "edge", mode: "dev", exporter: "otlp", protocol: "http/json", endpoint: new URL(request.url).searchParams.get("endpoint") });
      return new Response("ok");
    }
    return app.fetch(request, env, ctx);
  },
};
`;

async function startWorkerd(label, flags) {
  const dir = join(APP, `workerd-${label}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "src.mjs"), workerSource(`workerd-${label}`));
  await build({
    entryPoints: [join(dir, "src.mjs")],
    outfile: join(dir, "worker.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    nodePaths: [join(APP, "node_modules")],
    logLevel: "error",
    plugins: [
      {
        name: "wasm-module",
        setup(b) {
          // As wrangler does: a .wasm import stays an import of a compiled Wasm module.
          b.onResolve({ filter: /\.wasm$/ }, () => ({ path: "./agensight_wasm_bg.wasm", external: true }));
        },
      },
    ],
  });
  copyFileSync(WASM, join(dir, "agensight_wasm_bg.wasm"));
  const port = await freePort();
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "net", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "agensight_wasm_bg.wasm", wasm = embed "agensight_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  compatibilityFlags = [${flags.map((f) => JSON.stringify(f)).join(", ")}],
  globalOutbound = "net",
);
`,
  );
  const bin = devBinary("workerd");
  const child = spawn(bin, ["serve", join(dir, "config.capnp")], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  let exited = null;
  const started = new Promise((resolve) => child.once("error", (e) => resolve((exited = `cannot start ${bin}: ${e.code ?? e.message}`))));
  child.once("exit", (code, signal) => (exited ??= `exited with ${signal ?? code}`));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    if (exited === null) child.kill("SIGTERM");
  };
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`workerd (${label}): ${exited}. Run scripts/bootstrap --test to install it.\n${output.slice(-3000)}`);
    try {
      await fetch(`${url}/records`);
      break;
    } catch {}
    if (i > 150) {
      stop();
      throw new Error(`workerd (${label}): not listening on ${url} after 15 s\n${output.slice(-3000)}`);
    }
    await Promise.race([started, new Promise((r) => setTimeout(r, 100))]);
  }
  return { url, stop, output: () => output };
}

/** An OTLP/HTTP JSON receiver on 127.0.0.1 that keeps every span it is sent. */
async function otlpReceiver() {
  const spans = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      try {
        for (const rs of JSON.parse(body).resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      } catch {}
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, spans, close: () => new Promise((r) => server.close(r)) };
}

async function getJson(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

for (const [label, flags, context] of [
  ["no-flags", [], "sync"],
  ["nodejs_als", ["nodejs_als"], "async"],
  ["nodejs_compat", ["nodejs_compat"], "async"],
]) {
  test(`workerd (${flags.length ? flags.join(", ") : "no compatibility flags"}): instrumentWorker, then the scenario suite (${context} context)`, async () => {
    const w = await startWorkerd(label, flags);
    try {
      // instrumentWorker: a trace continuing the incoming traceparent, waitUntil work included.
      const r = await getJson(`${w.url}/chat?q=1`, { method: "POST", headers: { traceparent: `00-${REMOTE_TRACE}-${REMOTE_SPAN}-01` } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.marker, "kept", "the handler object's other properties and `this` are kept");
      let records;
      for (let i = 0; i < 50; i++) {
        records = (await getJson(`${w.url}/records`)).body;
        if (records.waitUntilSettled && records.local.traces.some((t) => t.spans.some((s) => s.name === "background"))) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      // With nodejs_compat a trace at global scope has AsyncLocalStorage from its first call;
      // with nodejs_als only once the import has settled (the stack until then).
      assert.match(records.early.before ?? "", /^[0-9a-f-]{32,36}$/, JSON.stringify(records.early));
      assert.equal(records.early.after, label === "nodejs_compat" ? records.early.before : null, JSON.stringify(records.early));
      const t = records.local.traces.find((x) => x.id.replaceAll("-", "") === REMOTE_TRACE);
      assert.ok(t, `a trace continuing ${REMOTE_TRACE}: ${JSON.stringify(records.local.traces.map((x) => [x.id, x.name]))}`);
      assert.equal(t.name, "POST /chat");
      const [root, ...children] = t.spans;
      assert.deepEqual([root.name, root.kind, root.parent_id, root.status], ["POST /chat", "fetch", REMOTE_SPAN, "ok"]);
      assert.deepEqual(root.attributes.input, [{ method: "POST", url: `${w.url}/chat?q=1` }]);
      assert.deepEqual(root.attributes.output, { status: 200 });
      assert.deepEqual(children.map((s) => [s.name, s.parent_id]).sort(), [["background", root.id], ["downstream", root.id]]);
      const downstream = children.find((s) => s.name === "downstream");
      assert.equal(r.body.traceparent, `00-${REMOTE_TRACE}-${downstream.id}-01`, "inject() inside the handler carries the trace on");
      assert.equal(t.session_id, "edge-session");
      const session = records.local.sessions.find((s) => s.id === "edge-session");
      assert.ok(session.started_at > 1.6e9, `init() at global scope is completed at the first request (session started_at ${session.started_at})`);

      // A handler that throws: the error is recorded and the request still fails as it would.
      const failed = await fetch(`${w.url}/fail`);
      assert.equal(failed.status, 500);
      await failed.text();
      const after = (await getJson(`${w.url}/records`)).body.local.traces.find((x) => x.name === "GET /fail");
      assert.deepEqual([after?.status, after?.spans[0].attributes["error.message"]], ["error", "handler failed"]);

      // The scenario suite (it calls init() again, which empties the memory store).
      const s = await getJson(`${w.url}/scenarios`);
      assert.equal(s.status, 200, typeof s.body === "string" ? s.body : JSON.stringify(s.body));
      checkReport(s.body, { context });

      // mode "dev": the export is sent from the handler's ctx.waitUntil, after its own work.
      const otlp = await otlpReceiver();
      try {
        assert.equal((await fetch(`${w.url}/dev-init?endpoint=${encodeURIComponent(`${otlp.url}/v1/traces`)}`)).status, 200);
        const d = await fetch(`${w.url}/dev-chat`, { method: "POST", headers: { traceparent: `00-${REMOTE_TRACE}-${REMOTE_SPAN}-01` } });
        assert.equal(d.status, 200);
        await d.text();
        const names = () => otlp.spans.filter((x) => x.traceId === REMOTE_TRACE).map((x) => x.name).sort();
        for (let i = 0; i < 100 && names().length < 3; i++) await new Promise((res) => setTimeout(res, 20));
        assert.deepEqual(names(), ["POST /dev-chat", "background", "downstream"], "the request's spans, the waitUntil work's included, reached the receiver");
        const root = otlp.spans.find((x) => x.name === "POST /dev-chat");
        assert.equal(root.parentSpanId, REMOTE_SPAN);
      } finally {
        await otlp.close();
      }
      assert.doesNotMatch(w.output(), /agensight:/, "no warnings from the package");
    } finally {
      w.stop();
    }
  });
}

test("workerd entry bundles without Node built-ins (esbuild, platform neutral)", async () => {
  const r = await build({
    stdin: { contents: 'export * from "agensight-wasm";', resolveDir: APP },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    logLevel: "silent",
    metafile: true,
    plugins: [{ name: "wasm", setup: (b) => b.onResolve({ filter: /\.wasm$/ }, (a) => ({ path: a.path, external: true })) }],
  });
  const inputs = Object.keys(r.metafile.inputs).map((p) => p.replace(/^.*node_modules\/agensight-wasm\//, ""));
  assert.ok(inputs.includes("workerd.mjs"), `inputs: ${inputs}`);
  assert.doesNotMatch(r.outputFiles[0].text, /from\s*["']node:|require\(["']node:/);
});
