// A worker bundled the way wrangler bundles it and served by the real workerd binary (the
// `workerd` npm package) on 127.0.0.1, for tests that run SDKs at the edge: esbuild with the
// conditions workerd/worker/browser, `agensight-wasm` (and its subpaths) from the packed
// tarball, the named SDKs from the repository, the .wasm as a module of its own; a config
// with the given text bindings and compatibility flags, and a network that allows loopback.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { installPackage, ROOT, PACKAGE } from "./package.mjs";
import { freePort } from "../runtimes/harness.mjs";

const WORKERD = join(ROOT, "node_modules/.bin/workerd");

/**
 * Bundles `source` (the worker's module text) into `dir` and serves it; resolves once it
 * answers `probe`. `fromRoot`: a RegExp of the bare imports taken from the repository's
 * node_modules (the SDKs under test).
 * @returns {Promise<{url: string, stop(): void, output(): string}>}
 */
export async function serveWorker({ dir, source, fromRoot, bindings = {}, flags = ["nodejs_als"], probe = "/" }) {
  const app = await installPackage();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "worker.mjs"), source);
  await build({
    entryPoints: [join(dir, "worker.mjs")],
    outfile: join(dir, "worker.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    logLevel: "error",
    plugins: [
      {
        name: "resolve",
        setup(b) {
          const from = (resolveDir) => (args) => (args.pluginData ? undefined : b.resolve(args.path, { kind: args.kind, resolveDir, pluginData: true }));
          b.onResolve({ filter: /^agensight-wasm(\/.*)?$/ }, from(app));
          if (fromRoot) b.onResolve({ filter: fromRoot }, from(ROOT));
          // As wrangler does: a .wasm import stays an import of a compiled Wasm module.
          b.onResolve({ filter: /\.wasm$/ }, () => ({ path: "./agensight_wasm_bg.wasm", external: true }));
        },
      },
    ],
  });
  copyFileSync(join(PACKAGE, "wasm/agensight_wasm_bg.wasm"), join(dir, "agensight_wasm_bg.wasm"));
  const port = await freePort();
  const texts = Object.entries(bindings).map(([name, text]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(text)})`);
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "agensight_wasm_bg.wasm", wasm = embed "agensight_wasm_bg.wasm"),
  ],
  bindings = [ ${texts.join(", ")} ],
  compatibilityDate = "2025-01-01",
  compatibilityFlags = [ ${flags.map((f) => JSON.stringify(f)).join(", ")} ],
  globalOutbound = "internet",
);
`,
  );
  const child = spawn(WORKERD, ["serve", join(dir, "config.capnp")], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  let exited = null;
  child.once("error", (e) => (exited = `cannot start ${WORKERD}: ${e.code ?? e.message} (scripts/bootstrap --test installs it)`));
  child.once("exit", (code, signal) => (exited ??= `exited with ${signal ?? code}`));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`workerd: ${exited}\n${output.slice(-3000)}`);
    try {
      await fetch(`${url}${probe}`);
      break;
    } catch {}
    if (i > 150) {
      child.kill("SIGTERM");
      throw new Error(`workerd: not listening on ${url} after 15 s\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => exited === null && child.kill("SIGTERM"), output: () => output };
}
