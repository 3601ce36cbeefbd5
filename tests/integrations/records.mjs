// Reading back what an integration test recorded: a fresh in-memory store per test, the span
// tree as [name, kind, status, parent index], an LLM span's gen_ai attributes.
import { importPackage } from "../support/package.mjs";

const { init, flush, readLocal } = await importPackage();

/** init() with a fresh in-memory store; returns a function that flushes and reads it back. */
export function fresh() {
  init({ storage: "memory" });
  return async () => {
    await flush();
    return readLocal();
  };
}

/** A trace's spans as `[name, kind, status, index of the parent or null]`, in record order. */
export const tree = (t) => t.spans.map((s) => [s.name, s.kind, s.status, s.parent_id && t.spans.findIndex((p) => p.id === s.parent_id)]);

/** A span's `gen_ai.*` attributes. */
export const llmAttrs = (s) => Object.fromEntries(Object.entries(s.attributes).filter(([k]) => k.startsWith("gen_ai.")));
