// Secrets, judged by an independent oracle: secretlint with its recommended preset
// (@secretlint/secretlint-rule-preset-recommend, pinned in package.json). A corpus of realistic
// captured values holds a well-formed fake secret for every rule of the preset and for the
// categories of gitleaks' default rules; it goes through the packed package as inputs, outputs,
// errors, metadata, span names, sessions, Headers and URL objects, and secretlint runs over
// everything written to the local store and every request body sent to a real OTLP receiver
// and a real Agensight receiver: zero findings, and no secret's text anywhere. Ordinary text
// (prose, code, JSON, UUIDs, hashes, base64 images) comes out unchanged.
//
// The fake secrets are generated here from a seeded generator: no key-shaped literal sits in
// the source (it would trip push protection).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lintSource } from "@secretlint/core";
import { creator as recommended } from "@secretlint/secretlint-rule-preset-recommend";
import { importPackage, storeLines } from "./support/helpers.mjs";
import { agensightReceiver, otlpReceiver } from "../export/receivers.mjs";

const { init, trace, span, flush } = await importPackage();

// ---- the corpus ----

let seed = 0x5eed1234;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const pick = (alphabet, n) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
const alnum = (n) => pick(ALNUM, n);
const upper = (n) => pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", n);
const hex = (n) => pick("0123456789abcdef", n);
const digits = (n) => pick("0123456789", n);
const letters = (n) => pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", n);
const b64 = (n) => pick(ALNUM + "+/", n);
const j = (...parts) => parts.join("");

/** A 1Password service account token's body: base64 JSON (ending in `fQ==`, as the rule
 * wants). */
function onePassword() {
  for (let pad = ""; ; pad += "x") {
    const json = JSON.stringify({ email: `${alnum(12).toLowerCase()}@1passwordserviceaccounts.lcl`, secretKey: `A3-${upper(6)}-${upper(6)}-${upper(5)}`, srpX: hex(64), pad });
    const text = Buffer.from(json).toString("base64");
    if (text.endsWith("fQ==")) return text;
  }
}

/** [category, secret text, where it sits in captured text, whether secretlint has a rule]. */
function corpus() {
  const pem = (kind) => j("-----BEGIN ", kind, "PRIVATE KEY-----\n", "MII", b64(61), "\n", b64(64), "\n", b64(40), "\n-----END ", kind, "PRIVATE KEY-----");
  const s = [
    ["aws access key id", j("AKIA", upper(16)), (x) => `aws_access_key_id=${x}`, true],
    ["aws secret access key", b64(40), (x) => `AWS_SECRET_ACCESS_KEY=${x}`, true],
    ["aws secret in JSON text", b64(40), (x) => JSON.stringify({ aws_secret_access_key: x }), true],
    ["rsa private key", pem("RSA "), (x) => `key file:\n${x}\n`, true],
    ["openssh private key", j("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE", b64(90), "\n-----END OPENSSH PRIVATE KEY-----"), (x) => x, true],
    ["pkcs8 private key", pem(""), (x) => JSON.stringify({ type: "service_account", private_key: x }), true],
    ["npm token", j("npm_", alnum(36)), (x) => `//registry.npmjs.org/:_authToken=${x}`, true],
    ["basic auth url", j("https://deploy:", alnum(12), "@example.com"), (x) => `cloning ${x}/repo.git`, true],
    ["slack bot token", j("xoxb-", digits(12), "-", digits(13), "-", alnum(24)), (x) => `SLACK=${x}`, true],
    ["slack webhook", j("https://hooks.slack.com/services/T", upper(10), "/B", upper(10), "/", alnum(24)), (x) => `post to ${x}`, true],
    ["sendgrid", j("SG.", alnum(22), ".", alnum(43)), (x) => `sendgrid key ${x}`, true],
    ["shopify", j("shpat_", hex(32)), (x) => `X-Shopify-Access-Token: ${x}`, true],
    ["stripe live", j("sk_live_", alnum(30)), (x) => `stripe.setKey("${x}")`, true],
    ["stripe restricted", j("rk_live_", alnum(30)), (x) => `${x}`, true],
    ["github classic", j("ghp_", alnum(36)), (x) => `git push https://${x}@github.com/o/r`, true],
    ["github oauth", j("gho_", alnum(36)), (x) => `token ${x}`, true],
    ["github user-to-server", j("ghu_", alnum(36)), (x) => `"${x}"`, true],
    ["github server-to-server", j("ghs_", alnum(36)), (x) => `GITHUB_TOKEN=${x}`, true],
    ["github refresh", j("ghr_", alnum(36)), (x) => `refresh=${x}`, true],
    ["github fine-grained", j("github_pat_", alnum(22), "_", alnum(59)), (x) => `pat:${x}`, true],
    ["gitlab", j("glpat-", alnum(20)), (x) => `PRIVATE-TOKEN: ${x}`, true],
    ["grafana cloud", j("glc_", "eyJ", b64(60), "=="), (x) => `grafana ${x}`, true],
    ["grafana service account", j("glsa_", alnum(32), "_", hex(8)), (x) => `grafana ${x}`, true],
    ["openai project", j("sk-proj-", alnum(74), "T3BlbkFJ", alnum(74)), (x) => `OPENAI_API_KEY="${x}"`, true],
    ["openai legacy", j("sk-", alnum(20), "T3BlbkFJ", alnum(20)), (x) => `key ${x}`, true],
    ["anthropic", j("sk-ant-api03-", alnum(93), "AA"), (x) => `x-api-key: ${x}`, true],
    ["groq", j("gsk_", alnum(52)), (x) => `GROQ=${x}`, true],
    ["huggingface", j("hf_", letters(34)), (x) => `hf token ${x}`, true],
    ["linear", j("lin_api_", alnum(40)), (x) => `${x}`, true],
    ["notion", j("ntn_", digits(11), alnum(35)), (x) => `notion ${x}`, true],
    ["1password service account", j("ops_", onePassword()), (x) => `OP_SERVICE_ACCOUNT_TOKEN=${x}`, true],
    ["mongodb uri", j("mongodb+srv://app:", alnum(14), "@cluster0.example.net/db"), (x) => `MONGO_URL=${x}`, true],
    ["mysql uri", j("mysql://root:", alnum(12), "@db.example.com:3306/app"), (x) => `${x}`, true],
    ["postgres uri", j("postgresql://svc:", alnum(12), "@pg.example.com:5432/app"), (x) => `dsn ${x}`, true],
    ["vault service token", j("hvs.", alnum(95)), (x) => `VAULT_TOKEN=${x}`, true],
    ["vercel", j("vcp_", alnum(40)), (x) => `${x}`, true],
    ["databricks", j("dapi", hex(32)), (x) => `databricks ${x}`, true],
    ["docker hub", j("dckr_pat_", alnum(27)), (x) => `docker login -p ${x}`, true],
    ["figma", j("figd_", alnum(40)), (x) => `${x}`, true],
    ["cloudflare", j("cfut_", alnum(40), hex(8)), (x) => `CF=${x}`, true],
    ["tailscale", j("tskey-auth-", alnum(12), "-", alnum(30)), (x) => `${x}`, true],
    // gitleaks default categories that secretlint's preset has no rule for: judged by the
    // secret's text being gone.
    ["jwt", j("eyJ", b64(20).replace(/[+/]/g, "x"), ".eyJ", alnum(40), ".", alnum(43)), (x) => `id_token ${x}`, false],
    ["generic api key", alnum(32), (x) => `api_key = "${x}"`, false],
    ["generic password", j(alnum(10), "!9"), (x) => `password: ${x}`, false],
    ["client secret in a form", alnum(24), (x) => `grant_type=client_credentials&client_secret=${x}&scope=a`, false],
    ["secret query parameter", alnum(20), (x) => `https://api.example.com/v1/x?access_token=${x}&page=2`, false],
    ["url-encoded", alnum(20), (x) => `redirect=%2Fcb%3Fapi_key%3D${x}%26a%3D1`, false],
    ["basic authorization", Buffer.from(`user:${alnum(12)}`).toString("base64"), (x) => `Authorization: Basic ${x}`, false],
    ["bearer with a tab", alnum(32), (x) => `Authorization: Bearer\t${x}`, false],
    ["pypi", j("pypi-AgEIcHlwaS5vcmc", alnum(60)), (x) => `${x}`, false],
    ["twilio", j("SK", hex(32)), (x) => `twilio ${x}`, false],
    ["google api key", j("AIza", alnum(35)), (x) => `https://maps.example.com/api?key=${x}`, false],
    ["azure storage", b64(86) + "==", (x) => `DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${x};EndpointSuffix=core.windows.net`, false],
    ["age", j("AGE-SECRET-KEY-1", upper(58)), (x) => `${x}`, false],
    ["signature", hex(64), (x) => `?X-Amz-Credential=a&X-Amz-Signature=${x}`, false],
    ["glued to a word", j("ghp_", alnum(36)), (x) => `mytoken${x}`, false],
  ];
  return s.map(([category, secret, place, linted]) => ({ category, secret, text: place(secret), linted }));
}

const ORDINARY = [
  "What's the weather in Paris? Sunny, 21 °C. The basic idea: bearer bonds are paper.",
  "Reset your password: follow the link we sent. Tokens used: 512; max_tokens=1024.",
  "function add(a, b) { return a + b; } // const password = getPassword(); if (token == null) return;",
  '{"role":"user","content":"Summarize: task-management-system-v2 ships today","n":3}',
  "550e8400-e29b-41d4-a716-446655440000 7c9e6679-7425-40de-944b-e07fc1f90ae7",
  "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 commit 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "See https://example.com/docs?page=2&lang=en#intro and mailto:team@example.com at 12:30.",
  "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
  "SELECT id, author, created_at FROM posts WHERE author = 'ana' AND id >= 10;",
];

// ---- the oracle ----

async function findings(text, name) {
  const result = await lintSource({
    source: { filePath: `/virtual/${name}.txt`, content: text, ext: ".txt", contentType: "text" },
    options: {
      // AWS key ids are only reported with enableIDScanRule: the oracle is strict.
      config: { rules: [{ id: "@secretlint/secretlint-rule-preset-recommend", rule: recommended, rules: [{ id: "@secretlint/secretlint-rule-aws", options: { enableIDScanRule: true } }] }] },
      noPhysicFilePath: true,
    },
  });
  return result.messages.map((m) => `${name}: ${m.ruleId}: ${m.message.slice(0, 80)}`);
}

/** Every oracle finding, and every corpus secret whose text is still there, in `texts`. */
async function leaks(texts, items) {
  const found = [];
  for (const [name, text] of texts) {
    found.push(...(await findings(text, name)));
    for (const it of items) if (text.includes(it.secret)) found.push(`${name}: ${it.category} visible`);
  }
  return found;
}

/** Prints the counts (the report's before/after numbers come from here). */
function report(found, where) {
  const visible = found.filter((f) => f.endsWith(" visible")).length;
  console.log(`# ${where}: ${found.length - visible} secretlint findings, ${visible} corpus secrets visible`);
}

function allFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir, { recursive: true })) {
    const p = join(dir, String(name));
    if (statSync(p).isFile()) out.push([p, readFileSync(p, "utf8")]);
  }
  return out;
}

/** Captures every corpus item every way an app hands values to the tracer. */
async function capture(items) {
  for (const [n, it] of items.entries()) {
    const call = span((input) => ({ reply: `ok: ${it.text}`, echoed: input }), `step-${n}`);
    const fail = span(() => {
      throw new Error(`request failed: ${it.text}`);
    }, "fail");
    const named = span(() => 1, `fetch ${it.text.slice(0, 200)}`);
    const headers = new Headers({ authorization: `Bearer ${it.secret.slice(0, 200).replace(/\s/g, "")}`, "x-note": "keep" });
    await trace(async () => {
      call({ prompt: `use this: ${it.text}`, list: [it.text], headers });
      try {
        fail();
      } catch {}
      named();
      return it.text;
    }, { name: `main-${n}`, metadata: { note: it.text }, session: { id: `s-${n}-${it.text.slice(0, 120)}`, name: it.text.slice(0, 200) } })();
  }
  // A URL object with credentials, as an argument.
  span((u) => u, "url")(new URL(`https://deploy:${alnum(12)}@example.com/x`));
}

test("the oracle recognises every fake secret it has a rule for (the corpus is well-formed)", async () => {
  const missed = [];
  for (const it of corpus().filter((i) => i.linted)) {
    if ((await findings(it.text, it.category)).length === 0) missed.push(it.category);
  }
  assert.deepEqual(missed, []);
});

test("local store: secretlint finds nothing in any file written, no secret's text is there", async (t) => {
  t.mock.method(console, "warn", () => {});
  const items = corpus();
  const dir = mkdtempSync(join(tmpdir(), "agensight-oracle-"));
  init({ dir });
  await capture(items);
  await flush();
  const files = allFiles(dir);
  assert.ok(files.length > 0 && files.some(([, text]) => text.includes("[REDACTED]")));
  const found = await leaks(files, items);
  report(found, "in the store");
  assert.deepEqual(found, []);
});

test("export bodies: OTLP and Agensight receivers get nothing secretlint flags", async (t) => {
  t.mock.method(console, "warn", () => {});
  const items = corpus();
  const otlp = await otlpReceiver();
  const ag = await agensightReceiver();
  try {
    init({ mode: "prod", exporter: "otlp", endpoint: otlp.url, storage: "memory", queue: { batchDelayMs: 0 } });
    await capture(items);
    assert.equal((await flush()).failed, 0);
    init({ mode: "prod", token: "tok-test-12345", endpoint: ag.url, storage: "memory", queue: { batchDelayMs: 0 } });
    await capture(items);
    assert.equal((await flush()).failed, 0);
    assert.ok(otlp.requests.length > 0 && ag.records.length > 0, "both receivers were reached");
    const bodies = [...otlp.calls.map((c, k) => [`otlp-${k}`, c.body]), ...ag.calls.map((c, k) => [`agensight-${k}`, c.body])];
    const found = await leaks(bodies, items);
    report(found, "on the wire");
    assert.deepEqual(found, []);
  } finally {
    await otlp.close();
    await ag.close();
  }
});

test("ordinary text is not masked: prose, code, JSON, UUIDs, hashes, base64 images come out unchanged", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agensight-oracle-"));
  init({ dir });
  for (const text of ORDINARY) span((x) => x, "echo")({ text, list: [text] });
  await flush();
  const spans = storeLines(dir).filter((l) => l.type === "span").map((l) => JSON.parse(l.data.attributes));
  assert.deepEqual(spans.map((a) => a.input[0]), ORDINARY.map((text) => ({ text, list: [text] })));
  assert.deepEqual(spans.map((a) => a.output), ORDINARY.map((text) => ({ text, list: [text] })));
  assert.deepEqual(await findings(ORDINARY.join("\n"), "ordinary"), [], "the ordinary corpus holds no secret");
});
