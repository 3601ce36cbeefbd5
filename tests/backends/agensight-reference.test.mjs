// The reference client (PyPI agensight 0.6.3, in the venv of scripts/bootstrap-python) as the
// oracle for `exporter: "agensight"`: the docs' multi-agent example runs once with it
// (reference_example.py) and once with this package (example.mjs), both against ONE local
// receiver that has only the reference client's paths, both LLM calls answered by the same
// OpenAI double. The records are compared field by field (ids compared by what they point to),
// then both sets are loaded into the reference package's SQLite schema and its dashboard code
// (dashboard.py): the same agents, prompts, completions, tools and total tokens must show.
// Where the reference client is wrong on purpose-worthy points (docs/records.md, "What the
// reference client sends"), DELIBERATE says what we do instead; everything else must match.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { ROOT } from "../support/package.mjs";
import { startServer } from "../llm/server.mjs";
import { referenceReceiver } from "./reference-receiver.mjs";

const run = promisify(execFile);
const HERE = fileURLToPath(new URL(".", import.meta.url));
const PYTHON = `${ROOT}/tests/.scratch/pyenv/bin/python`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const chat = (id, message, finish, usage) => ({ json: { id, object: "chat.completion", created: 1700000000, model: "gpt-4o-mini-2024-07-18", choices: [{ index: 0, message, finish_reason: finish }], usage } });
const REPLIES = () => [
  chat("chatcmpl-1", { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }, "tool_calls", { prompt_tokens: 52, completion_tokens: 17, total_tokens: 69 }),
  chat("chatcmpl-2", { role: "assistant", content: "Sunny, 21°C." }, "stop", { prompt_tokens: 88, completion_tokens: 21, total_tokens: 109 }),
];

let rx, llm;
const out = {};
before(async () => {
  rx = await referenceReceiver();
  llm = await startServer();
  const env = { ...process.env, AGENSIGHT_TEST_BASE: rx.url, OPENAI_BASE_URL: `${llm.url}/v1` };
  for (const [client, cmd, args] of [["reference", PYTHON, [`${HERE}reference_example.py`]], ["ours", process.execPath, [`${HERE}example.mjs`]]]) {
    rx.tag(client);
    llm.reply(...REPLIES());
    const r = await run(cmd, args, { env, cwd: ROOT, timeout: 120_000 }).catch((e) => {
      throw new Error(`${client} example failed (${e.code}): ${e.stderr || e.message}`);
    });
    out[client] = r.stdout;
    assert.equal(llm.pending(), 0, `${client}: both LLM calls made`);
  }
});
after(async () => {
  await rx?.close();
  await llm?.close();
});

const records = (client) => rx.records.filter((r) => r.client === client);
const calls = (client) => rx.calls.filter((c) => c.client === client);

test("both examples ran and printed the same final answer", () => {
  assert.match(out.reference, /^final: Sunny, 21°C\.$/m);
  assert.match(out.ours, /^final: Sunny, 21°C\.$/m);
});

test("every request of ours goes to a path the reference backend has (none answered 404)", () => {
  assert.ok(calls("reference").length > 0 && calls("reference").every((c) => c.status === 200), "the reference client's all answered 200");
  assert.deepEqual(calls("ours").filter((c) => c.status !== 200).map((c) => `${c.path} -> ${c.status}`), []);
  // 5 spans: the trace's root, the two `llm` spans and their two OpenAI calls.
  assert.deepEqual(JSON.parse(out.ours.trim().split("\n").at(-1)), { exported: 5, failed: 0, pending: 0, dropped: 0 });
});

test("a trace whose token total was refused (404) is counted failed by flush(), not exported", async () => {
  rx.tag("refused");
  rx.refuse("trace/update");
  llm.reply(...REPLIES());
  const env = { ...process.env, AGENSIGHT_TEST_BASE: rx.url, OPENAI_BASE_URL: `${llm.url}/v1` };
  const r = await run(process.execPath, [`${HERE}example.mjs`], { env, cwd: ROOT, timeout: 120_000 }).finally(() => rx.refuse());
  assert.deepEqual(calls("refused").filter((c) => c.status !== 200).map((c) => `${c.path} -> ${c.status}`), [`${new URL(rx.url).pathname}/logs/create/trace/update -> 404`]);
  assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").at(-1)), { exported: 0, failed: 5, pending: 0, dropped: 0 });
  assert.match(r.stderr, /404/, "the refusal is warned about");
});

/** The records of one run, spans paired in (depth, start) order, ids turned into names. */
function normalize(list, { dropRoot }) {
  const spans = list.filter((r) => r.type === "span").map((r) => r.data);
  const depth = (s) => (s.parent_id ? 1 + depth(spans.find((p) => p.id === s.parent_id) ?? {}) : 0);
  let ordered = spans.map((s) => ({ s, d: depth(s) })).sort((a, b) => a.d - b.d || a.s.started_at - b.s.started_at).map((x) => x.s);
  const root = dropRoot ? ordered.find((s) => !s.parent_id) : null;
  if (root) ordered = ordered.filter((s) => s !== root);
  const names = new Map(ordered.map((s, i) => [s.id, `span#${i}`]));
  if (root) names.set(root.id, "root");
  for (const t of list.filter((r) => r.type === "trace")) names.set(t.data.id, "trace");
  const id = (v) => (v == null ? v : names.get(v) ?? `unknown id ${v}`);
  const byType = (type) => list.filter((r) => r.type === type).map((r) => r.data);
  return {
    spans: ordered.map((s) => ({ ...s, id: id(s.id), trace_id: id(s.trace_id), parent_id: id(s.parent_id), attributes: JSON.parse(s.attributes) })),
    root,
    rawIds: spans.map((s) => s.id),
    bySpan: (type) => byType(type).map((r) => ({ ...r, span_id: id(r.span_id) })),
    sessions: byType("session"),
    traces: byType("trace"),
    updates: byType("trace/update").map((u) => ({ ...u, id: id(u.id) })),
  };
}

// The span attributes the reference client's exporter and dashboard read (docs/records.md, "What
// the reference client sends"); the OpenAI instrumentation's other attributes (llm.request.type,
// llm.is_streaming, gen_ai.openai.api_base, ...) are read by neither and not compared.
const READ = [/^trace_id$/, /^trace\.name$/, /^session\.id$/, /^agent\.name$/, /^gen_ai\.system$/, /^gen_ai\.normalized_input_output$/, /^gen_ai\.request\.model$/, /^gen_ai\.prompt\.\d+\.(role|content)$/, /^gen_ai\.completion\.0\.(role|content|finish_reason)$/, /^gen_ai\.completion\.0\.tool_calls\.\d+\./, /^llm\.usage\.total_tokens$/, /^gen_ai\.usage\.(prompt|completion|total)_tokens$/];
// Values that differ between two runs by nature (ids) are compared by presence.
const VOLATILE = new Set(["trace_id"]);

/** Field-by-field differences, as "where: ours X, reference Y" lines. */
function differences(ref, ours) {
  const diffs = [];
  const cmp = (where, a, b) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${where}: ours ${JSON.stringify(b)}, reference ${JSON.stringify(a)}`);
  };
  cmp("span count (besides our root span)", ref.spans.length, ours.spans.length);
  ref.spans.forEach((r, i) => {
    const o = ours.spans[i] ?? { attributes: {} };
    const at = `span#${i} (${r.name})`;
    for (const f of ["trace_id", "parent_id", "kind", "status", "mode", "project_id"]) {
      // DELIBERATE: a trace() is a root span here, so the reference's parentless spans have it as parent.
      if (f === "parent_id" && r.parent_id === null && o.parent_id === "root") continue;
      // DELIBERATE: a call that returned is OK here; the reference leaves every status UNSET.
      if (f === "status" && r.status === "StatusCode.UNSET" && o.status === "StatusCode.OK") continue;
      cmp(`${at}.${f}`, r[f], o[f]);
    }
    for (const [k, v] of Object.entries(r.attributes)) {
      if (!READ.some((re) => re.test(k))) continue;
      if (VOLATILE.has(k)) cmp(`${at}.attributes["${k}"] present`, true, k in o.attributes);
      else if (k === "gen_ai.normalized_input_output") cmp(`${at}.attributes["${k}"]`, JSON.parse(v), o.attributes[k] === undefined ? undefined : JSON.parse(o.attributes[k]));
      else cmp(`${at}.attributes["${k}"]`, v, o.attributes[k]);
    }
  });
  for (const type of ["prompt", "completion", "tool"]) {
    // Paired by span and position within the span.
    const keyed = (list) => {
      const seen = {};
      return new Map(list.map((r) => [`${r.span_id}[${(seen[r.span_id] = (seen[r.span_id] ?? -1) + 1)}]`, r]));
    };
    const a = keyed(ref.bySpan(type));
    const b = keyed(ours.bySpan(type));
    for (const k of b.keys()) if (!a.has(k)) diffs.push(`${type} of ${k}: ours ${JSON.stringify(b.get(k))}, reference none`);
    for (const [k, r] of a) {
      if (!b.has(k)) {
        diffs.push(`${type} of ${k}: ours none, reference ${JSON.stringify(r)}`);
        continue;
      }
      for (const [f, v] of Object.entries(r)) {
        // DELIBERATE: the token split the reference leaves null (it reads attribute names its
        // instrumentation does not write) is given here; the total must still agree.
        if (type === "completion" && (f === "prompt_tokens" || f === "completion_tokens") && v === null && Number.isInteger(b.get(k)[f])) continue;
        cmp(`${type} of ${k}.${f}`, v, b.get(k)[f]);
      }
    }
  }
  const session = (list, id) => list.find((s) => s.id === id);
  for (const id of new Set(ref.traces.map((t) => t.session_id))) {
    // DELIBERATE: one session record, with its name and user id (the reference posts it again, blank).
    const a = session(ref.sessions, id);
    const b = session(ours.sessions, id);
    for (const f of ["id", "project_id", "session_name", "user_id", "metadata", "mode"]) cmp(`session ${id}.${f}`, a?.[f], b?.[f]);
  }
  cmp("trace count", ref.traces.length, ours.traces.length);
  for (const f of ["project_id", "name", "session_id", "mode"]) cmp(`trace.${f}`, ref.traces[0]?.[f], ours.traces[0]?.[f]);
  cmp("trace/update records", ref.updates, ours.updates);
  return diffs;
}

test("our records match the reference client's field by field (ids by what they point to)", () => {
  const ref = normalize(records("reference"), { dropRoot: false });
  const ours = normalize(records("ours"), { dropRoot: true });
  assert.ok(ref.rawIds.every((id) => UUID.test(id)), "the reference's span ids are UUIDs");
  assert.ok(ours.root, "our trace has its root span");
  const diffs = differences(ref, ours);
  const notUuid = ours.rawIds.filter((id) => !UUID.test(id));
  if (notUuid.length) diffs.unshift(`span ids: ours ${JSON.stringify(notUuid)}, reference UUID strings`);
  assert.deepEqual(diffs, [], `${diffs.length} field(s) differ from the reference client:\n${diffs.join("\n")}`);
});

test("where the reference client is wrong, ours is right (docs/records.md)", () => {
  const ours = records("ours");
  const trace = ours.find((r) => r.type === "trace").data;
  const spans = ours.filter((r) => r.type === "span").map((r) => r.data);
  assert.equal(trace.metadata, '{"plan":"pro"}', "the trace's metadata is kept");
  assert.ok(trace.started_at <= Math.min(...spans.map((s) => s.started_at)) && trace.ended_at >= Math.max(...spans.map((s) => s.ended_at)), "the trace's times span its spans");
  const sessions = ours.filter((r) => r.type === "session").map((r) => r.data);
  assert.deepEqual(sessions.map((s) => [s.id, s.session_name, s.user_id]), [["user_789", "multi agent chat", "123"]], "one session record, never a blank repeat");
});

async function dashboard(list) {
  const child = execFile(PYTHON, [`${HERE}dashboard.py`], { cwd: HERE, maxBuffer: 64 << 20 });
  child.stdin.end(JSON.stringify(list.map(({ type, data }) => ({ type, data }))));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const code = await new Promise((r) => child.on("close", r));
  assert.equal(code, 0, `dashboard.py failed: ${stderr}`);
  return JSON.parse(stdout);
}

/** What the dashboard shows for the one trace, without ids and times. */
function shown(view) {
  assert.equal(view.traces.length, 1, "one trace listed");
  const [t] = view.traces;
  const s = view.structured[t.id];
  return {
    trace: { name: t.name, session_id: t.session_id, total_tokens: t.total_tokens },
    trace_input: s.trace_input,
    trace_output: s.trace_output,
    agents: s.agents.map((a) => ({ name: a.name, tools: a.tools_called.map((c) => ({ name: c.name, args: c.args })), final_completion: a.final_completion, model_used: a.model_used })),
  };
}

test("the reference dashboard shows our records as it shows its own: agents, prompts, completions, tools, total tokens", async () => {
  const ref = shown(await dashboard(records("reference")));
  assert.ok(ref.agents.length > 0, "the reference's own records show agents");
  assert.equal(ref.trace.total_tokens, 178);
  const ours = shown(await dashboard(records("ours")));
  assert.deepEqual(ours, ref, `ours ${JSON.stringify(ours)}\nreference ${JSON.stringify(ref)}`);
});
