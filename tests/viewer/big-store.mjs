// A big store written directly in the record format of docs/records.md (not through the SDK:
// a million traces in seconds), for the viewer's scale test and benchmark.
//
// Trace i: named `agent_<i % 50>` (every 100,000th: `needle_<i>`), in session `session_<i / 1000>`
// (a session record opens each), and its root span; every 7th trace failed (its root span is
// an error). Times increase with i. Run alone: `node tests/viewer/big-store.mjs DIR [COUNT]`.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { traceId, spanId } from "../store/lines.mjs";

export const T0 = 1764000000;

/** The name of trace i. */
export const bigName = (i) => (i % 100000 === 0 ? `needle_${i}` : `agent_${i % 50}`);
/** Whether trace i failed. */
export const bigFailed = (i) => i % 7 === 3;

/** The lines of trace i (and of its session's record when i opens one). */
export function bigTrace(i) {
  const id = traceId(i);
  const start = T0 + i * 0.001;
  const end = start + 0.2;
  const s = Math.floor(i / 1000);
  let out = "";
  if (i % 1000 === 0) out += `{"type":"session","data":{"id":"session_${s}","session_name":"chat ${s}","user_id":"u${i % 13}","started_at":${start}}}\n`;
  const error = bigFailed(i) ? `,\\"error.message\\":\\"boom ${i % 7}\\"` : "";
  return (
    out +
    `{"type":"trace","data":{"id":"${id}","name":"${bigName(i)}","started_at":${start},"ended_at":${end},"session_id":"session_${s}","metadata":"{}","total_tokens":${i % 1000}}}\n` +
    `{"type":"span","data":{"id":"${spanId(i, 0)}","trace_id":"${id}","parent_id":null,"name":"${bigName(i)}","kind":"trace","started_at":${start},"ended_at":${end},"duration":0.2,"status":"${bigFailed(i) ? "error" : "ok"}","attributes":"{\\"input\\":[${i}]${error}}"}}\n`
  );
}

/** Writes traces [from, to) to `file` (appending), in 8 MiB writes. */
export function writeBig(file, from, to) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "a");
  try {
    let buf = "";
    for (let i = from; i < to; i++) {
      buf += bigTrace(i);
      if (buf.length > 8 << 20) {
        fs.writeSync(fd, buf);
        buf = "";
      }
    }
    if (buf) fs.writeSync(fd, buf);
  } finally {
    fs.closeSync(fd);
  }
}

/** A fresh store directory holding traces 0..count-1 in `traces.jsonl`. */
export function makeBigStore(dir, count) {
  fs.rmSync(dir, { recursive: true, force: true });
  writeBig(path.join(dir, "traces.jsonl"), 0, count);
  return { dir, file: path.join(dir, "traces.jsonl") };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(process.argv[2] ?? "tests/.scratch/viewer-big");
  const count = Number(process.argv[3] ?? 1000000);
  const t0 = performance.now();
  makeBigStore(dir, count);
  console.log(`${count} traces in ${dir} (${fs.statSync(path.join(dir, "traces.jsonl")).size} bytes) in ${Math.round(performance.now() - t0)} ms`);
}
