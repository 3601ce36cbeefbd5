// Writes the store the viewer tests read, with the REAL package: `agensight-wasm` installed
// from the packed tarball into a scratch directory (tests/support/package.mjs), imported as a
// user would import it, used through init / trace / span / flush.
//
// What it writes (all under `root`):
//   store/traces.jsonl   the package's store: traces "multi_agent_chat" (nested spans, two LLM
//                        calls and a tool), "failing_pipeline" (a tool span that throws) and
//                        "render <i>untrusted</i>" (HTML and script text in its data)
//   store/crashed.jsonl  the store file of another run ("crashed_run"), its last line torn in
//                        half as a crash mid-write leaves it
//   export.json          an exportLocal()-format file ({"agensight": "records", "version": 1,
//                        "records": [...]}) holding trace "browser_export_trace"
//
// `appendTrace(name)` writes one more trace into store/ (for the live-update test).
//
// Run alone: `node tests/viewer/make-store.mjs [root]`, then `node js/cli.js view --dir root/store`.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Imports the installed package from the scratch install, resolved as a user's ESM import. */
export async function loadPackage() {
  const support = await import("../support/package.mjs");
  if (support.importPackage) return support.importPackage();
  const scratch = await support.installPackage();
  const shim = path.join(scratch, "viewer-test-import.mjs");
  fs.writeFileSync(shim, 'export * from "agensight-wasm";\n');
  return import(pathToFileURL(shim).href);
}

/** An OpenAI-shaped chat completion, as `client.chat.completions.create()` returns it. */
function chatCompletion({ id, content = null, toolCalls, finish, usage: [prompt, completion] }) {
  const message = { role: "assistant", content };
  if (toolCalls) message.tool_calls = toolCalls;
  return {
    id,
    object: "chat.completion",
    created: 1764000000,
    model: "gpt-4o-mini-2024-07-18",
    choices: [{ index: 0, message, finish_reason: finish }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

export const SYSTEM_PROMPT = "You are a weather assistant. Answer in one sentence.";
export const QUESTION = "What is the weather in Paris?";
export const ANSWER = "It is sunny and 21 °C in Paris.";
export const ERROR_MESSAGE = "upstream timed out after 30 ms <b>bold?</b>";
export const EVIL_OUTPUT = '<img src=x onerror="window.__xss = 1"> and <script>window.__xss = 2</script>';
export const EVIL_TRACE_NAME = "render <i>untrusted</i>";

/** Runs the traces of the main store with `pkg` (already init()-ed to that store). */
async function writeMainTraces(pkg) {
  const { trace, span } = pkg;

  const retrieve = span(async (query) => {
    await sleep(25);
    return [{ doc: "paris-weather.md", score: 0.92, query }];
  }, { name: "retrieve", kind: "retriever" });
  const plan = span(async (question) => {
    await sleep(10);
    const docs = await retrieve(question);
    return { steps: ["look up the weather", "answer"], docs: docs.length };
  }, { name: "plan", kind: "agent" });
  const callLlm = span(async (request) => {
    await sleep(50);
    const last = request.messages[request.messages.length - 1];
    if (last.role === "user") {
      return chatCompletion({
        id: "chatcmpl-tool",
        toolCalls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' } }],
        finish: "tool_calls",
        usage: [30, 12],
      });
    }
    return chatCompletion({ id: "chatcmpl-answer", content: ANSWER, finish: "stop", usage: [50, 10] });
  }, { name: "llm", kind: "llm" });
  const getWeather = span(async ({ city }) => {
    await sleep(20);
    return { city, temp_c: 21, sky: "sunny" };
  }, { name: "get_weather", kind: "tool" });

  await trace(async (question) => {
    await plan(question);
    const messages = [
      { role: "system", content: SYSTEM_PROMPT },
      { role: "user", content: question },
    ];
    const first = await callLlm({ model: "gpt-4o-mini", temperature: 0.2, messages });
    const call = first.choices[0].message.tool_calls[0];
    const weather = await getWeather(JSON.parse(call.function.arguments));
    messages.push(first.choices[0].message, { role: "tool", tool_call_id: call.id, content: JSON.stringify(weather) });
    const second = await callLlm({ model: "gpt-4o-mini", temperature: 0.2, messages });
    return second.choices[0].message.content;
  }, { name: "multi_agent_chat", session: { id: "xyz123", name: "multi agent chat", user_id: "123" }, metadata: { plan: "pro" } })(QUESTION);

  await sleep(5);
  const flaky = span(async () => {
    await sleep(15);
    throw new TypeError(ERROR_MESSAGE);
  }, { name: "flaky_tool", kind: "tool" });
  await trace(async () => {
    await sleep(5);
    try {
      await flaky({ attempt: 1 });
    } catch {
      return "gave up";
    }
  }, { name: "failing_pipeline" })();

  await sleep(5);
  const echo = span(async (html) => {
    await sleep(5);
    return { html: EVIL_OUTPUT, echoed: html };
  }, { name: "echo_html", kind: "tool" });
  await trace(async () => echo('<img src=y onerror="window.__xss = 3">'), { name: EVIL_TRACE_NAME, metadata: { note: "<script>window.__xss = 4</script>" } })();
}

async function writeOneTrace(pkg, name) {
  const step = pkg.span(async (x) => {
    await sleep(5);
    return x * 2;
  }, { name: "step" });
  await pkg.trace(async () => step(21), { name })();
}

/**
 * Writes the store under `root` (which is emptied first).
 * @returns {Promise<{ root: string, storeDir: string, exportFile: string, pkg: object, appendTrace(name: string): Promise<void> }>}
 */
export async function makeStore(root, pkg) {
  pkg ??= await loadPackage();
  fs.rmSync(root, { recursive: true, force: true });
  const storeDir = path.join(root, "store");
  const crashDir = path.join(root, "crashed-run");
  const exportDir = path.join(root, "browser-run");
  const exportFile = path.join(root, "export.json");
  const base = { name: "viewer-test", mode: "local" };

  // Another run's store file, its last line torn by a crash.
  pkg.init({ ...base, dir: crashDir, session: "crash_session" });
  await writeOneTrace(pkg, "crashed_run");
  await pkg.flush();

  // The export a browser app would save with exportLocal().
  pkg.init({ ...base, dir: exportDir, session: "browser_session" });
  await writeOneTrace(pkg, "browser_export_trace");
  await pkg.flush();

  // The main store.
  pkg.init({ ...base, dir: storeDir, session: "user_456" });
  await writeMainTraces(pkg);
  await pkg.flush();

  const crashed = fs.readFileSync(path.join(crashDir, "traces.jsonl"), "utf8").trimEnd().split("\n");
  const torn = crashed.pop();
  fs.writeFileSync(path.join(storeDir, "crashed.jsonl"), `${crashed.join("\n")}\n${torn.slice(0, Math.floor(torn.length / 2))}`);

  const records = fs.readFileSync(path.join(exportDir, "traces.jsonl"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
  fs.writeFileSync(exportFile, JSON.stringify({ agensight: "records", version: 1, records }));

  return {
    root,
    storeDir,
    exportFile,
    pkg,
    async appendTrace(name) {
      await writeOneTrace(pkg, name);
      await pkg.flush();
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? "tests/.scratch/viewer-store");
  const { storeDir, exportFile } = await makeStore(root);
  console.log(`store: ${storeDir}\nexport: ${exportFile}\nview it: node js/cli.js view --dir ${storeDir}`);
}
