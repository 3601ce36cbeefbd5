// Before init(): every generated function behaves exactly like the original (the transparency
// property), with one warning in all; functions wrapped before init() are traced after it.
// Its own file: node:test runs each file in a fresh process, so init() has not run here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { importPackage, transparency } from "./support/helpers.mjs";

test("before init(): transparent, one warning; traced once init() runs", async (t) => {
  const warnings = [];
  t.mock.method(console, "warn", (...args) => warnings.push(args.map(String).join(" ")));
  const api = await importPackage();
  const early = api.trace((x) => x * 2, "early");
  await transparency(api, { runs: 200 });
  assert.equal(early(2), 4);
  assert.deepEqual(await api.flush(), { exported: 0, failed: 0, pending: 0, dropped: 0 });
  assert.equal(api.currentTraceId(), undefined);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /before init\(\)/);

  api.init({ storage: "memory" });
  assert.equal(early(3), 6);
  await api.flush();
  assert.deepEqual(api.readLocal().traces.map((t) => [t.name, t.spans[0].attributes.output]), [["early", 6]]);
  assert.equal(warnings.length, 1);
});
