// Secrets: with the default `redact: true`, OpenAI and Anthropic keys, bearer tokens,
// authorization / api-key / x-api-key headers and password / secret / token-named fields in
// captured inputs, outputs, errors, metadata and object keys are masked in the local store; a
// custom redact function is applied beside the built-in patterns; the init token appears
// nowhere: not in store or outbox files, not in any warning printed.
// (Both wire formats: the OTLP and Agensight payloads are checked by the export tests of issue 4;
// extend here once a receiver fixture is shared.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importPackage, storeLines } from "./support/helpers.mjs";

const { init, trace, span, flush } = await importPackage();

const TOKEN = "agsk_9f8e7d6c5b4a3210fedcba";
const OPENAI = "sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6";
const ANTHROPIC = "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-AbCdEf_012345";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl";
const PASSWORD = "hunter2-correct-horse";
const CLIENT_SECRET = "cs-value-0123456789";
const REFRESH = "rt-value-abcdefghij";
const PLAIN_KEY = "plainkey0123456789abcdef"; // no recognisable shape: masked by its key name only
const SECRETS = { TOKEN, OPENAI, ANTHROPIC, JWT, PASSWORD, CLIENT_SECRET, REFRESH, PLAIN_KEY };

const tmp = () => mkdtempSync(join(tmpdir(), "agensight-secrets-"));

/** Every file under dir, as text. */
function allFiles(dir) {
  let text = "";
  for (const name of readdirSync(dir, { recursive: true })) {
    const p = join(dir, String(name));
    if (statSync(p).isFile()) text += readFileSync(p, "utf8");
  }
  return text;
}

function assertAbsent(text, names, where) {
  for (const n of names) assert.ok(!text.includes(SECRETS[n]), `${n} is visible in ${where}`);
}

/** A request an LLM app might log, in every shape secrets come in. */
function request() {
  return {
    url: `https://api.example.com/v1?key=${TOKEN}`,
    headers: { Authorization: `Bearer ${JWT}`, "api-key": PLAIN_KEY, "x-api-key": ANTHROPIC, "X-Trace": "keep-me" },
    body: { model: "gpt-4o", max_tokens: 100, password: PASSWORD, client_secret: CLIENT_SECRET, refreshToken: REFRESH, auth: { access_token: PLAIN_KEY } },
    env: `OPENAI_API_KEY=${OPENAI}\nANTHROPIC_API_KEY=${ANTHROPIC}\n\t${OPENAI}\u0001${OPENAI}`,
    curl: `curl -H "Authorization: Bearer ${JWT}" -H "x-api-key: ${ANTHROPIC}"`,
    keyed: { [OPENAI]: "client-1", [TOKEN]: 1 },
    map: new Map([["authorization", `Bearer ${JWT}`], [OPENAI, TOKEN]]),
    list: [OPENAI, [ANTHROPIC, [TOKEN]]],
  };
}

test("default redaction: no secret in the store, whatever shape it came in", async () => {
  const dir = tmp();
  init({ dir, token: TOKEN });
  const llm = span(async (req) => ({ echoed: req, reply: `use ${OPENAI} with token ${TOKEN}` }), "llm");
  const failing = span((req) => {
    throw Object.assign(new Error(`401 for ${OPENAI}: Bearer ${JWT} / token ${TOKEN}`), { config: req });
  }, "failing");
  const main = trace(async () => {
    await llm(request());
    try {
      failing(request());
    } catch {}
    return { apiKey: PLAIN_KEY, note: `done with ${ANTHROPIC}` };
  }, { name: "main", metadata: { apiKey: PLAIN_KEY, note: `token ${TOKEN}` } });
  await main();
  await flush();
  const text = allFiles(dir);
  assertAbsent(text, Object.keys(SECRETS), "the store");
  // What is not secret is kept; the masks are where the secrets were.
  const spans = storeLines(dir).filter((l) => l.type === "span").map((l) => ({ ...l.data, attributes: JSON.parse(l.data.attributes) }));
  const input = spans.find((s) => s.name === "llm").attributes.input[0];
  assert.deepEqual(input.headers, { Authorization: "[REDACTED]", "api-key": "[REDACTED]", "x-api-key": "[REDACTED]", "X-Trace": "keep-me" });
  assert.equal(input.body.max_tokens, 100);
  assert.equal(input.body.password, "[REDACTED]");
  assert.equal(input.url, "https://api.example.com/v1?key=[REDACTED]");
  const error = spans.find((s) => s.name === "failing").attributes;
  assert.equal(error["error.message"], "401 for [REDACTED]: Bearer [REDACTED] / token [REDACTED]");
});

test("header pairs in arrays ([name, value], as fetch accepts them) are masked by name", async () => {
  const dir = tmp();
  init({ dir });
  span((init) => init, "fetch")({ headers: [["x-api-key", PLAIN_KEY], ["Authorization", `Basic ${PLAIN_KEY}`]] });
  await flush();
  assertAbsent(allFiles(dir), ["PLAIN_KEY"], "the store");
});

test("a redact function adds to the built-in patterns; the token is masked still; the app's values are untouched", async () => {
  const dir = tmp();
  let calls = 0;
  init({
    dir,
    token: TOKEN,
    redact: (v) => {
      calls++;
      if (v && typeof v === "object") v.mutated = true; // a copy: the app never sees this
      return JSON.parse(JSON.stringify(v).replaceAll("internal-codename", "[CUSTOM]"));
    },
  });
  const arg = { project: "internal-codename", token: TOKEN, key: OPENAI };
  const result = span((a) => ({ ...a }), "f")(arg);
  assert.equal(arg.mutated, undefined);
  assert.equal(result.mutated, undefined);
  await flush();
  const text = allFiles(dir);
  assert.ok(calls >= 2, "applied to the input and the output");
  assert.ok(!text.includes("internal-codename"));
  assert.ok(text.includes("[CUSTOM]"));
  assertAbsent(text, ["TOKEN"], "the store");
  assertAbsent(text, ["OPENAI"], "the store (built-in patterns stay on beside a redact function)");
  // redact: false too: the token is still masked.
  const dir2 = tmp();
  init({ dir: dir2, token: TOKEN, redact: false });
  span((x) => x, "g")(`key ${TOKEN}`);
  await flush();
  assertAbsent(allFiles(dir2), ["TOKEN"], "the store");
});

/** A receiver that refuses everything and echoes what it got (as many APIs echo a bad key). */
async function echoingReceiver() {
  const bodies = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      bodies.push(body);
      res.writeHead(req.url.endsWith("/auth/validate") ? 401 : 500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `rejected ${req.headers.authorization ?? ""} ${body}` }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, bodies, url: `http://127.0.0.1:${server.address().port}` };
}

test("the token appears in no warning and no outbox file, even when the receiver echoes it", async (t) => {
  const printed = [];
  for (const m of ["warn", "error", "log", "info"]) t.mock.method(console, m, (...args) => printed.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" ")));
  const rx = await echoingReceiver();
  try {
    for (const [mode, exporter] of [["dev", "agensight"], ["prod", "agensight"], ["dev", "otlp"]]) {
      const dir = tmp();
      init({ mode, exporter, token: TOKEN, dir, endpoint: exporter === "otlp" ? `${rx.url}/v1/traces` : rx.url, headers: { "x-extra": TOKEN }, queue: { deadlineMs: 50 } });
      trace(() => `with ${TOKEN}`, "work")();
      await flush({ timeoutMs: 2000 });
      assertAbsent(allFiles(dir), ["TOKEN"], `the ${mode}/${exporter} store and outbox`);
    }
    assert.ok(rx.bodies.length > 0, "the receiver was reached");
    assert.ok(printed.length > 0, "warnings were printed");
    assertAbsent(printed.join("\n"), ["TOKEN"], "the printed warnings");
  } finally {
    rx.server.close();
  }
});
