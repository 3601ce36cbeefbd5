// The local viewer, end to end: the real server (js/viewer/server.js) over a store written by
// the real package (make-store.mjs), in headless Debian Chromium driven by playwright-core.
//
// Run: node --test tests/viewer/
// UPDATE_SCREENSHOTS=1 also refreshes docs/viewer.png (written anyway when it is missing).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startViewer } from "../../js/viewer/server.js";
import { settled, CHROMIUM_ARGS } from "./page.mjs";
import { makeStore, QUESTION, ANSWER, SYSTEM_PROMPT, ERROR_MESSAGE, EVIL_OUTPUT, EVIL_TRACE_NAME } from "./make-store.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRATCH = path.join(ROOT, "tests/.scratch/viewer");
const CLI = path.join(ROOT, "js/cli.js");
const SCREENSHOT = path.join(ROOT, "docs/viewer.png");

const sel = (id) => `[data-testid="${id}"]`;

let store; // { storeDir, exportFile, appendTrace, ... }
let viewer;
let browser;

before(async () => {
  store = await makeStore(SCRATCH);
  viewer = await startViewer({ dir: store.storeDir, port: 0 });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await viewer?.close();
});

async function getJson(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return res.json();
}

/** The status and every trace whole, as the API gives them (a small store: one page). */
async function apiData(v = viewer) {
  const status = await getJson(`${v.url}api/status`);
  const page = await getJson(`${v.url}api/traces?limit=500`);
  assert.equal(page.rows.length, page.total);
  const traces = [];
  for (const row of page.rows) {
    const { trace } = await getJson(`${v.url}api/trace?id=${encodeURIComponent(row.id)}`);
    for (const k of Object.keys(row)) assert.deepEqual(trace[k], row[k], `${row.name}: the row's ${k} is the trace's`);
    traces.push(trace);
  }
  return { ...status, traces: traces.sort((a, b) => a.started_at - b.started_at) };
}

/** A fresh page on the viewer; fails the test on any page error or console error (CSP included). */
async function withPage(fn, { waitRows = true } = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    d.dismiss();
  });
  try {
    await page.goto(viewer.url);
    if (waitRows) await page.locator(sel("trace-row")).first().waitFor();
    await fn(page);
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
}

const rowByName = (page, name) => page.locator(`${sel("trace-row")}:has(${sel("trace-name")}:text-is(${JSON.stringify(name)}))`);

async function openTrace(page, name) {
  await rowByName(page, name).click();
  await page.locator(sel("span-row")).first().waitFor();
  assert.equal(await page.locator(sel("trace-title")).textContent(), name);
}

async function openSpan(page, name, nth = 0) {
  const row = page.locator(`${sel("span-row")}:has(${sel("span-name")}:text-is(${JSON.stringify(name)}))`).nth(nth);
  await row.click();
  await page.locator(`${sel("span-details")} ${sel("span-title")}:text-is(${JSON.stringify(name)})`).waitFor();
  return row;
}

const pad = (n, w = 2) => String(n).padStart(w, "0");
function localTime(secs) {
  const d = new Date(secs * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
function parseLatencyMs(s) {
  const m = /^([\d.]+) (ms|s)$/.exec(s);
  assert.ok(m, `latency ${JSON.stringify(s)}`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
}

/** Tree order of a trace's spans, computed independently of the page. */
function treeOrder(t) {
  const out = [];
  const visit = (s, depth) => {
    out.push({ s, depth });
    for (const c of t.spans.filter((c) => c.parent_id === s.id).sort((a, b) => a.started_at - b.started_at)) visit(c, depth + 1);
  };
  for (const r of t.spans.filter((s) => !t.spans.some((p) => p.id === s.parent_id))) visit(r, 0);
  return out;
}

test("the traces table lists every trace with name, session, start, latency, total tokens and status", async () => {
  const data = await apiData();
  const names = data.traces.map((t) => t.name).sort();
  assert.deepEqual(names, ["crashed_run", "failing_pipeline", "multi_agent_chat", EVIL_TRACE_NAME].sort());
  await withPage(async (page) => {
    const rows = page.locator(sel("trace-row"));
    assert.equal(await rows.count(), data.traces.length);
    // Newest first.
    const newestFirst = [...data.traces].sort((a, b) => b.started_at - a.started_at);
    for (const [i, t] of newestFirst.entries()) {
      const row = rows.nth(i);
      assert.equal(await row.getAttribute("data-trace-id"), t.id);
      assert.equal(await row.locator(sel("trace-name")).textContent(), t.name);
      assert.equal(await row.locator(sel("trace-session")).textContent(), t.session_id);
      assert.equal(await row.locator(sel("trace-start")).textContent(), localTime(t.started_at));
      const latency = parseLatencyMs(await row.locator(sel("trace-latency")).textContent());
      const precision = latency < 10 ? 0.051 : latency < 1000 ? 0.501 : 5.01; // shown as 7.7 ms, 166 ms, 1.23 s
      assert.ok(Math.abs(latency - t.duration * 1000) <= precision, `${t.name}: ${latency} ms vs ${t.duration} s`);
      assert.equal(await row.locator(sel("trace-tokens")).textContent(), t.total_tokens.toLocaleString("en-US"));
      assert.equal(await row.locator(sel("trace-status")).textContent(), t.status);
    }
    const chat = rowByName(page, "multi_agent_chat");
    assert.equal(await chat.locator(sel("trace-session")).textContent(), "xyz123");
    assert.equal(await chat.locator(sel("trace-tokens")).textContent(), "102"); // 42 + 60, each LLM call once
    assert.equal(await chat.locator(sel("trace-status")).textContent(), "ok");
    assert.equal(await rowByName(page, "failing_pipeline").locator(sel("trace-status")).textContent(), "error");
    assert.equal(await rowByName(page, "failing_pipeline").locator(sel("trace-session")).textContent(), "user_456");
    // Sessions: the named one shows its name and user.
    const session = page.locator(`${sel("session-item")}[data-session-id="xyz123"]`);
    assert.equal(await session.locator(sel("session-name")).textContent(), "multi agent chat");
    assert.match(await session.textContent(), /user 123 · 1 trace$/);
  });
});

test("search and the session and status filters narrow the table", async () => {
  await withPage(async (page) => {
    const names = async () => {
      await settled(page);
      return (await page.locator(`${sel("trace-row")} ${sel("trace-name")}`).allTextContents()).sort();
    };
    const search = page.locator(sel("search"));
    await search.fill("pipeline");
    assert.deepEqual(await names(), ["failing_pipeline"]);
    await search.fill("GET_WEATHER"); // a span name, case-insensitive
    assert.deepEqual(await names(), ["multi_agent_chat"]);
    await search.fill("timed out"); // an error message
    assert.deepEqual(await names(), ["failing_pipeline"]);
    await search.fill("no such trace anywhere");
    assert.deepEqual(await names(), []);
    assert.equal(await page.locator(sel("empty")).textContent(), "No traces match the search and filters.");
    await search.fill("");
    assert.equal((await names()).length, 4);

    await page.locator(sel("filter-session")).selectOption("user_456");
    assert.deepEqual(await names(), ["failing_pipeline", EVIL_TRACE_NAME].sort());
    await page.locator(sel("filter-status")).selectOption("error");
    assert.deepEqual(await names(), ["failing_pipeline"]);
    await page.locator(sel("filter-status")).selectOption("ok");
    assert.deepEqual(await names(), [EVIL_TRACE_NAME]);
    await page.locator(sel("filter-status")).selectOption("");
    await page.locator(sel("filter-session")).selectOption("");
    assert.equal((await names()).length, 4);

    // Clicking a session in the list filters by it; clicking again clears the filter.
    const item = page.locator(`${sel("session-item")}[data-session-id="xyz123"]`);
    await item.click();
    assert.equal(await page.locator(sel("filter-session")).inputValue(), "xyz123");
    assert.deepEqual(await names(), ["multi_agent_chat"]);
    assert.equal(await page.locator(sel("trace-count")).textContent(), "(1 of 4)");
    await item.click();
    assert.equal((await names()).length, 4);
  });
});

test("a trace's waterfall: spans in tree order, nested by depth, bars to scale", async () => {
  const data = await apiData();
  const t = data.traces.find((x) => x.name === "multi_agent_chat");
  const expected = treeOrder(t);
  assert.deepEqual(
    expected.map(({ s, depth }) => [s.name, depth]),
    [["multi_agent_chat", 0], ["plan", 1], ["retrieve", 2], ["llm", 1], ["get_weather", 1], ["llm", 1]],
  );
  await withPage(async (page) => {
    await openTrace(page, "multi_agent_chat");
    const rows = page.locator(sel("span-row"));
    assert.equal(await rows.count(), expected.length);
    let t0 = t.started_at;
    let t1 = t.ended_at;
    for (const { s } of expected) {
      t0 = Math.min(t0, s.started_at);
      t1 = Math.max(t1, s.ended_at);
    }
    const indents = [];
    for (const [i, { s, depth }] of expected.entries()) {
      const row = rows.nth(i);
      assert.equal(await row.getAttribute("data-span-id"), s.id);
      assert.equal(await row.getAttribute("data-depth"), String(depth));
      assert.equal(depth, s.depth); // as records.js groupRecords computed it
      assert.equal(await row.locator(sel("span-name")).textContent(), s.name);
      const name = await row.locator(sel("span-name")).boundingBox();
      indents.push(name.x);
      const track = await row.locator(".wf-track").boundingBox();
      const bar = await row.locator(sel("span-bar")).boundingBox();
      const width = (s.ended_at - s.started_at) / (t1 - t0);
      const offset = (s.started_at - t0) / (t1 - t0);
      assert.ok(Math.abs(bar.width / track.width - width) < 0.01 + 2 / track.width, `${s.name}: bar width ${bar.width / track.width} vs ${width}`);
      assert.ok(Math.abs((bar.x - track.x) / track.width - offset) < 0.01, `${s.name}: bar offset`);
    }
    // Deeper spans are indented further (same kind badge width aside).
    assert.ok(indents[2] > indents[1] && indents[1] > indents[0], `indents ${indents}`);
    // The root bar spans the whole trace; a child's bar is inside its parent's.
    const root = await rows.nth(0).locator(sel("span-bar")).boundingBox();
    const plan = await rows.nth(1).locator(sel("span-bar")).boundingBox();
    const retrieve = await rows.nth(2).locator(sel("span-bar")).boundingBox();
    assert.ok(retrieve.x >= plan.x - 1 && retrieve.x + retrieve.width <= plan.x + plan.width + 1);
    assert.ok(plan.x >= root.x - 1 && plan.x + plan.width <= root.x + root.width + 1);
    // The root span is selected by default; its details show the trace's input and output.
    assert.equal(await page.locator(`${sel("span-details")} ${sel("span-title")}`).textContent(), "multi_agent_chat");
    assert.match(await page.locator(sel("span-output")).textContent(), new RegExp(ANSWER));
    assert.match(await page.locator(sel("trace-metadata")).textContent(), /plan: "pro"/);

    // The screenshot for the docs: the waterfall with the answering LLM call open.
    await openSpan(page, "llm", 1);
    await page.locator(sel("trace-view")).scrollIntoViewIfNeeded();
    const shot = await page.screenshot({ fullPage: true });
    fs.mkdirSync(SCRATCH, { recursive: true });
    fs.writeFileSync(path.join(SCRATCH, "viewer.png"), shot);
    if (process.env.UPDATE_SCREENSHOTS === "1" || !fs.existsSync(SCREENSHOT)) {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      fs.writeFileSync(SCREENSHOT, shot);
    }
  });
});

test("an LLM span shows its prompts and completions as a chat, its tool calls and usage", async () => {
  const data = await apiData();
  const t = data.traces.find((x) => x.name === "multi_agent_chat");
  const [first, second] = t.spans.filter((s) => s.kind === "llm");
  await withPage(async (page) => {
    await openTrace(page, "multi_agent_chat");

    // The first call asked for a tool.
    await openSpan(page, "llm", 0);
    let msgs = page.locator(`${sel("chat")} ${sel("chat-message")}`);
    assert.deepEqual(await msgs.evaluateAll((els) => els.map((e) => [e.dataset.kind, e.dataset.role])), [
      ["prompt", "system"],
      ["prompt", "user"],
      ["completion", "assistant"],
    ]);
    assert.equal(await msgs.nth(0).locator(sel("chat-content")).textContent(), SYSTEM_PROMPT);
    assert.equal(await msgs.nth(1).locator(sel("chat-content")).textContent(), QUESTION);
    assert.match(await msgs.nth(2).textContent(), /tool_calls/);
    assert.equal(await page.locator(`${sel("tool-calls")} ${sel("tool-name")}`).textContent(), "get_weather");
    assert.match(await page.locator(`${sel("tool-calls")} ${sel("tool-arguments")}`).textContent(), /city: "Paris"/);
    const usage = await page.locator(sel("usage")).textContent();
    assert.match(usage, /Model\s*gpt-4o-mini/);
    assert.match(usage, /Input tokens\s*30/);
    assert.match(usage, /Output tokens\s*12/);
    assert.match(usage, /Total tokens\s*42/);
    assert.equal(first.attributes["gen_ai.usage.total_tokens"], 42);

    // The second call got the tool result and answered.
    await openSpan(page, "llm", 1);
    msgs = page.locator(`${sel("chat")} ${sel("chat-message")}`);
    const prompts = [...second.prompts].sort((a, b) => a.message_index - b.message_index);
    assert.deepEqual(
      await msgs.evaluateAll((els) => els.map((e) => [e.dataset.kind, e.dataset.role])),
      [...prompts.map((p) => ["prompt", p.role]), ["completion", "assistant"]],
    );
    assert.deepEqual(prompts.map((p) => p.role), ["system", "user", "assistant", "tool"]);
    const last = msgs.last();
    assert.equal(await last.locator(sel("chat-content")).textContent(), ANSWER);
    assert.match(await last.textContent(), /completion · stop/);
    // The tool message's JSON content is shown as a tree.
    assert.match(await msgs.nth(3).locator(sel("chat-content")).textContent(), /temp_c: 21/);
    assert.match(await page.locator(sel("usage")).textContent(), /Total tokens\s*60/);

    // Input and output are collapsible JSON trees.
    const input = page.locator(`${sel("span-input")} details`).first();
    assert.equal(await input.getAttribute("open"), "");
    await input.locator("summary").first().click();
    assert.equal(await input.getAttribute("open"), null);
    await input.locator("summary").first().click();
    assert.equal(await input.getAttribute("open"), "");
    // All attributes are listed.
    const keys = await page.locator(`${sel("span-attributes")} ${sel("attribute")}`).evaluateAll((els) => els.map((e) => e.dataset.key));
    assert.deepEqual(keys, Object.keys(second.attributes).sort());
  });
});

test("an error span is marked in the waterfall and shows its error message and stack", async () => {
  await withPage(async (page) => {
    await openTrace(page, "failing_pipeline");
    const row = page.locator(`${sel("span-row")}[data-status="error"]`);
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator(sel("span-name")).textContent(), "flaky_tool");
    assert.equal(await row.locator(sel("span-error-mark")).count(), 1);
    assert.equal(await row.locator(sel("span-error-mark")).getAttribute("title"), ERROR_MESSAGE);
    assert.match(await row.locator(sel("span-bar")).getAttribute("class"), /\berror\b/);
    assert.equal(await page.locator(`${sel("span-row")}[data-status="ok"]`).count(), 1); // the root caught it
    await openSpan(page, "flaky_tool");
    const err = page.locator(sel("span-error"));
    assert.equal(await err.locator(sel("error-type")).textContent(), "TypeError");
    assert.equal(await err.locator(sel("error-message")).textContent(), ERROR_MESSAGE);
    const stack = await err.locator(sel("error-stack")).textContent();
    assert.match(stack, /^TypeError: upstream timed out/);
    assert.match(stack, /make-store\.mjs:\d+/);
    assert.equal(await page.locator("b").count(), 0); // the <b> in the message is text
  });
});

test("HTML and script text in span data is shown as text and runs nothing", async () => {
  await withPage(async (page) => {
    const row = rowByName(page, EVIL_TRACE_NAME);
    assert.equal(await row.count(), 1);
    await openTrace(page, EVIL_TRACE_NAME);
    await openSpan(page, "echo_html");
    const output = await page.locator(sel("span-output")).textContent();
    assert.ok(output.includes(`html: "${EVIL_OUTPUT}"`), output);
    assert.ok((await page.locator(sel("span-input")).textContent()).includes('<img src=y onerror="window.__xss = 3">'));
    assert.ok((await page.locator(sel("trace-metadata")).textContent()).includes("<script>window.__xss = 4</script>"));
    // Give any injected handler a chance to run, then check nothing did.
    await page.waitForTimeout(150);
    const dom = await page.evaluate(() => ({
      xss: window.__xss,
      imgs: document.querySelectorAll("img").length,
      scripts: [...document.scripts].map((s) => s.getAttribute("src")),
      italics: document.querySelectorAll("i").length,
      handlers: [...document.querySelectorAll("*")].filter((e) => [...e.attributes].some((a) => a.name.startsWith("on"))).length,
    }));
    assert.deepEqual(dom, { xss: undefined, imgs: 0, scripts: ["/app.js"], italics: 0, handlers: 0 });
  });
});

test("a torn last line is skipped, counted and shown as a warning", async () => {
  const data = await apiData();
  assert.equal(data.skipped, 1);
  assert.deepEqual(data.files.map((f) => [f.name, f.skipped]), [["crashed.jsonl", 1], ["traces.jsonl", 0]]);
  await withPage(async (page) => {
    const warning = page.locator(sel("warning"));
    await warning.waitFor();
    assert.equal(await warning.getAttribute("data-skipped"), "1");
    assert.match(await warning.textContent(), /1 unreadable line was skipped in crashed\.jsonl \(1\)/);
    // The records before the torn line are still shown.
    assert.equal(await rowByName(page, "crashed_run").count(), 1);
  });
});

test("the server reads appended lines incrementally and a completed torn line is no longer skipped", async () => {
  const dir = path.join(SCRATCH, "incremental");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  const full = fs.readFileSync(path.join(store.root, "crashed-run", "traces.jsonl"));
  const cut = full.lastIndexOf(0x0a, full.length - 2) + 20; // inside the last line
  const file = path.join(dir, "traces.jsonl");
  fs.writeFileSync(file, full.subarray(0, cut));
  const v = await startViewer({ dir, port: 0 });
  try {
    const before = await apiData(v);
    assert.equal(before.skipped, 1);
    fs.appendFileSync(file, full.subarray(cut));
    const after = await apiData(v);
    assert.equal(after.skipped, 0);
    assert.ok(after.version > before.version);
    const lines = full.toString("utf8").trimEnd().split("\n").length;
    assert.equal(after.files[0].records, lines);
    // Replaced by a shorter file: read again from the start.
    fs.writeFileSync(file, full.subarray(0, full.indexOf(0x0a) + 1));
    assert.equal((await apiData(v)).files[0].records, 1);
  } finally {
    await v.close();
  }
});

test("a trace appended to the store while the page is open appears without a reload", async () => {
  await withPage(async (page) => {
    await openTrace(page, "multi_agent_chat");
    await openSpan(page, "get_weather");
    await page.evaluate(() => (window.__sameDocument = true));
    const before = await page.locator(sel("trace-row")).count();
    await store.appendTrace("live_trace");
    await rowByName(page, "live_trace").waitFor({ timeout: 5000 });
    assert.equal(await page.locator(sel("trace-row")).count(), before + 1);
    // Newest first, and the page kept its state: same document, same trace and span open.
    assert.equal(await page.locator(sel("trace-row")).first().locator(sel("trace-name")).textContent(), "live_trace");
    assert.equal(await page.evaluate(() => window.__sameDocument), true);
    assert.equal(await page.locator(sel("trace-title")).textContent(), "multi_agent_chat");
    assert.equal(await page.locator(`${sel("span-details")} ${sel("span-title")}`).textContent(), "get_weather");
    assert.equal(await page.locator(sel("live-status")).textContent(), "● live");
  });
});

test("an exportLocal() JSON file opens in the page (file picker and drop) and with --file", async () => {
  const exported = JSON.parse(fs.readFileSync(store.exportFile, "utf8"));
  assert.equal(exported.agensight, "records");
  assert.equal(exported.version, 1);
  await withPage(async (page) => {
    const names = () => page.locator(`${sel("trace-row")} ${sel("trace-name")}`).allTextContents();
    await page.locator(sel("open-file")).setInputFiles(store.exportFile);
    await page.locator(`${sel("source")}:text-is("Export: export.json (opened in the browser)")`).waitFor();
    assert.deepEqual(await names(), ["browser_export_trace"]);
    assert.equal(await page.locator(sel("trace-session")).textContent(), "browser_session");
    await openTrace(page, "browser_export_trace");
    assert.deepEqual(await page.locator(`${sel("span-row")} ${sel("span-name")}`).allTextContents(), ["browser_export_trace", "step"]);
    assert.deepEqual(await page.locator(sel("span-row")).evaluateAll((els) => els.map((e) => e.dataset.depth)), ["0", "1"]);

    // Back to the live store.
    await page.locator(sel("back-live")).click();
    await rowByName(page, "multi_agent_chat").waitFor();
    assert.equal(await page.locator(sel("trace-view")).isHidden(), true);

    // Dropped on the page.
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], "dropped.json", { type: "application/json" }));
      window.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, cancelable: true }));
      window.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, cancelable: true }));
    }, JSON.stringify(exported));
    await page.locator(`${sel("source")}:text-is("Export: dropped.json (opened in the browser)")`).waitFor();
    assert.deepEqual(await names(), ["browser_export_trace"]);
    assert.equal(await page.locator(sel("drop-overlay")).isHidden(), true);

    // A JSON file that is not an export: a clear error, the data shown stays.
    await page.locator(sel("open-file")).setInputFiles({ name: "other.json", mimeType: "application/json", buffer: Buffer.from('{"hello": "world"}') });
    await page.locator(sel("error")).waitFor();
    assert.match(await page.locator(sel("error")).textContent(), /other\.json: This JSON is not an Agensight export/);
    assert.deepEqual(await names(), ["browser_export_trace"]);
  });

  const v = await startViewer({ file: store.exportFile, port: 0 });
  try {
    const data = await apiData(v);
    assert.equal(data.source, "file");
    assert.deepEqual(data.traces.map((t) => t.name), ["browser_export_trace"]);
    assert.equal(data.traces[0].spans.length, 2);
  } finally {
    await v.close();
  }
  await assert.rejects(startViewer({ file: path.join(SCRATCH, "missing.json"), port: 0 }), /no such file/);
});

function rawGet(port, host, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/api/status", headers: { Host: host, ...headers } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
  });
}

test("the server refuses a foreign Host header, sends security headers and listens on loopback only", async () => {
  const { port } = viewer;
  const foreign = await rawGet(port, `attacker.example:${port}`);
  assert.equal(foreign.status, 403);
  assert.doesNotMatch(foreign.body, /multi_agent_chat/);
  assert.equal((await rawGet(port, `127.0.0.1:${port + 1}`)).status, 403);
  const ok = await rawGet(port, `localhost:${port}`);
  assert.equal(ok.status, 200);
  assert.match(ok.headers["content-security-policy"], /default-src 'self'/);
  assert.match(ok.headers["content-security-policy"], /script-src 'self'(;|$)/);
  assert.equal(ok.headers["x-content-type-options"], "nosniff");
  assert.equal((await rawGet(port, `127.0.0.1:${port}`, { "If-None-Match": ok.headers.etag })).status, 304);
  const page = await fetch(viewer.url);
  assert.match(page.headers.get("content-security-policy"), /default-src 'self'/);
  assert.equal((await fetch(`${viewer.url}api/status`, { method: "POST" })).status, 405);
  assert.equal((await fetch(`${viewer.url}../../etc/passwd`)).status, 404);
  assert.equal(viewer.server.address().address, "127.0.0.1");
  await assert.rejects(startViewer({ dir: store.storeDir, host: "0.0.0.0", port: 0 }), /127\.0\.0\.1 only/);
  await assert.rejects(startViewer({ dir: store.storeDir, port }), (e) => e.code === "EADDRINUSE" && /already in use/.test(e.message) && e.message.includes(`--port`));
});

test("the CLI: `view` prints the URL and serves; --help; an unknown command exits 2", async () => {
  const run = (args) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (c) => (out += c));
      child.stderr.on("data", (c) => (err += c));
      child.on("exit", (code) => resolve({ code, out, err }));
    });
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: agensight-wasm view/);
  const unknown = await run(["serve"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command "serve"[\s\S]*Usage:/);
  assert.equal((await run(["view", "--bogus"])).code, 2);
  const busy = await run(["view", "--dir", store.storeDir, "--port", String(viewer.port)]);
  assert.equal(busy.code, 1);
  assert.match(busy.err, /already in use/);

  const child = spawn(process.execPath, [CLI, "view", "--dir", store.storeDir, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (c) => {
        out += c;
        const m = /^Agensight viewer: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`cli exited ${code}`)));
    });
    const data = await (await fetch(`${url}api/traces?q=multi_agent`)).json();
    assert.deepEqual(data.rows.map((t) => t.name), ["multi_agent_chat"]);
  } finally {
    child.kill("SIGTERM");
  }
});

test("the installed package ships the viewer: its `agensight-wasm` bin serves the page", async () => {
  const { installPackage } = await import("../support/package.mjs");
  const app = await installPackage();
  const bin = path.join(app, "node_modules/.bin/agensight-wasm");
  assert.ok(fs.existsSync(bin), "node_modules/.bin/agensight-wasm is installed");
  const child = spawn(bin, ["view", "--dir", store.storeDir, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = "";
      let err = "";
      child.stdout.on("data", (c) => {
        out += c;
        const m = /^Agensight viewer: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out);
        if (m) resolve(m[1]);
      });
      child.stderr.on("data", (c) => (err += c));
      child.on("exit", (code) => reject(new Error(`installed cli exited ${code}: ${err}`)));
    });
    for (const file of ["", "app.js", "style.css", "records.js", "exportfile.js", "query.js"]) {
      assert.equal((await fetch(url + file)).status, 200, `/${file}`);
    }
    const data = await (await fetch(`${url}api/traces?q=multi_agent`)).json();
    assert.deepEqual(data.rows.map((t) => t.name), ["multi_agent_chat"]);
  } finally {
    child.kill("SIGTERM");
  }
});

test("regular files only: a FIFO, a directory and a symlink named *.jsonl are left out with a warning; SIGTERM still stops the CLI", async () => {
  const dir = path.join(SCRATCH, "odd-files");
  const outside = path.join(SCRATCH, "odd-outside");
  for (const d of [dir, outside]) {
    fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(d, { recursive: true });
  }
  fs.copyFileSync(path.join(store.root, "crashed-run", "traces.jsonl"), path.join(dir, "traces.jsonl"));
  spawnSync("mkfifo", [path.join(dir, "fifo.jsonl")]);
  assert.ok(fs.statSync(path.join(dir, "fifo.jsonl")).isFIFO());
  fs.mkdirSync(path.join(dir, "dir.jsonl"));
  fs.copyFileSync(path.join(store.storeDir, "traces.jsonl"), path.join(outside, "other.jsonl"));
  fs.symlinkSync(path.join(outside, "other.jsonl"), path.join(dir, "link.jsonl"));
  const v = await startViewer({ dir, port: 0 });
  try {
    const data = await apiData(v);
    assert.deepEqual(data.traces.map((t) => t.name), ["crashed_run"]);
    assert.deepEqual(data.files.map((f) => f.name), ["traces.jsonl"]);
    assert.deepEqual(data.warnings, ["dir.jsonl", "fifo.jsonl", "link.jsonl"].map((n) => `${n} is not a regular file (a directory, FIFO, symlink or device): left out.`));
  } finally {
    await v.close();
  }
  const child = spawn(process.execPath, [CLI, "view", "--dir", dir, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve) => {
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
  });
  assert.equal((await (await fetch(`${url}api/traces`)).json()).total, 1);
  child.kill("SIGTERM");
  assert.deepEqual(await exited, { code: 0, signal: null });
});

test("a store rotating and capped while the viewer is open: the viewer shows what the store holds, newest first", async () => {
  const { fileStore, fileReader } = await import("../../js/store-file.js");
  const { createReadback } = await import("../../js/readback.js");
  const { traceLines } = await import("../store/lines.mjs");
  const dir = path.join(SCRATCH, "rotating");
  fs.rmSync(dir, { recursive: true, force: true });
  const files = fileStore(dir, { maxBytes: 256 * 1024, warn: assert.fail });
  const enc = (s) => new TextEncoder().encode(s);
  const v = await startViewer({ dir, port: 0 });
  try {
    let i = 0;
    for (let round = 0; round < 12; round++) {
      for (let k = 0; k < 40; k++, i++) files.write(enc(traceLines(i, { children: 1, pad: 200 })));
      const held = createReadback(() => fileReader(dir)).readLocal().traces.map((t) => t.id).reverse();
      const page = await (await fetch(`${v.url}api/traces?limit=500`)).json();
      assert.deepEqual(page.rows.map((r) => r.id), held, `round ${round}`);
      assert.equal(page.total, held.length);
    }
    assert.ok(files.counts().dropped > 0, "the cap deleted files while the viewer was open");
    assert.ok(fs.readdirSync(dir).length > 2, "and the store rotated");
  } finally {
    await v.close();
  }
});
