// The shipped types of wrapOpenAI / wrapAnthropic: tsc --noEmit over tests/llm/types-usage.ts
// against the installed tarball, with the real SDKs' types.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installPackage, ROOT } from "../support/package.mjs";

test("tsc --noEmit: a wrapped client has the client's own type", async () => {
  const app = await installPackage();
  const dir = join(app, "llm-types");
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(ROOT, "tests/llm/types-usage.ts"), join(dir, "usage.ts"));
  const sdk = (name) => [join(ROOT, "node_modules", name)];
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", skipLibCheck: true, lib: ["es2022", "dom", "dom.iterable"], paths: { openai: sdk("openai"), "@anthropic-ai/sdk": sdk("@anthropic-ai/sdk") } },
      files: ["usage.ts"],
    }),
  );
  try {
    execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir], { encoding: "utf8" });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
});
