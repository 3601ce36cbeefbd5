// Reading back what an integration test recorded: a fresh in-memory store per test, the span
// tree as [name, kind, status, parent index], an LLM span's gen_ai attributes.
import { importPackage } from "../support/package.mjs";

const { init, flush, readLocal, trace } = await importPackage();

/** init() with a fresh in-memory store; returns a function that flushes and reads it back. */
export function fresh() {
  init({ storage: "memory" });
  return async () => {
    await flush();
    return readLocal();
  };
}

/** Runs `fn` as the trace "main" on a fresh in-memory store; returns that one trace's record. */
export async function recorded(fn) {
  const read = fresh();
  await trace(fn, "main")();
  const { traces } = await read();
  if (traces.length !== 1) throw new Error(`expected one trace, got ${traces.length}`);
  return traces[0];
}

/** A trace's spans as `[name, kind, status, index of the parent or null]`, in record order. */
export const tree = (t) => t.spans.map((s) => [s.name, s.kind, s.status, s.parent_id && t.spans.findIndex((p) => p.id === s.parent_id)]);

/** A span's `gen_ai.*` attributes. */
export const llmAttrs = (s) => Object.fromEntries(Object.entries(s.attributes).filter(([k]) => k.startsWith("gen_ai.")));
