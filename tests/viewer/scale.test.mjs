// The viewer over a store of 1,000,000 traces (written directly in the record format by
// big-store.mjs, on a tmpfs this test mounts and removes), in headless Chromium: rows appear
// while the index is still being built, then paging to the oldest trace, search, the status
// filter, opening a trace, and a trace appended to the store appearing at the top. Times and
// memory are measured by the benchmark (`node scripts/bench/run.mjs --only=viewer`), not here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startViewer } from "../../js/viewer/server.js";
import { makeBigStore, writeBig, bigName, bigFailed } from "./big-store.mjs";
import { traceId } from "../store/lines.mjs";
import { settled, CHROMIUM_ARGS } from "./page.mjs";

const N = 1_000_000;
const MNT = fileURLToPath(new URL("../.scratch/viewer-scale/", import.meta.url));
const sel = (id) => `[data-testid="${id}"]`;
const fmt = (n) => n.toLocaleString("en-US");

let store;
let viewer;
let browser;
let mounted = false;

before(async () => {
  fs.mkdirSync(MNT, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1g", "tmpfs", MNT], { stdio: "pipe" });
  } catch (e) {
    throw new Error(`this test mounts a tmpfs for its 1,000,000-trace store (run it as root, as CI does): ${e.stderr || e.message}`);
  }
  mounted = true;
  store = makeBigStore(path.join(MNT, "store"), N);
  viewer = await startViewer({ dir: store.dir, port: 0 });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await viewer?.close();
  if (mounted) execFileSync("umount", [MNT]);
});

async function status() {
  return (await fetch(`${viewer.url}api/status`)).json();
}

test("a store of 1,000,000 traces: rows at once, then paging, search, filters, a trace, an append", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  try {
    await page.goto(viewer.url);
    // The newest trace first, whether the index is done or not.
    const first = page.locator(sel("trace-row")).first();
    await first.waitFor();
    assert.equal(await first.getAttribute("data-trace-id"), traceId(N - 1));
    assert.equal(await first.locator(sel("trace-name")).textContent(), bigName(N - 1));
    // A few dozen rows in the DOM, however many traces.
    assert.ok((await page.locator(sel("trace-row")).count()) < 60);

    for (let s = await status(); s.indexing || s.traces < N; s = await status()) await new Promise((r) => setTimeout(r, 250));
    await page.locator(`${sel("trace-count")}:text-is("(${fmt(N)})")`).waitFor({ timeout: 10_000 });
    await settled(page);

    // Paging: the bottom of the table is the oldest trace; the middle is the middle.
    const wrap = page.locator(sel("table-wrap"));
    await wrap.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator(`${sel("trace-row")}[data-trace-id="${traceId(0)}"]`).waitFor();
    await settled(page);
    const lastId = await page.locator(sel("trace-row")).last().getAttribute("data-trace-id");
    assert.equal(lastId, traceId(0));
    // The rows in view are redrawn after the scroll: wait for the first one to change from what
    // it was before the scroll (read before it: read after, the redraw may already be done).
    const top = await page.locator(sel("trace-row")).first().getAttribute("data-trace-id");
    await wrap.evaluate((el) => (el.scrollTop = (el.scrollHeight - el.clientHeight) / 2));
    await page.waitForFunction((before) => {
      const rows = document.querySelectorAll('[data-testid="trace-row"]');
      return rows.length > 5 && rows[0].getAttribute("data-trace-id") !== before;
    }, top);
    await settled(page);
    const mid = parseInt((await page.locator(sel("trace-row")).first().getAttribute("data-trace-id")).slice(-12), 16);
    assert.ok(mid > N * 0.45 && mid < N * 0.55, `the middle of the table shows trace ${mid}`);

    // Search: one trace of a million.
    await page.locator(sel("search")).fill("needle_500000");
    await settled(page);
    assert.deepEqual(await page.locator(sel("trace-row")).evaluateAll((els) => els.map((e) => e.dataset.traceId)), [traceId(500000)]);
    assert.equal(await page.locator(sel("trace-count")).textContent(), `(1 of ${fmt(N)})`);
    await page.locator(sel("trace-row")).click();
    await page.locator(`${sel("span-row")} ${sel("span-name")}:text-is("needle_500000")`).waitFor();

    // The status filter counts every failed trace.
    await page.locator(sel("search")).fill("");
    await page.locator(sel("filter-status")).selectOption("error");
    await settled(page);
    let failed = 0;
    for (let i = 0; i < N; i++) if (bigFailed(i)) failed++;
    assert.equal(await page.locator(sel("trace-count")).textContent(), `(${fmt(failed)} of ${fmt(N)})`);
    assert.deepEqual(await page.locator(sel("trace-row")).evaluateAll((els) => [...new Set(els.map((e) => e.dataset.status))]), ["error"]);
    await page.locator(sel("filter-status")).selectOption("");

    // A trace appended while the page is open comes to the top without a reload.
    await page.evaluate(() => (window.__sameDocument = true));
    writeBig(store.file, N, N + 1);
    await page.locator(`${sel("trace-row")}[data-trace-id="${traceId(N)}"]`).waitFor({ timeout: 10_000 });
    await page.locator(`${sel("trace-count")}:text-is("(${fmt(N + 1)})")`).waitFor();
    assert.equal(await page.locator(sel("trace-row")).first().getAttribute("data-trace-id"), traceId(N));
    assert.equal(await page.evaluate(() => window.__sameDocument), true);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});
