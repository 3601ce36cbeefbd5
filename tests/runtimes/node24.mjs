// Installs Node 24 from the npm package `node` into tests/.scratch/node24 (never into the root
// node_modules, whose .bin/node would shadow the system node), once. Used by the runtime tests
// and by `scripts/bootstrap --test`; `node tests/runtimes/node24.mjs` prints the binary's path.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const NODE24_DIR = join(ROOT, "tests/.scratch/node24");
export const NODE24 = join(NODE24_DIR, "node_modules/node/bin/node");

function version(bin) {
  try {
    return execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

/** The path of a working Node 24 binary, installing it first if needed. Throws if it cannot. */
export function ensureNode24() {
  if (version(NODE24)?.startsWith("v24.")) return NODE24;
  mkdirSync(NODE24_DIR, { recursive: true });
  writeFileSync(join(NODE24_DIR, "package.json"), '{ "name": "node24-scratch", "private": true }\n');
  try {
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "node@24"], { cwd: NODE24_DIR, stdio: ["ignore", "ignore", "pipe"], timeout: 180000 });
  } catch (e) {
    throw new Error(`node@24: npm install node@24 in ${NODE24_DIR} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
  const v = version(NODE24);
  if (!v?.startsWith("v24.")) throw new Error(`node@24: ${NODE24} does not run after npm install node@24 (got ${v ?? "no version"})`);
  return NODE24;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!existsSync(NODE24)) process.stderr.write("[bootstrap] npm install node@24 into tests/.scratch/node24\n");
  process.stdout.write(ensureNode24() + "\n");
}
