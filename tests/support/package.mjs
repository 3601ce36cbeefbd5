// Where the tests find the package: the packed tarball installed into a scratch project
// (scripts/pack-install), so every test runs what a user installs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const APP = join(ROOT, "tests/.scratch/app");
/** The installed package's directory. */
export const PACKAGE = join(APP, "node_modules/agensight-wasm");

/**
 * Makes sure the tarball is installed (packing pkg/ once if not) and returns the scratch
 * project's directory. `make test` installs it first; this covers running one test file alone.
 */
export async function installPackage() {
  if (!existsSync(join(PACKAGE, "package.json"))) {
    await withLock(join(ROOT, "tests/.scratch/.lock"), () => {
      if (!existsSync(join(PACKAGE, "package.json"))) execFileSync(join(ROOT, "scripts/pack-install"), { stdio: "inherit" });
    });
  }
  return APP;
}

/** Runs `fn` holding the directory lock `lock`, waiting up to `waitMs` for another holder. */
export async function withLock(lock, fn, { waitMs = 60000 } = {}) {
  mkdirSync(join(lock, ".."), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i * 100 > waitMs) throw new Error(`timed out waiting for ${lock} (remove it if nothing holds it)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmdirSync(lock);
  }
}

/**
 * Imports `specifier` (default the package) resolved from inside the scratch project, exactly
 * as a user's `import ... from "agensight-wasm"` resolves it (exports map and conditions).
 */
export async function importPackage(specifier = "agensight-wasm") {
  await installPackage();
  const { resolve } = await import(join(APP, "resolve.mjs"));
  return import(resolve(specifier));
}
