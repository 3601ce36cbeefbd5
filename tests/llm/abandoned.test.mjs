// A stream the caller drops without reading it to the end or closing it: its span ends when
// the stream is garbage-collected (a child process with --expose-gc).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { installPackage } from "../support/package.mjs";

test("a dropped stream's span ends when the stream is garbage-collected", async () => {
  await installPackage();
  const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(new URL("./abandoned-child.mjs", import.meta.url))], { encoding: "utf8", timeout: 60_000 });
  assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)), [[["openai.chat.completions.create", "ok", ["It"]]]]);
});
