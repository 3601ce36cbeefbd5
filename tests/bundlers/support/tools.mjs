// The real build tools this layer drives (wrangler, Next.js, Vite, webpack, Rollup, esbuild,
// edge-runtime, TypeScript, publint, arethetypeswrong), pinned in tests/bundlers/tools.json
// with the lockfile tests/bundlers/tools-lock.json, installed once into tests/.scratch/tools
// (`npm ci`) and reused while both files are unchanged. scripts/bundler-tools runs this file
// (scripts/bootstrap --test calls it); a test that finds the tools missing installs them
// itself, and fails with a message when it cannot.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { withLock } from "../../support/package.mjs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const TOOLS = join(ROOT, "tests/.scratch/tools");
const MANIFEST = join(ROOT, "tests/bundlers/tools.json");
const LOCK = join(ROOT, "tests/bundlers/tools-lock.json");
const STAMP = join(TOOLS, "node_modules/.tools-stamp");

/** The pinned versions, by package name. */
export const VERSIONS = JSON.parse(readFileSync(MANIFEST, "utf8")).dependencies;

const wanted = () => createHash("sha256").update(readFileSync(MANIFEST)).update(readFileSync(LOCK)).digest("hex");
const installed = () => (existsSync(STAMP) ? readFileSync(STAMP, "utf8").trim() : "");

/**
 * Installs the pinned tools into tests/.scratch/tools unless the same versions are there, and
 * returns the directory. Throws with what to do when npm fails.
 */
export async function ensureTools({ quiet = true } = {}) {
  if (installed() === wanted()) return TOOLS;
  // npm ci of Next.js and the rest can take minutes on a loaded machine: wait up to ten.
  await withLock(join(ROOT, "tests/.scratch/.tools-lock"), () => {
    if (installed() === wanted()) return;
    mkdirSync(TOOLS, { recursive: true });
    writeFileSync(join(TOOLS, "package.json"), readFileSync(MANIFEST));
    writeFileSync(join(TOOLS, "package-lock.json"), readFileSync(LOCK));
    try {
      execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: TOOLS, stdio: quiet ? "pipe" : "inherit", encoding: "utf8" });
    } catch (e) {
      throw new Error(`installing the bundler tools (npm ci in ${TOOLS}) failed: run scripts/bundler-tools and check the npm registry is reachable\n${e.stderr ?? ""}${e.stdout ?? ""}`);
    }
    writeFileSync(STAMP, wanted() + "\n");
  }, { waitMs: 600000 });
  return TOOLS;
}

/** The path of a tool's binary (tests/.scratch/tools/node_modules/.bin), or an error saying what to run. */
export function toolBin(name) {
  const path = join(TOOLS, "node_modules/.bin", name);
  if (!existsSync(path)) throw new Error(`${name}: ${path} is missing: run scripts/bundler-tools (scripts/bootstrap --test does)`);
  return path;
}

/** Imports a tool's module from the tools project. */
export async function importTool(name) {
  const resolver = join(TOOLS, "resolve.mjs");
  // Resolves from inside the tools project, with `import` conditions (Vite is ESM only).
  if (!existsSync(resolver)) writeFileSync(resolver, "export const resolve = (specifier) => import.meta.resolve(specifier);\n");
  const { resolve } = await import(resolver);
  let url;
  try {
    url = resolve(name);
  } catch {
    throw new Error(`${name}: not installed in ${TOOLS}: run scripts/bundler-tools (scripts/bootstrap --test does)`);
  }
  return import(url);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const before = installed();
  await ensureTools({ quiet: false });
  console.log(`[bundler-tools] ${before === wanted() ? "up to date" : "installed"} in ${TOOLS}`);
}
