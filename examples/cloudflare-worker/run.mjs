// Runs the worker locally with workerd itself (no wrangler needed): bundles src/index.js with
// esbuild the way wrangler does (conditions workerd/worker/browser, the .wasm kept as a module),
// writes a workerd config and serves it on http://127.0.0.1:8787.
//
//   npm install && node run.mjs          (from the repository: make build first)
//   curl -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' 'http://127.0.0.1:8787/?q=hi'
//   curl http://127.0.0.1:8787/records
//
// esbuild and workerd come from the repository's devDependencies (or install them here).
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { build } = await import(require.resolve("esbuild", { paths: [here, join(here, "../..")] }));
const port = Number(process.env.PORT ?? 8787);
const out = join(here, "dist");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, "src/index.js")],
  outfile: join(out, "worker.js"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  plugins: [{ name: "wasm-module", setup: (b) => b.onResolve({ filter: /\.wasm$/ }, () => ({ path: "./agensight_wasm_bg.wasm", external: true })) }],
});
copyFileSync(join(here, "node_modules/agensight-wasm/wasm/agensight_wasm_bg.wasm"), join(out, "agensight_wasm_bg.wasm"));
writeFileSync(
  join(out, "config.capnp"),
  `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "agensight_wasm_bg.wasm", wasm = embed "agensight_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  compatibilityFlags = ["nodejs_als"],
);
`,
);
const workerd = join(dirname(require.resolve("workerd/package.json", { paths: [here, join(here, "../..")] })), "bin/workerd");
console.log(`workerd serving http://127.0.0.1:${port} (Ctrl-C to stop)`);
spawn(workerd, ["serve", join(out, "config.capnp")], { stdio: "inherit" }).on("exit", (code) => process.exit(code ?? 0));
