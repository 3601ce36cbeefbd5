// The shipped types as users meet them: publint and arethetypeswrong on the packed tarball, and
// TypeScript (strict) compiling every README.md code block (js and ts), extracted from the
// README as written, in a matrix of projects: moduleResolution bundler / node16 / nodenext,
// ESM and CommonJS, `lib: dom`, and Cloudflare's workers types.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, project, run, tarball } from "./support/project.mjs";
import { toolBin } from "./support/tools.mjs";

/** The README's code blocks: { lang, code, line }. */
function readmeBlocks() {
  const text = readFileSync(join(ROOT, "README.md"), "utf8");
  return [...text.matchAll(/^```(js|ts)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1], code: m[2], line: text.slice(0, m.index).split("\n").length }));
}
const BLOCKS = readmeBlocks();
// Top-level await exists only in ES modules; such blocks cannot be CommonJS (TS1309).
const hasTopLevelAwait = (code) => /^(?:const [^=]+= )?await /m.test(code);
const isWorker = (code) => code.includes("instrumentWorker(");
// The integration subpaths (agensight-wasm/ai, ...) are ES modules beside ESM SDKs (`ai` and
// `@google/genai` have no CommonJS types: a block importing them is one of these too), and some SDKs' own .d.ts are not strict-clean
// (@openai/agents-realtime: TS2416 without skipLibCheck): their blocks compile in a project of
// their own, ESM with skipLibCheck (as `tsc --init` sets it); our own .d.ts are checked
// without it by every other project.
const isIntegration = (code) => /from "(?:agensight-wasm\/(?!wasm")[a-z-]+|ai|@google\/genai)"/.test(code);
const core = (pick) => (b) => !isIntegration(b.code) && pick(b);

const STRICT = { strict: true, noEmit: true, target: "es2022", skipLibCheck: false, forceConsistentCasingInFileNames: true };
/** name -> tsconfig compilerOptions, the project's package type, and which blocks it compiles. */
const MATRIX = {
  "bundler, ESM, lib dom": { options: { module: "esnext", moduleResolution: "bundler", lib: ["es2022", "dom", "dom.iterable"], types: ["node"] }, type: "module", ext: "ts", pick: core(() => true) },
  "node16, ESM": { options: { module: "node16", moduleResolution: "node16", lib: ["es2022", "dom"], types: ["node"] }, type: "module", ext: "ts", pick: core(() => true) },
  "nodenext, ESM": { options: { module: "nodenext", moduleResolution: "nodenext", lib: ["es2022", "dom"], types: ["node"] }, type: "module", ext: "ts", pick: core(() => true) },
  "node16, CommonJS": { options: { module: "node16", moduleResolution: "node16", lib: ["es2022", "dom"], types: ["node"] }, type: "commonjs", ext: "ts", pick: core((b) => !hasTopLevelAwait(b.code)) },
  "nodenext, CommonJS": { options: { module: "nodenext", moduleResolution: "nodenext", lib: ["es2022", "dom"], types: ["node"] }, type: "commonjs", ext: "ts", pick: core((b) => !hasTopLevelAwait(b.code)) },
  "bundler, @cloudflare/workers-types": { options: { module: "esnext", moduleResolution: "bundler", lib: ["es2022"], types: ["@cloudflare/workers-types"] }, type: "module", ext: "ts", pick: core((b) => isWorker(b.code)) },
  "integrations: nodenext, ESM, skipLibCheck": { options: { module: "nodenext", moduleResolution: "nodenext", lib: ["es2022", "dom"], types: ["node"], skipLibCheck: true }, type: "module", ext: "ts", pick: (b) => isIntegration(b.code) },
};

let dirs;

before(async () => {
  await tarball();
  dirs = Object.fromEntries(
    await Promise.all(
      Object.entries(MATRIX).map(async ([name, m], i) => {
        const files = Object.fromEntries(BLOCKS.filter(m.pick).map((b) => [`readme-line-${b.line}.${m.ext}`, b.code]));
        files["tsconfig.json"] = JSON.stringify({ compilerOptions: { ...STRICT, ...m.options }, include: ["*.ts"] }, null, 2);
        return [name, { dir: await project(`types-${i}`, files, { type: m.type }), files: Object.keys(files).filter((f) => f.endsWith(".ts")) }];
      }),
    ),
  );
});

test("the README has the code blocks this matrix compiles", () => {
  assert.ok(BLOCKS.length >= 6, `README code blocks: ${BLOCKS.map((b) => b.line)}`);
  assert.ok(BLOCKS.some((b) => isWorker(b.code)), "the instrumentWorker block");
});

for (const name of Object.keys(MATRIX)) {
  test(`tsc --strict (${name}): every README block it can hold compiles as written`, async () => {
    const { dir, files } = dirs[name];
    assert.ok(files.length > 0, "some blocks");
    await run(`tsc (${name}: ${files.join(", ")})`, process.execPath, [join(dir, "../../node_modules/typescript/bin/tsc"), "-p", dir], { cwd: dir });
  });
}

test("tsc: in browsers readLocal() is a Promise, in Node a value; a CommonJS node16 project reads the .d.cts", async () => {
  const dir = await project("types-conditions", {
    "browser.ts": `import { readLocal, type LocalTraces } from "agensight-wasm";\nconst p: Promise<LocalTraces> = readLocal();\nexport { p };\n`,
    "tsconfig.json": JSON.stringify({ compilerOptions: { ...STRICT, module: "esnext", moduleResolution: "bundler", lib: ["es2022", "dom"], types: [] }, include: ["*.ts"] }),
  });
  await run("tsc (bundler: browser types)", process.execPath, [join(dir, "../../node_modules/typescript/bin/tsc"), "-p", dir], { cwd: dir });
  const cjs = await project(
    "types-cjs",
    {
      "main.ts": `import { init, readLocal, type LocalTraces } from "agensight-wasm";\ninit({ name: "cjs" });\nconst local: LocalTraces = readLocal();\nexport = local;\n`,
      "tsconfig.json": JSON.stringify({ compilerOptions: { ...STRICT, module: "node16", moduleResolution: "node16", lib: ["es2022", "dom"], types: ["node"] }, include: ["*.ts"] }),
    },
    { type: "commonjs" },
  );
  await run("tsc (node16 CommonJS: .d.cts)", process.execPath, [join(cjs, "../../node_modules/typescript/bin/tsc"), "-p", cjs, "--traceResolution"], { cwd: cjs }).then(({ stdout }) => {
    assert.match(stdout, /'agensight-wasm' was successfully resolved to '[^']*\/index\.d\.cts'/, "the require condition's types");
  });
});

test("publint --strict on the packed tarball: all good", async () => {
  const { stdout } = await run("publint", toolBin("publint"), ["run", await tarball(), "--strict"]);
  assert.match(stdout, /All good!/, stdout);
});

test("arethetypeswrong on the packed tarball: no problem for the main entry (node10, node16 CJS and ESM, bundler); ./inline is ESM for bundlers", async () => {
  const tgz = await tarball();
  const main = await run("attw (.)", toolBin("attw"), [tgz, "--format", "ascii", "--entrypoints", "."]);
  assert.match(main.stdout, /No problems found/, main.stdout);
  // ./inline is for browser bundlers (ESM only, by design: no require, no node10 subpaths).
  const inline = await run("attw (./inline)", toolBin("attw"), [tgz, "--format", "ascii", "--entrypoints", "./inline", "--profile", "esm-only"]);
  assert.match(inline.stdout, /node16 \(from ESM\): 🟢 \(ESM\)\nbundler: 🟢/, inline.stdout);
});
