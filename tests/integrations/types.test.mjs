// The integrations' shipped .d.ts files, used as a TypeScript user would: tsc --noEmit over
// tests/integrations/types-usage.ts against the installed tarball, the SDKs' own types
// resolved from the repository's devDependencies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installPackage, ROOT } from "../support/package.mjs";

test("tsc --noEmit accepts each integration's one line and rejects misuse", async () => {
  const app = await installPackage();
  const dir = join(app, "integrations-types");
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(ROOT, "tests/integrations/types-usage.ts"), join(dir, "usage.ts"));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", skipLibCheck: true, lib: ["es2022", "dom"] }, files: ["usage.ts"] }));
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", dir], { encoding: "utf8" });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});
