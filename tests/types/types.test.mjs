// The shipped index.d.ts, used as a TypeScript user would: tsc --noEmit over tests/types/usage.ts
// resolved against the installed tarball.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installPackage, ROOT } from "../support/package.mjs";

test("tsc --noEmit accepts the documented usage and rejects misuse", async () => {
  const app = await installPackage();
  copyFileSync(join(ROOT, "tests/types/usage.ts"), join(app, "usage.ts"));
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", skipLibCheck: false, lib: ["es2022", "dom"] }, files: ["usage.ts"] }));
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", app], { encoding: "utf8" });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});
