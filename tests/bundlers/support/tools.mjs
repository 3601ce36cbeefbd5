// The real build tools this layer drives (wrangler, Next.js, Vite, webpack, Rollup, esbuild,
// edge-runtime, TypeScript, publint, arethetypeswrong), pinned in tests/bundlers/tools.json
// with the lockfile tests/bundlers/tools-lock.json, installed once into tests/.scratch/tools
// (`npm ci`) and reused while both files are unchanged. scripts/bundler-tools runs this file
// (scripts/bootstrap --test calls it); a test that finds the tools missing installs them
// itself, and fails with a message when it cannot.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pinnedProject } from "./pinned.mjs";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const TOOLS = join(ROOT, "tests/.scratch/tools");
const tools = pinnedProject({
  dir: TOOLS,
  manifest: join(ROOT, "tests/bundlers/tools.json"),
  lock: join(ROOT, "tests/bundlers/tools-lock.json"),
  name: "tools",
  what: "the bundler tools",
  hint: "run scripts/bundler-tools",
});

/** The pinned versions, by package name. */
export const VERSIONS = tools.versions;

/**
 * Installs the pinned tools into tests/.scratch/tools unless the same versions are there, and
 * returns the directory. Throws with what to do when npm fails.
 */
export const ensureTools = tools.ensure;

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
  const before = tools.upToDate();
  await ensureTools({ quiet: false });
  console.log(`[bundler-tools] ${before ? "up to date" : "installed"} in ${TOOLS}`);
}
