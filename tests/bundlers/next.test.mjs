// Next.js 16: edge routes (the `edge-light` condition) and a Node route, built with Turbopack
// (`next build`) and with webpack (`next build --webpack`), served by `next start` on
// 127.0.0.1; a real request to each route exports its spans to an OTLP receiver on 127.0.0.1.
// Routes: app/edge (App Router, `runtime = "edge"`; Turbopack only: Next 16.5's webpack build
// fails on any App Router edge route, even one that imports nothing, with ENOENT for
// route_client-reference-manifest.js), pages/api/edge (Pages Router, `runtime: "edge"`, both
// builders) and app/node (App Router, Node, both builders).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { APP_SOURCE, APP_TREE, assertTree, project, run, start } from "./support/project.mjs";
import { TOOLS, toolBin } from "./support/tools.mjs";
import { freePort } from "../runtimes/harness.mjs";
import { attrs, otlpReceiver } from "../export/receivers.mjs";

const route = (runtime, service) => `import { traced } from "../../lib/app.mjs";
export const runtime = ${JSON.stringify(runtime)};
export const dynamic = "force-dynamic";
export async function GET(request) {
  const url = new URL(request.url);
  return Response.json(await traced(${JSON.stringify(service)} + "-" + url.searchParams.get("builder"), url.searchParams.get("otlp"), "what is the weather"));
}
`;

const pagesRoute = `import { traced } from "../../lib/app.mjs";
export const config = { runtime: "edge" };
export default async function handler(request) {
  const url = new URL(request.url);
  return Response.json(await traced("next-pages-edge-" + url.searchParams.get("builder"), url.searchParams.get("otlp"), "what is the weather"));
}
`;

const files = (builder) => ({
  "lib/app.mjs": APP_SOURCE(),
  ...(builder === "turbopack" ? { "app/edge/route.js": route("edge", "next-edge") } : {}),
  "app/node/route.js": route("nodejs", "next-node"),
  "pages/api/edge.js": pagesRoute,
  "app/layout.js": "export default function Layout({ children }) { return children; }\n",
  // The tools' directory is the workspace root (it holds next; without this Next guesses from lockfiles).
  "next.config.mjs": `export default { outputFileTracingRoot: ${JSON.stringify(TOOLS)}, turbopack: { root: ${JSON.stringify(TOOLS)} } };\n`,
});

const builders = { turbopack: [], webpack: ["--webpack"] };
const ROUTES = { turbopack: { edge: "next-edge", node: "next-node", "api/edge": "next-pages-edge" }, webpack: { node: "next-node", "api/edge": "next-pages-edge" } };
const dirs = {};
let receiver;

before(async () => {
  receiver = await otlpReceiver();
  const next = toolBin("next");
  // Both builds at once: each waits on I/O part of the time.
  await Promise.all(
    Object.entries(builders).map(async ([builder, flags]) => {
      const dir = await project(`next-${builder}`, files(builder));
      const { stdout, stderr } = await run(`next build ${flags.join(" ")}`, next, ["build", ...flags], { cwd: dir, env: { NEXT_TELEMETRY_DISABLED: "1" }, timeoutMs: 480000 });
      // Next evaluates the routes while it collects page data: the package loads there too.
      assert.doesNotMatch(stdout + stderr, /agensight:|Dynamic WASM/, `next build ${flags.join(" ")}: no warning from the package`);
      dirs[builder] = dir;
    }),
  );
});

after(() => receiver?.close());

for (const builder of Object.keys(builders)) {
  test(`next start (${builder} build): ${Object.keys(ROUTES[builder]).join(", ")} export their spans`, async () => {
    const port = await freePort();
    const server = await start(`next start (${builder})`, toolBin("next"), ["start", "-p", String(port), "-H", "127.0.0.1"], {
      cwd: dirs[builder],
      env: { NEXT_TELEMETRY_DISABLED: "1" },
      ready: /Ready in|started server/i,
    });
    try {
      for (const [kind, service] of Object.entries(ROUTES[builder])) {
        const res = await fetch(`http://127.0.0.1:${port}/${kind}?builder=${builder}&otlp=${encodeURIComponent(receiver.url)}`);
        const body = await res.text();
        assert.equal(res.status, 200, `${kind} route: ${body}\n${server.output().slice(-3000)}`);
        const { result, flushed } = JSON.parse(body);
        assert.deepEqual(result, { docs: ["doc about what is the weather"], tokens: 4 });
        assert.deepEqual(flushed, { exported: 4, failed: 0, pending: 0, dropped: 0 }, `${kind} route flush\n${server.output().slice(-3000)}`);
        assertTree(receiver, `${service}-${builder}`, APP_TREE, { attrs });
      }
      assert.doesNotMatch(server.output(), /agensight:|WebAssembly|Dynamic WASM/, "no warning from the package or Next");
    } finally {
      await server.stop();
    }
  });
}

test("the webpack edge build takes the .wasm as a Wasm module binding (no runtime compilation)", () => {
  const manifest = JSON.parse(readFileSync(join(dirs.webpack, ".next/server/middleware-manifest.json"), "utf8"));
  const fn = Object.values(manifest.functions).find((f) => f.page === "/api/edge");
  assert.ok(fn, `the edge route is an edge function: ${Object.keys(manifest.functions)}`);
  assert.equal(fn.wasm?.length, 1, `one Wasm binding: ${JSON.stringify(fn.wasm)}`);
  assert.ok(existsSync(join(dirs.webpack, ".next", fn.wasm[0].filePath)), fn.wasm[0].filePath);
});
