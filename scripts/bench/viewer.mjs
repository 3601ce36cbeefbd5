// The viewer at scale: a store of N traces (tests/viewer/big-store.mjs, written directly in
// the record format), the viewer's CLI in a process of its own, its page in headless Chromium.
// For each N: time to the page's load event and to its first rows (the index not built yet),
// time until the index is complete, the server's RSS then and at its peak, the first rows of a
// reload (indexed), a search, and the cost of an append (1 trace, then 10,000) until the API
// shows it.
//
//   node scripts/bench/viewer.mjs [--counts=100000,1000000]
// Prints one JSON line. Not a test: nothing here is asserted.

import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { chromium } from "playwright-core";
import { OUT, ROOT } from "./lib.mjs";
import { makeBigStore, writeBig } from "../../tests/viewer/big-store.mjs";
import { traceId } from "../../tests/store/lines.mjs";
import { CHROMIUM_ARGS } from "../../tests/viewer/page.mjs";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")));
const counts = (args.counts ?? "100000,1000000").split(",").map(Number);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`[viewer] ${m}\n`);

function memory(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)[1]) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

async function startCli(dir) {
  const child = spawn(process.execPath, [path.join(ROOT, "js/cli.js"), "view", "--dir", dir, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`viewer exited ${code}`)));
  });
  return { child, url };
}

const json = async (url) => (await fetch(url)).json();

/** Milliseconds until the API's newest row is trace `i`. */
async function untilTop(url, i) {
  const t0 = performance.now();
  for (;;) {
    const r = await json(`${url}api/traces?limit=1`);
    if (r.rows[0]?.id === traceId(i)) return performance.now() - t0;
    await sleep(5);
  }
}

async function one(browser, n) {
  const dir = path.join(OUT, `viewer-${n}`);
  log(`${n} traces: writing the store...`);
  const { file } = makeBigStore(dir, n);
  const bytes = fs.statSync(file).size;
  const { child, url } = await startCli(dir);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const t0 = performance.now();
    await page.goto(url);
    const loadedMs = performance.now() - t0;
    await page.locator('[data-testid="trace-row"]').first().waitFor({ timeout: 120_000 });
    const firstRowsMs = performance.now() - t0;
    for (;;) {
      const s = await json(`${url}api/status`);
      if (!s.indexing && s.traces === n) break;
      await sleep(100);
    }
    const indexedMs = performance.now() - t0;
    const afterIndex = memory(child.pid);
    const t1 = performance.now();
    await page.reload();
    await page.locator('[data-testid="trace-row"]').first().waitFor();
    const reloadRowsMs = performance.now() - t1;
    const t2 = performance.now();
    await json(`${url}api/traces?q=needle_0`);
    const searchMs = performance.now() - t2;
    writeBig(file, n, n + 1);
    const append1Ms = await untilTop(url, n);
    writeBig(file, n + 1, n + 10001);
    const append10kMs = await untilTop(url, n + 10000);
    await page.close();
    const end = memory(child.pid);
    return { traces: n, storeBytes: bytes, loadedMs, firstRowsMs, indexedMs, reloadRowsMs, searchMs, append1Ms, append10kMs, rssAfterIndex: afterIndex.rss, rssEnd: end.rss, rssPeak: end.peak };
  } finally {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
const runs = [];
try {
  // Chromium's first page pays for starting a renderer and compiling the page: not counted.
  const empty = path.join(OUT, "viewer-empty");
  fs.mkdirSync(empty, { recursive: true });
  const warm = await startCli(empty);
  const page = await browser.newPage();
  await page.goto(warm.url);
  await page.locator('[data-testid="empty"]').waitFor();
  await page.close();
  warm.child.kill();
  for (const n of counts) runs.push(await one(browser, n));
} finally {
  await browser.close();
}
console.log(JSON.stringify({ node: process.version, runs }));
